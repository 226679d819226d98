"""How a service's application saves: through the caching repository under its lock, with
the personal-data keys staged for the events, the case index, and a wake-up for the relay.

The base of :class:`infra.application.ServiceApplication` and of its parts (commands in
:mod:`infra.commands`, batches in :mod:`infra.batches`, the outbox in :mod:`infra.outbox`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Recording, Transcoding

from infra.access import CaseAccess
from infra.pii import StagedKeys
from infra.postgres_recorder import PostgresRecorder
from infra.sqlite_recorder import SQLiteRecorder
from infra.unit_of_work import AppLock, CachingRepository


class DateAsISO(Transcoding):
    """eventsourcing's JSON transcoder knows datetimes but not dates."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class RecordingApplication(Application[UUID]):
    """An event-sourced application that saves as every service's must (see the module)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(dict(env) if env is not None else None)
        # eventsourcing is synchronous and its SQLite connection is shared: one batch at a time.
        self.lock = AppLock()
        if isinstance(self.repository, CachingRepository):
            self.repository.lock = self.lock
        #: New persons' keys, saved with the events sealed with them (a service holding
        #: personal data sets it: see :class:`infra.pii.StagedKeys`).
        self.keys: StagedKeys | None = None
        #: Called after every save, from whichever thread saved: the runtime wakes its outbox
        #: relay with it, so what any command records (HTTP, CLI in-process, periodic job) is
        #: published at once instead of at the relay's next poll.
        self.after_save: Callable[[], None] | None = None

    def construct_repository(self) -> Repository[UUID]:
        """The repository, without the library's deep copy of cached aggregates (see
        :class:`CachingRepository` for how the cache is kept right instead)."""
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CachingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=True,
            deepcopy_from_cache=False,
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def store(self) -> SQLiteRecorder | PostgresRecorder:
        return cast(SQLiteRecorder | PostgresRecorder, self.recorder)

    # --- the case index, for auditors ----------------------------------------------------------

    def case_of(self, event: DomainEventProtocol[UUID]) -> UUID | None:
        """The case an event belongs to, for the case index; None if it belongs to none."""
        if isinstance(event, CaseAccess.Event):
            return None  # looks at a case are listed by `lots audit access`, not as its history
        case_id = getattr(event, "case_id", None)
        return case_id if isinstance(case_id, UUID) else None

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        cases = [self.case_of(e) for e in processing_event.events]
        if any(cases):
            processing_event.saved_kwargs["cases"] = [str(c) if c else None for c in cases]
        staged = self.keys.take() if self.keys is not None else {}
        if staged:
            processing_event.saved_kwargs["subject_keys"] = staged
        repository = self.repository
        try:
            recordings = super()._record(processing_event)
        except BaseException:
            if isinstance(repository, CachingRepository):
                repository.forget(processing_event.aggregates)
            raise
        if isinstance(repository, CachingRepository):
            repository.remember(processing_event.aggregates)
        if self.after_save is not None and recordings:
            self.after_save()
        return recordings

    def case_events(self, case_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """Every event of this store that belongs to the case, in log order."""
        with self.lock:
            stored = self.store.case_stored(str(case_id))
        return [self.mapper.to_domain_event(event) for _, event in stored]
