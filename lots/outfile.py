"""``--out FILE`` the same way for every command: a directory, or a file in a directory that
does not exist, is refused with a sentence saying so and exit 2, before anything is computed
or written; a write that fails anyway (permissions, a full disk) says why, never a traceback."""

from __future__ import annotations

from pathlib import Path

import typer


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def check(out: Path) -> None:
    """Refuse ``out`` unless it can be a file: not a directory, in a directory that exists."""
    if out.is_dir():
        raise _refuse(f"cannot write {out}: it is a directory; name a file in it, e.g. {out / 'x'}")
    if not out.parent.is_dir():
        where = "is not a directory" if out.parent.exists() else "does not exist"
        raise _refuse(f"cannot write {out}: the directory {out.parent} {where}")


def write(out: Path, content: str | bytes) -> None:
    """Write ``content`` to ``out`` (text as UTF-8), checked as :func:`check` does."""
    check(out)
    try:
        if isinstance(content, bytes):
            out.write_bytes(content)
        else:
            out.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise _refuse(f"cannot write {out}: {exc.strerror or exc}") from exc
