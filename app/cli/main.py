"""Entry point of ``mailsetup``: no arguments opens the wizard, a subcommand runs headless."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from app import __version__

log = logging.getLogger(__name__)

# Each module defines ``register(subparsers)``; its parsers set ``func(args) -> int``.
COMMAND_MODULES = (
    "app.cli.commands.check",  # check, send
    "app.cli.commands.detect",  # detect
    "app.cli.commands.providers",  # providers
    "app.cli.commands.profiles",  # profiles ...
    "app.cli.commands.sandbox",  # sandbox
    "app.cli.commands.oauth",  # oauth login, logout, guide
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="mailsetup",
        description="Set up and verify an SMTP mailbox. Without a command, opens the setup wizard.",
    )
    parser.add_argument("--version", action="version", version=f"mailsetup {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation without a display (catalogue, translations, sandbox check and send, keyring)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code (0 ok, 1 failed, 2 usage)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
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
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


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
        return EXIT_FAILED
    try:
        from app.ui.app import run_wizard
    except ImportError as exc:
        if "app.ui" not in str(exc) and "PySide6" not in str(exc):
            raise
        print(f"The setup wizard cannot start here: {exc}. Use a subcommand (see 'mailsetup --help').", file=sys.stderr)
        return EXIT_FAILED
    return run_wizard(sys.argv[:1])


if __name__ == "__main__":
    sys.exit(main())
