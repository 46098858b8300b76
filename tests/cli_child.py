"""Run the CLI in a child process started by multiprocessing (tests of parallel writers).

With the "forkserver" start method the children are forked from a server that has already imported
the CLI, so twenty of them start in milliseconds instead of paying Python's start-up twenty times.
"""

from __future__ import annotations

import os
import sys


def run_cli(env: dict[str, str], argv: list[str]) -> None:
    """``mailsetup ARGV`` with ``env`` applied; the exit code becomes the process's exit code."""
    os.environ.update(env)
    from app.cli.main import main

    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the child ends right after
    sys.exit(main(argv))
