"""Where billing's aggregates were first stored from: their stored topics name this module.

eventsourcing stores every event under its class's topic, and billing's five aggregates were
first stored from here (``services.billing.domain:Session.Logged``, ...). They now live one a
module (:mod:`~services.billing.domain_accounts`, :mod:`~services.billing.domain_session`,
:mod:`~services.billing.domain_cap`, :mod:`~services.billing.domain_settlement`), each class and
event with an explicit ``TOPIC`` equal to its old topic, so new events are written under the same
names. This module imports them so that a process which has not imported them yet still
resolves a stored topic by its module path. Import the aggregates from their own modules;
tests/unit/test_stored_topics.py holds every stored topic.
"""

from __future__ import annotations

from services.billing.domain_accounts import CaseAccount, Worklist
from services.billing.domain_cap import CapAccount
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement

__all__ = ["CapAccount", "CaseAccount", "Session", "Settlement", "Worklist"]
