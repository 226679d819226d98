"""A service's store writes events with the orjson transcoder, and rows written before it (by
eventsourcing's JSON transcoder) and after it are read alike, in clear, encrypted and
compressed stores, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from infra.recording import RecordingApplication
from infra.settings import Settings
from infra.store import store_env
from infra.transcoder import OrjsonTranscoder

LIBRARY = get_topic(JSONTranscoder)


class Sample(Aggregate):
    """An aggregate whose events carry every kind of value the services store."""

    @event("Noted")
    def note(self, case_id: UUID, at: datetime, on: date, hours: Decimal, document: Any) -> None:
        pass


def document(n: int) -> dict[str, Any]:
    return {
        "n": n,
        "big": 2**70 + n,
        "negative": -(2**64) - n,
        "ratio": 1e-7 * n,
        "tuple": (UUID(int=n), date(2026, 1, 1) + timedelta(days=n)),
        "nested": [{"at": datetime(2026, 11, 2, 9, n, tzinfo=timezone(timedelta(hours=1)))}],
        "text": 'Åsa ✓ \u2028 "quoted" \\ \n',
        "none": None,
        "cost": Decimal("-0.00"),
    }


def noted(sample: Sample, n: int) -> None:
    sample.note(uuid4(), datetime(2026, 11, 2, 8, n, tzinfo=UTC), date(2026, 11, n + 1),
                Decimal(f"{n}.25"), document(n))  # fmt: skip


@contextmanager
def opened(env: dict[str, str]) -> Iterator[RecordingApplication]:
    app = RecordingApplication(env)
    try:
        yield app
    finally:
        app.close()


def events_of(app: RecordingApplication, sample: UUID) -> list[dict[str, Any]]:
    return [vars(e) for e in app.repository.event_store.get(sample)]


def as_read(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_read(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_read(v) for v in value]
    return value


@pytest.mark.parametrize("sealing", ["clear", "encrypted", "compressed"])
def test_rows_written_before_and_after_the_orjson_transcoder_read_alike(
    store_settings: Settings, sealing: str
) -> None:
    env = store_env(store_settings, "samples", encrypted=sealing == "encrypted")
    if sealing == "compressed":
        env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
    env.pop("AGGREGATE_CACHE_MAXSIZE")
    before, after = Sample(), Sample()
    for n in range(3):
        noted(before, n)
        noted(after, n)
    written = {s.id: s.collect_events() for s in (before, after)}

    with opened({**env, "TRANSCODER_TOPIC": LIBRARY}) as old:
        old.save(*written[before.id])
        assert type(old.mapper.transcoder) is JSONTranscoder
    with opened(env) as new:
        assert type(new.mapper.transcoder) is OrjsonTranscoder
        assert set(new.mapper.transcoder.names) == {"uuid_hex", "decimal_str", "datetime_iso",
                                                    "date_iso"}  # fmt: skip
        new.save(*written[after.id])
        read_new = {s: events_of(new, s) for s in (before.id, after.id)}
    with opened({**env, "TRANSCODER_TOPIC": LIBRARY}) as old:
        read_old = {s: events_of(old, s) for s in (before.id, after.id)}

    for sample, events in written.items():
        assert read_new[sample] == read_old[sample] == [as_read(vars(e)) for e in events]
        recorded = read_new[sample][1]
        assert type(recorded["document"]["big"]) is int
        assert type(recorded["document"]["tuple"][0]) is UUID
        assert type(recorded["on"]) is date and type(recorded["at"]) is datetime


def test_rows_of_either_transcoder_are_the_same_bytes_but_for_a_float_exponent(
    settings: Settings,
) -> None:
    env = store_env(settings, "samples")
    sample = Sample()
    noted(sample, 4)
    events = sample.collect_events()
    with opened({**env, "TRANSCODER_TOPIC": LIBRARY}) as old, opened(env) as new:
        for e in events:
            old_row, new_row = old.mapper.to_stored_event(e), new.mapper.to_stored_event(e)
            assert new_row.state.replace(b"e-7", b"e-07") == old_row.state
