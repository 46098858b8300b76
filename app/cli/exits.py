"""The one exit-code table of ``mailsetup`` and the one way a usage error is reported."""

from __future__ import annotations

import sys
from enum import IntEnum


class Exit(IntEnum):
    """Process exit codes of every command."""

    OK = 0  # the check/send/detect worked, the listing was printed
    FAILED = 1  # the server, the network or the store said no: the report says why
    USAGE = 2  # bad command-line input: one line on stderr names the option
    INTERRUPTED = 130  # Ctrl+C (128 + SIGINT)


def usage_error(command: str, message: str) -> int:
    """Print ``mailsetup COMMAND: error: MESSAGE`` as one line on stderr; returns Exit.USAGE."""
    one_line = " ".join(str(message).split())
    print(f"mailsetup {command}: error: {one_line}", file=sys.stderr)
    return Exit.USAGE
