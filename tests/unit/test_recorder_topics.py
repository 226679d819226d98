"""The recorders' topics that a store's settings may hold keep resolving (issue 17, item 3)."""

from __future__ import annotations

from eventsourcing.utils import resolve_topic

from infra.postgres_recorder import PostgresRecorder
from infra.sqlite_recorder import SQLiteRecorder


def test_the_recorder_topics_of_older_settings_still_resolve() -> None:
    assert resolve_topic("infra.persistence:SQLiteRecorder") is SQLiteRecorder
    assert resolve_topic("infra.persistence:PostgresRecorder") is PostgresRecorder
