"""What a service writes to its log during a test, to scan for personal data and tracebacks.

The services log through structlog, configured as ``serve()`` configures it (here JSON lines on
stderr, at DEBUG so that nothing is filtered away), and through the standard library (uvicorn,
Starlette, FastAPI). :class:`ServiceLog` gathers both: what reached stdout and stderr, and every
standard-library record formatted as a handler would write it, tracebacks and chained
exceptions included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pytest
import structlog

from infra.logging import configure

#: The loggers :func:`infra.logging.configure` sets a level on (restored afterwards).
TOUCHED = ("faststream", "faststream.access", "uvicorn", "uvicorn.error")
#: The test's own HTTP clients log the URLs they call: not the service's log.
CLIENTS = ("httpx", "httpcore", "urllib3", "requests")


class ServiceLog:
    def __init__(self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]):
        self.caplog = caplog
        self.capsys = capsys
        self.written: list[str] = []
        self.formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")

    @classmethod
    @contextmanager
    def capturing(
        cls, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
    ) -> Iterator[ServiceLog]:
        saved = structlog.get_config()
        levels = {name: logging.getLogger(name).level for name in TOUCHED}
        configure("DEBUG", json=True)
        caplog.set_level(logging.DEBUG)
        try:
            yield cls(caplog, capsys)
        finally:
            structlog.configure(**saved)
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)

    def records(self) -> list[logging.LogRecord]:
        return [r for r in self.caplog.records if r.name.split(".")[0] not in CLIENTS]

    def text(self) -> str:
        """Everything logged so far: structlog's lines and the formatted stdlib records."""
        out = self.capsys.readouterr()
        self.written += [out.out, out.err]
        return "\n".join([*self.written, *(self.formatter.format(r) for r in self.records())])

    def lines(self) -> list[str]:
        return [line for line in self.text().splitlines() if line.strip()]

    def assert_clean(self, secrets: Iterable[str]) -> None:
        """No traceback, and none of ``secrets`` (personal numbers, names) anywhere."""
        text = self.text()
        assert "Traceback" not in text, text[-4000:]
        assert not [r for r in self.records() if r.exc_info], text[-4000:]
        leaked = sorted({s for s in secrets if s and s in text})
        assert not leaked, f"{len(leaked)} secrets in the log, e.g. {leaked[0]!r}"
