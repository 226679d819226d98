"""``make bench``: see :mod:`bench.run` and ``docs/performance.md``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def in_subprocess(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m <module> <args>`` in a fresh process (its memory and its garbage
    collector its own) and return the JSON object it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args[:1])} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
