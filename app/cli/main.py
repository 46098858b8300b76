"""Entry point of ``mailsetup``: no arguments opens the wizard, a subcommand runs headless."""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import sys
from typing import Any, NoReturn

from app import __version__
from app.cli.exits import Exit

log = logging.getLogger(__name__)

# Each module defines ``register(subparsers)``; its parsers set ``func(args) -> int``.
COMMAND_MODULES = (
    "app.cli.commands.check",  # check, send
    "app.cli.commands.detect",  # detect
    "app.cli.commands.providers",  # providers
    "app.cli.commands.profiles",  # profiles ...
    "app.cli.commands.sandbox",  # sandbox
    "app.cli.commands.oauth",  # oauth login, logout, guide
    "app.cli.commands.report",  # report
    "app.cli.commands.explain",  # explain
    "app.cli.commands.audit",  # audit
)


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (``mailsetup send: error: argument --timeout: ...``), exit 2.

    Abbreviated options are off, so an error always names the option as it is spelled in --help.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(message.split())
        self.exit(Exit.USAGE, f"{self.prog}: error: {one_line} (see '{self.prog} --help')\n")


# which module registers which command: a run imports only its own command's module (start-up time)
COMMAND_OWNERS = {
    "check": "app.cli.commands.check",
    "send": "app.cli.commands.check",
    "detect": "app.cli.commands.detect",
    "providers": "app.cli.commands.providers",
    "profiles": "app.cli.commands.profiles",
    "sandbox": "app.cli.commands.sandbox",
    "oauth": "app.cli.commands.oauth",
    "report": "app.cli.commands.report",
    "explain": "app.cli.commands.explain",
    "audit": "app.cli.commands.audit",
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand, or only the one ``argv`` names (it is all that run needs)."""
    parser = Parser(
        prog="mailsetup",
        description="Set up and verify an SMTP mailbox. Without a command, opens the setup wizard.",
    )
    parser.add_argument("--version", action="version", version=f"mailsetup {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation without a display (catalogue, translations, sandbox check and send, keyring)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    first = next((a for a in argv or () if not a.startswith("-")), None)
    modules = (COMMAND_OWNERS[first],) if first in COMMAND_OWNERS else COMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """parse_args, but unknown options are reported by the subcommand, with the option meant."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        target = parser
        for action in parser._subparsers._group_actions if parser._subparsers else ():
            target = getattr(action, "choices", {}).get(getattr(args, "command", None)) or target
        known = [o for a in target._actions for o in a.option_strings]
        hints = []
        for word in extra:
            if word.startswith("-"):
                hints += difflib.get_close_matches(word.split("=")[0], known, n=1, cutoff=0.6)
        meant = f"; did you mean {' or '.join(hints)}?" if hints else ""
        target.error(f"unrecognized arguments: {' '.join(extra)}{meant}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code (0 ok, 1 failed, 2 usage)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = _parse(parser, argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.self_test:
        from app.selftest import run_self_test

        return run_self_test()
    if not args.command:
        return _open_wizard()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return Exit.FAILED
    except Exception as exc:  # a bug: one line for the user, the traceback only in the debug log
        log.debug("unexpected error", exc_info=True)
        print(f"mailsetup {args.command}: internal error ({type(exc).__name__}); please report it", file=sys.stderr)
        return Exit.FAILED


def _open_wizard() -> int:
    if sys.platform.startswith("linux") and not any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        print(
            "The setup wizard needs a graphical session, and none was found (DISPLAY and WAYLAND_DISPLAY are not set).\n"
            "Run it from your desktop, use 'ssh -X', or use the command line: 'mailsetup --help' "
            "(check, send, detect, profiles, sandbox).",
            file=sys.stderr,
        )
        return Exit.FAILED
    try:
        from app.ui.app import run_wizard
    except ImportError as exc:
        if "app.ui" not in str(exc) and "PySide6" not in str(exc):
            raise
        print(f"The setup wizard cannot start here: {exc}. Use a subcommand (see 'mailsetup --help').", file=sys.stderr)
        return Exit.FAILED
    return run_wizard(sys.argv[:1])


if __name__ == "__main__":
    sys.exit(main())
