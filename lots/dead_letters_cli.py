"""``lots dead-letters``: what an operator does after every dead letter, without redis-cli.

``list`` and ``show`` read ``<stream>.dead`` as the operator: references, field names and sizes,
the error, never a value. ``retry`` sends the original entry back to its stream (a new entry, the
same message ``id``) as the stream's own writer; ``handled`` closes it with a reason. Both are
recorded in the ``deadletters`` store (:mod:`infra.dead_letter_log`), shown by ``lots status``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import redis
import typer

from infra.dead_letter_log import DeadLetterLog, open_log
from infra.dead_letters import (
    ENTRY_ID,
    DeadLetter,
    DeadLetterError,
    consumed_streams,
    find,
    original_fields,
    original_stream,
    raw_fields,
    read,
    reference,
    send_back,
    writer,
)
from infra.redis import RedisUnavailable, connect
from infra.redis_passwords import login
from infra.settings import Settings
from lots.dead_letters_view import as_row, detail, plural, summary
from lots.text import escaped

dead_letters_app = typer.Typer(
    help="Dead letters: list them, show one, send one back once its cause is fixed, or mark it "
    "handled. Every action is recorded and shown by lots status.",
    no_args_is_help=True,
)

StreamOption = Annotated[
    str | None,
    typer.Option("--stream", help="only this stream's dead letters (intake.events or its .dead)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
ById = Annotated[str, typer.Argument(metavar="ID", help="the dead letter's id on its .dead stream")]
By = Annotated[str | None, typer.Option("--by", help="who does it (default: the logged-in user)")]
Reason = Annotated[str, typer.Option("--reason", help="why: the cause and what was done about it")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:
        raise _fail(f"bad settings: {exc}", 2) from exc


def _streams(settings: Settings, stream: str | None) -> list[str]:
    known = consumed_streams(settings)
    if stream is None:
        return known
    if original_stream(stream) not in known:
        raise _fail(f"no stream {stream!r} is consumed here; one of: {', '.join(known)}", 2)
    return [original_stream(stream)]


@contextmanager
def _redis(settings: Settings, user: str) -> Iterator[redis.Redis]:
    """A client of the Redis the services use, logged in as ``user`` (docs/redis-acl.md)."""
    from lots.status import redis_url

    try:
        url = redis_url(settings)
    except RedisUnavailable as exc:
        raise _fail(str(exc)) from exc
    as_user = login(settings, url, user)
    client = connect(as_user, decode_responses=True)
    try:
        yield client
    except (redis.AuthenticationError, redis.exceptions.NoPermissionError) as exc:
        name = as_user.redis_username or "default"
        raise _fail(
            f"Redis refuses user {name} ({exc}); this step needs {user}'s rights: "
            "see docs/operations.md, Dead letters"
        ) from exc
    except redis.RedisError as exc:
        raise _fail(f"Redis: {exc}") from exc
    finally:
        client.close()


@contextmanager
def _log(settings: Settings, *, create: bool = True) -> Iterator[DeadLetterLog | None]:
    log = open_log(settings, create=create)
    try:
        yield log
    finally:
        if log is not None:
            log.close()


def _find(settings: Settings, dead_id: str, stream: str | None) -> DeadLetter:
    malformed = not ENTRY_ID.fullmatch(dead_id)
    with _redis(settings, "operator") as client:
        try:
            return find(client, settings.stream_prefix, _streams(settings, stream), dead_id)
        except DeadLetterError as exc:
            raise _fail(str(exc), 2 if malformed else 1) from exc


@dead_letters_app.command("list")
def list_letters(stream: StreamOption = None, as_json: JsonOption = False) -> None:
    """Every dead letter, per stream: its error, attempts, when, reference and state."""
    settings = _settings()
    streams = _streams(settings, stream)
    with _redis(settings, "operator") as client:
        letters = read(client, settings.stream_prefix, streams)
    with _log(settings, create=False) as log:
        rows = [as_row(letter, log.state(letter) if log else "open") for letter in letters]
    if as_json:
        typer.echo(json.dumps({"dead_letters": rows}, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no dead letters")
        return
    for name in dict.fromkeys(row["dead_stream"] for row in rows):
        mine = [row for row in rows if row["dead_stream"] == name]
        opened = sum(row["state"] == "open" for row in mine)
        typer.echo(f"{name}: {plural(len(mine), 'dead letter')}, {opened} open")
        for row in mine:
            for line in summary(row):
                typer.echo(escaped(line))


def _kept(settings: Settings, letter: DeadLetter) -> dict[str, str]:
    """The referral intake kept in its encrypted store for ``letter``: its original fields."""
    from lots.stores import open_store
    from services.intake.domain import DeadReferral

    ref = letter.kept_ref
    if ref is None:
        raise _fail(f"dead letter {letter.id} names no referral kept by intake")
    intake = open_store(settings, "intake")
    try:
        kept: object = intake.repository.get(ref)
    except Exception as exc:
        raise _fail(f"intake's store does not have the referral {ref}: {exc}") from exc
    finally:
        intake.close()
    if not isinstance(kept, DeadReferral):
        raise _fail(f"{ref} in intake's store is not a dead-lettered referral")
    return dict(kept.fields)


@dead_letters_app.command("show")
def show(dead_id: ById, stream: StreamOption = None, as_json: JsonOption = False) -> None:
    """One dead letter in detail: fields' names and sizes (never values), error, history."""
    settings = _settings()
    letter = _find(settings, dead_id, stream)
    with _log(settings, create=False) as log:
        record = log.record_of(letter) if log else None
    row = as_row(letter, record.state if record else "open")
    sizes = letter.sizes
    if letter.kept_ref is not None:
        kept = _kept(settings, letter)
        sizes = {k: len(v) for k, v in kept.items()}
        row["reference"] = {**reference(kept), **letter.reference}
    row["fields"] = sizes
    row["history"] = record.actions if record else []
    if as_json:
        typer.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    for line in detail(row):
        typer.echo(escaped(line))


def _who(by: str | None, reason: str) -> str:
    if by is None:
        try:
            by = getpass.getuser()
        except Exception:  # no login name (a container without a user entry): ask for it
            by = ""
    who = by.strip()
    if not who:
        raise _fail("--by must name who does it", 2)
    if not reason.strip():
        raise _fail("--reason must say why", 2)
    return who


@dead_letters_app.command("retry")
def retry(
    dead_id: ById,
    reason: Reason,
    by: By = None,
    stream: StreamOption = None,
) -> None:
    """Send the entry back to its stream (a new entry, the same message id) once its cause is
    fixed; a consumer that had already done it skips it."""
    settings = _settings()
    who = _who(by, reason)
    letter = _find(settings, dead_id, stream)
    with _log(settings) as log:
        assert log is not None
        try:
            log.check_retry(letter)
        except DeadLetterError as exc:
            raise _fail(str(exc)) from exc
        if letter.kept_ref is not None:
            fields = _kept(settings, letter)
        else:
            with _redis(settings, "operator") as client:
                fields = original_fields(raw_fields(client, settings.stream_prefix, letter))
        with _redis(settings, writer(letter.stream)) as client:
            try:
                sent_as = send_back(client, settings.stream_prefix, letter.stream, fields)
            except DeadLetterError as exc:
                raise _fail(str(exc)) from exc
        log.retried(letter, who, reason.strip(), sent_as)
    typer.echo(
        escaped(
            f"dead letter {letter.id} sent back to {letter.stream} as entry {sent_as}; "
            f"recorded as retried by {who}"
        )
    )


@dead_letters_app.command("handled")
def handled(
    dead_id: ById,
    reason: Reason,
    by: By = None,
    stream: StreamOption = None,
) -> None:
    """Mark the dead letter handled, with the reason: it no longer counts as open."""
    settings = _settings()
    who = _who(by, reason)
    letter = _find(settings, dead_id, stream)
    with _log(settings) as log:
        assert log is not None
        try:
            log.handled(letter, who, reason.strip())
        except DeadLetterError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(escaped(f"dead letter {letter.id} of {letter.stream} marked handled by {who}"))
