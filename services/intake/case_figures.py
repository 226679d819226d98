"""What a case shows of the work done for it: minutes, visits, SIP meetings, throughput time.

Read-only figures of :class:`services.intake.domain_case.Case`'s state, mixed into it: no
events here, so the case's stored topics are unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Network work per family: about 13 hours including coordination, pre-meeting, network
#: meeting and follow-up (seed 002 §2).
NETWORK_NORM_MINUTES = 13 * 60


class CaseFigures:
    """The figures of a case, from the state its events set."""

    meetings: dict[str, dict[str, Any]]
    logged_minutes: int
    received_at: datetime
    closed_at: datetime | None

    @property
    def minutes_used(self) -> int:
        return int(sum(m["minutes"] for m in self.meetings.values())) + self.logged_minutes

    @property
    def visits(self) -> int:
        return int(sum(m["client_visits"] for m in self.meetings.values()))

    @property
    def sip_meetings(self) -> int:
        return sum(1 for m in self.meetings.values() if m["kind"] == "sip_meeting")

    def throughput_days(self) -> int | None:
        """Days from receipt to closure: the seed's throughput time per family."""
        if self.closed_at is None:
            return None
        return (self.closed_at - self.received_at).days
