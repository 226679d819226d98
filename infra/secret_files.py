"""Development secrets kept in files under ``var/keys/``, made by whichever process asks first.

The services start together (``lots up``, the bench's fleets, two instances of one service), so
a secret's file is written aside, then linked into place: the first link wins, and no process
ever reads a file another one is still writing, nor fails because another made it first.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path


def kept_secret(path: Path, make: Callable[[], str]) -> str:
    """The text kept at ``path`` (mode 0600), made with ``make()`` if no process has yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(make())
            with suppress(FileExistsError):  # another process made it first: theirs wins
                os.link(aside, path)
        finally:
            aside.unlink()
    return path.read_text(encoding="utf-8")
