"""A second process taking turns with the test: ``python -m tests.support.turns_holder ENV``.

ENV is the JSON of a store's environment (:func:`infra.store.store_env`). The process says
``busy`` if another holds the turn, waits for it, says ``held``, and gives it up when a line
arrives on its input (or it is killed).
"""

from __future__ import annotations

import json
import sys

from infra.turns import turns_for


def main() -> None:
    turns = turns_for(json.loads(sys.argv[1]))
    assert turns is not None
    if not turns.try_acquire():
        print("busy", flush=True)
        turns.acquire()
    print("held", flush=True)
    sys.stdin.readline()
    turns.release()
    print("released", flush=True)
    turns.close()


if __name__ == "__main__":
    main()
