"""Structured logging for every process, and the one way an error is put into words.

Log calls pass ids and counts, never message data. What a log call cannot control is what an
exception carries: a traceback's local variables (structlog's development renderer shows them
when ``rich`` is installed) hold decoded referrals, and some libraries' messages echo their
input (pydantic's, a ``KeyError``'s). So tracebacks are rendered here without locals, the
messages of exceptions that are not ours are left out, and anything shaped like a valid
personal number is masked in every line, structlog's and the standard library's alike.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from personnummer import personnummer
from pydantic import ValidationError

from events.codec import describe

#: A personal or coordination number as written: 10 or 12 digits, with or without a separator.
_PERSONAL_NUMBER = re.compile(r"(?<![\w-])(?:\d{2})?\d{6}[-+]?\d{4}(?![\w-])")
#: Packages whose exception messages are written by this project and say no personal data.
_OWN = ("events.", "infra.", "services.", "lots.", "eventsourcing.persistence")
MASK = "<personal number>"
_WRITTEN_RAISE = re.compile(r"\s*raise \w+\(f?[\"']")
_ROOT = str(Path(__file__).resolve().parents[1]) + os.sep

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def redact(text: str) -> str:
    """``text`` with every valid personal or coordination number masked."""
    return _PERSONAL_NUMBER.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    return MASK if personnummer.valid(match.group(0)) else match.group(0)


def describe_error(exc: BaseException) -> str:
    """An exception in words that are safe for a log, a dead letter or a status page.

    A validation error lists locations and messages, never input; an error of our own (of our
    types, or raised by a ``raise`` of ours) keeps its message, which names ids and rules, with
    personal numbers masked all the same; any other error is named by its type and where it
    was raised, since its message may hold whatever it was given."""
    name = type(exc).__name__
    if isinstance(exc, ValidationError):
        return f"{name}: {describe(exc)}"
    if type(exc).__module__.startswith(_OWN) or _raised_here(exc):
        return redact(f"{name}: {exc}")
    where = _innermost(exc.__traceback__)
    return f"{name} (message withheld){where}"


def _raised_here(exc: BaseException) -> bool:
    """Whether a ``raise`` of this project with a written message raised ``exc``
    (``raise ValueError("grace days must not be negative")``): its words are ours. Not a call
    that failed on its input (``int(text)`` echoes ``text``), nor a raise of a value."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if not frames:
        return False
    last = frames[-1]
    return last.filename.startswith(_ROOT) and bool(_WRITTEN_RAISE.match(last.line or ""))


def _innermost(tb: TracebackType | None) -> str:
    frames = traceback.extract_tb(tb) if tb is not None else []
    if not frames:
        return ""
    last = frames[-1]
    return f" at {last.filename.rsplit('/', 2)[-1]}:{last.lineno} in {last.name}"


def format_exception(exc_info: ExcInfo | tuple[None, None, None]) -> str:
    """A traceback without local variables, each message as :func:`describe_error` gives it."""
    exc = exc_info[1]
    if exc is None:
        return ""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain and len(chain) < 8:
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    blocks = []
    for link in reversed(chain):
        frames = "".join(traceback.format_list(traceback.extract_tb(link.__traceback__)))
        blocks.append(f"Traceback (most recent call last):\n{frames}{describe_error(link)}")
    return "\n\nThe above led to:\n\n".join(blocks)


def _exception(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: ``exc_info`` becomes a safe ``exception`` text."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        if exc_info is True or not isinstance(exc_info, tuple):
            exc_info = sys.exc_info()
        event["exception"] = format_exception(exc_info)
    return event


def _redacted(_: Any, __: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor: no value of a line carries a personal number."""
    return {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}


def _named(service: str | None) -> structlog.types.Processor:
    """structlog processor: every line names the service (the process) that wrote it."""

    def name(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if service is not None:
            event.setdefault("service", service)
        return event

    return name


def _renderer(json: bool) -> structlog.types.Processor:
    if json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )


def _stamped(service: str | None) -> list[structlog.types.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _named(service),
    ]


def processors(
    *, json: bool = False, service: str | None = None
) -> list[structlog.types.Processor]:
    """structlog's chain for every process: a line as text or JSON naming ``service``,
    tracebacks made safe."""
    return [*_stamped(service), _exception, _redacted, _renderer(json)]


class SafeFormatter(structlog.stdlib.ProcessorFormatter):
    """The standard library's lines (uvicorn's, a library's) rendered as structlog's are:
    stamped, naming the service, tracebacks and personal numbers made safe."""

    def __init__(self, *, json: bool = False, service: str | None = None) -> None:
        super().__init__(
            foreign_pre_chain=_stamped(service),
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _exception,
                _redacted,
                _renderer(json),
            ],
        )


class NotPolling(logging.Filter):
    """Leaves out uvicorn's access lines of health checks and metrics scrapes, which a
    supervisor, a status page or Prometheus ask for many times a minute; keeps every other
    request's line."""

    PATHS = ("/health/", "/metrics")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            return not args[2].startswith(self.PATHS)
        return True


def configure(level: str = "INFO", *, json: bool = False, service: str | None = None) -> None:
    """Logging of a process: structlog's lines and the standard library's alike, each naming
    ``service`` (the process: a service's name, ``up``, ``demo``, a command)."""
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(SafeFormatter(json=json, service=service))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.captureWarnings(True)  # a library's warning is a line like the others
    for name in ("faststream", "faststream.access", "uvicorn", "uvicorn.access"):
        logging.getLogger(name).setLevel(level.upper())
    # uvicorn's start-up chatter, and httpx's line per request (the supervisor's and the status
    # page's health polling would be most of an operator's log), only from WARNING.
    quiet = max(logging.WARNING, logging.getLevelName(level.upper()))
    for name in ("uvicorn.error", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NotPolling) for f in access.filters):
        access.addFilter(NotPolling())
    structlog.configure(
        processors=processors(json=json, service=service),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was configured:
    a test runner swaps the stream, and a captured one may be closed by then."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()
