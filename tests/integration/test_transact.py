"""The one way every service runs a command (``ServiceApplication.transact``), on a real store
(SQLite, and PostgreSQL where it answers) shared by two instances of one application."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event

from infra.application import ServiceApplication
from infra.commands import CONFLICT_BACKOFF
from infra.settings import Settings
from infra.store import store_env
from infra.unit_of_work import UnitOfWork


class Tally(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Added")
    def add(self) -> None:
        self.count += 1


class Tallies(ServiceApplication):
    name = "tallies"


class Refused(Exception):
    pass


@pytest.fixture
def apps(store_settings: Settings) -> Iterator[tuple[Tallies, Tallies]]:
    mine, other = (
        Tallies(store_env(store_settings, "tallies")),
        Tallies(store_env(store_settings, "tallies")),
    )
    yield mine, other
    mine.close()
    other.close()


def stored_tally(app: Tallies) -> UUID:
    tally = Tally()
    app.transact(lambda uow: uow.add(tally))
    return tally.id


def bump(app: Tallies, tally_id: UUID) -> None:
    """Another instance adds one to the tally, and saves it first."""

    def add(uow: UnitOfWork) -> None:
        tally = uow.get(tally_id, Tally)
        assert tally is not None
        tally.add()

    app.transact(add)


def count(app: Tallies, tally_id: UUID) -> int:
    def read(uow: UnitOfWork) -> int:
        tally = uow.get(tally_id, Tally)
        assert tally is not None
        return tally.count

    return app.transact(read)


def test_a_command_beaten_to_its_aggregate_runs_again_from_a_fresh_read(
    apps: tuple[Tallies, Tallies],
) -> None:
    mine, other = apps
    tally_id = stored_tally(mine)
    seen: list[int] = []

    def add(uow: UnitOfWork) -> int:
        tally = uow.get(tally_id, Tally)
        assert tally is not None
        seen.append(tally.count)
        if len(seen) == 1:
            bump(other, tally_id)
        tally.add()
        return tally.count

    assert mine.transact(add) == 2
    assert seen == [0, 1]
    assert count(other, tally_id) == 2


def test_a_command_always_beaten_gives_up_with_the_services_refusal(
    apps: tuple[Tallies, Tallies],
) -> None:
    mine, other = apps
    tally_id = stored_tally(mine)
    attempts: list[int] = []

    def add(uow: UnitOfWork) -> None:
        tally = uow.get(tally_id, Tally)
        assert tally is not None
        attempts.append(tally.count)
        bump(other, tally_id)
        tally.add()

    with pytest.raises(Refused):
        mine.transact(add, busy=lambda: Refused("kept changing"))
    assert len(attempts) == CONFLICT_BACKOFF.attempts
    assert count(mine, tally_id) == CONFLICT_BACKOFF.attempts  # only the other's additions


def test_a_failed_command_leaves_nothing_behind(apps: tuple[Tallies, Tallies]) -> None:
    mine, _ = apps
    tally_id = stored_tally(mine)

    def add_then_fail(uow: UnitOfWork) -> None:
        tally = uow.get(tally_id, Tally)
        assert tally is not None
        tally.add()
        raise Refused("no")

    with pytest.raises(Refused):
        mine.transact(add_then_fail)
    assert count(mine, tally_id) == 0


def test_a_refusal_read_while_another_wrote_is_confirmed_from_a_fresh_read(
    apps: tuple[Tallies, Tallies],
) -> None:
    mine, other = apps

    def refuse_an_empty(tally_id: UUID) -> Callable[[UnitOfWork], int]:
        def refuse(uow: UnitOfWork) -> int:
            tally = uow.get(tally_id, Tally)
            assert tally is not None
            if tally.count == 0:
                bump(other, tally_id)  # meanwhile, another instance fills it
                raise Refused("empty")
            return tally.count

        return refuse

    with pytest.raises(Refused):  # not to be confirmed: the refusal stands
        mine.transact(refuse_an_empty(stored_tally(mine)))
    assert mine.transact(refuse_an_empty(stored_tally(mine)), confirm=(Refused,)) == 1
