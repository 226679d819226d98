"""What the quality registers' and the follow-up's HTTP routes share: the field types of their
bodies, and running a command off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio
from pydantic import Field

T = TypeVar("T")
By = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str | None, Field(max_length=4000)]


async def run(command: Callable[[], T]) -> T:
    """The command in a worker thread; a refusal carries its own status (infra.http)."""
    return await anyio.to_thread.run_sync(command)
