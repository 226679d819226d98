"""The event-store recorders under the topics a store's settings name them by.

``APPLICATION_RECORDER_TOPIC`` is a stored ``module:Class`` path: settings written when the
recorders lived here name ``infra.persistence:SQLiteRecorder`` and
``infra.persistence:PostgresRecorder``, and those keep resolving through this module. The
recorders live in :mod:`infra.sqlite_recorder` and :mod:`infra.postgres_recorder`, what they
share in :mod:`infra.recorder_rows`; import them from there.
"""

from infra.postgres_recorder import PostgresRecorder
from infra.sqlite_recorder import SQLiteRecorder

__all__ = ["PostgresRecorder", "SQLiteRecorder"]
