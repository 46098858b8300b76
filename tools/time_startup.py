"""Compare start-up time of the frozen bundle and ``python -m app`` (median of several runs).

    python tools/time_startup.py [--runs 15] [--bundle dist/mailsetup/mailsetup] [-- ARGS...]

Default ARGS: --version. Each command runs once untimed first (so both are measured with a warm
file cache; the first, cold run is reported separately).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return (time.perf_counter() - t0) * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--bundle", default=str(ROOT / "dist" / "mailsetup" / "mailsetup"))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("args", nargs="*", default=["--version"])
    ns = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    commands = {"frozen": [ns.bundle, *ns.args], "python -m app": [ns.python, "-m", "app", *ns.args]}
    medians = {}
    for name, cmd in commands.items():
        first = _time(cmd)
        runs = [_time(cmd) for _ in range(ns.runs)]
        medians[name] = statistics.median(runs)
        print(
            f"{name:14} first {first:7.0f} ms   median {medians[name]:6.0f} ms   "
            f"min {min(runs):6.0f}   max {max(runs):6.0f}   ({ns.runs} runs: {' '.join(cmd)})"
        )
    print(f"ratio frozen / python: {medians['frozen'] / medians['python -m app']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
