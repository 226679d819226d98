"""What billing refuses, and why: the errors its commands raise before anything is recorded.

Each is a :class:`~infra.refusals.Refused` with the HTTP status it answers with. Kept apart
from billing's aggregates (:mod:`services.billing.domain_session`, ...), which raise them, so
that what only refuses needs none of the aggregates.
"""

from __future__ import annotations

from infra.refusals import Refused


class BillingError(Refused, ValueError):
    """A command that cannot be carried out as given; the text says what was wrong."""

    status = 400


class NotFound(BillingError):
    """The case, session or month named is not known to billing."""

    status = 404


class Conflict(BillingError):
    """The command contradicts what is recorded (already decided, already recorded, ...)."""

    status = 409


class MonthClosed(Conflict):
    """A closed month never changes."""
