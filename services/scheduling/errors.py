"""Scheduling's errors: each says what was wrong, and its kind decides the HTTP status."""

from __future__ import annotations

from infra.refusals import Refused


class SchedulingError(Refused):
    """A command that cannot be carried out; the text is safe to show to the caller."""

    status = 400


class NotFound(SchedulingError):
    status = 404


class Conflict(SchedulingError):
    """The command contradicts the schedule as it stands (a taken time, a meeting held)."""

    status = 409


class Invalid(SchedulingError):
    """The command is well-formed but breaks a rule (a kind the programme has no use for)."""

    status = 422


class UnknownCase(NotFound):
    pass


class UnknownMeeting(NotFound):
    pass


class UnknownStaff(NotFound):
    pass


class TimeTaken(Conflict):
    """A staff member already has a booking at that time."""


class OverCapacity(Conflict):
    pass


class HeldElsewhere(Conflict):
    """A staff member is already recorded as holding another meeting at some of those minutes;
    the text names that meeting."""


class MeetingClosed(Conflict):
    """The meeting was already held, cancelled or missed."""


class StaffAlreadyRegistered(Conflict):
    pass


class BusyElsewhere(Conflict):
    """The schedule changed under a command too many times in a row; it may be sent again."""


class NotBookable(Invalid):
    """The time is outside working time, on a day off, or in the past."""


class WrongKind(Invalid):
    pass


class WrongStaff(Invalid):
    pass
