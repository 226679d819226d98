"""The one base of every refusal a service answers over HTTP: the class carries its status.

A domain raises a subclass of :class:`Refused` and knows nothing of the web; the one exception
handler of :mod:`infra.http` answers it with ``status`` and ``detail``. The text of a refusal is
safe to show to the caller (no personal data), as scheduling's errors were first written.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A command or question that cannot be answered as asked; ``status`` is its HTTP status."""

    status: int = 400

    def http_status(self) -> int:
        """The status of this refusal; a class whose status depends on the case overrides it."""
        return self.status

    def detail(self) -> Any:
        """What the answer's ``detail`` says: the refusal's sentence unless a class says more."""
        return str(self)
