"""Which referral stream may carry which source: a source is bound to its writer on Redis.

A source with a stream of its own (``LOTS_INTAKE_SOURCES``) is the only one its ACL user may
write (infra/acl.py), so an entry there speaks for that source alone. An entry is refused, and
dead-lettered on its own stream's ``.dead`` with the reason, when

* on ``intake.referrals.<source>``, its ``data.source`` is another source (``source_mismatch``);
* on the shared ``intake.referrals``, its source has a stream of its own
  (``source_has_own_stream``), or the shared stream is closed (``shared_stream_closed``,
  ``LOTS_INTAKE_SHARED_STREAM=false``);
* on any referral stream, it is not a referral (``not_a_referral``): the other messages intake
  reads come from the services' own streams.

A refused entry is recorded under no ``(source, referral_id)`` key, so that nobody can take
another source's referral ids first; its content is kept in intake's encrypted store like any
dead-lettered referral. The messages name configured streams only, never what the entry said.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import Settings
from infra.topology import REFERRALS, is_referral_stream, referral_stream, source_of


@dataclass(frozen=True)
class StreamSources:
    """The sources with streams of their own, and whether the shared stream is open."""

    own: frozenset[str] = frozenset()
    shared: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> StreamSources:
        return cls(frozenset(settings.intake_sources), settings.intake_shared_stream)

    def refusal(self, stream: str, source: object) -> str | None:
        """Why an entry on ``stream`` claiming ``source`` is refused; None if it is not.

        ``source`` is None for a message that is not a referral."""
        if not is_referral_stream(stream):
            return None
        if not isinstance(source, str):
            return f"not_a_referral: {stream} carries SubmitReferral entries only"
        owner = source_of(stream)
        if owner is not None:
            if source != owner:
                return (
                    f"source_mismatch: {stream} carries the referrals of source {owner} only; "
                    "data.source names another"
                )
            return None
        assert stream == REFERRALS
        if not self.shared:
            return (
                f"shared_stream_closed: {REFERRALS} takes no referrals "
                "(LOTS_INTAKE_SHARED_STREAM=false); send on intake.referrals.<source>"
            )
        if source in self.own:
            return (
                f"source_has_own_stream: this source sends on {referral_stream(source)}, "
                f"not on {REFERRALS}"
            )
        return None
