"""Development secrets made by processes starting together: one secret, whole, for all.

Two instances of intake started at once on a new ``var/`` (the bench's scale-out) used to race
for ``var/keys/intake.key``: the loser died of ``FileExistsError`` or read the file half
written. Here eight processes ask at the same moment, round after round, on a fresh directory.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from infra.dev_tokens import dev_tokens
from infra.redis_passwords import dev_password
from infra.settings import Settings
from infra.store import cipher_key

PROCESSES = 8
ROUNDS = 12


def _ask(var: str, barrier: Any, which: str) -> str:
    settings = Settings(var_dir=Path(var))
    barrier.wait()
    if which == "cipher":
        return cipher_key(settings)
    if which == "redis":
        return dev_password(settings, "intake")
    return repr(sorted(dev_tokens(settings).items()))


@pytest.mark.parametrize("which", ["cipher", "redis", "tokens"])
def test_processes_starting_together_make_one_whole_secret(tmp_path: Path, which: str) -> None:
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager, context.Pool(PROCESSES) as pool:
        for n in range(ROUNDS):
            var = tmp_path / f"var-{n}"
            barrier = manager.Barrier(PROCESSES)
            seen = pool.starmap(_ask, [(str(var), barrier, which)] * PROCESSES)
            assert seen[0], "an empty secret: a file read while another process wrote it"
            assert set(seen) == {seen[0]}, f"round {n}: {len(set(seen))} different secrets"
            made = [p for p in (var / "keys").rglob("*") if p.is_file()]
            assert len(made) == 1, f"round {n}: {made}"  # no file written aside is left
            assert made[0].stat().st_mode & 0o777 == 0o600
