"""Runs unmodified marge-bot with its fixed waits scaled to the sandbox's simulated clock.

Executed by marge's own venv python (never imported by the harness):
``python marge_launcher.py SPEED [marge options...]``. marge sleeps 30 s between its loops,
10 s between CI polls and 2-5 s in a few other places; on a clock running SPEED times faster
than real time those waits would be SPEED times longer than on real CI, so every
``time.sleep(s)`` becomes ``time.sleep(s / SPEED)``. marge's own code is not changed.
"""

import sys
import time
from typing import SupportsIndex

_real_sleep = time.sleep


def main() -> None:
    speed = float(sys.argv[1])

    def scaled_sleep(seconds: float | SupportsIndex) -> None:
        _real_sleep(max(0.0, float(seconds)) / speed)

    time.sleep = scaled_sleep
    # Python put this file's folder first on the path; marge's package must win over it.
    sys.path = [entry for entry in sys.path[1:] if entry]
    sys.argv = ["marge", *sys.argv[2:]]
    from marge.__main__ import run

    sys.exit(run())


if __name__ == "__main__":
    main()
