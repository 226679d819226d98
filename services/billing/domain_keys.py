"""The ids billing's aggregates are keyed under: a namespace, and the one worklist's id."""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/billing")
WORKLIST_ID = uuid5(NAMESPACE, "worklist")
