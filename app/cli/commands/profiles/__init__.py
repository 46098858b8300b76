"""``mailsetup profiles``: saved accounts from the command line.

Passwords go to the OS password store only (``app.core.store.secrets``); profiles.json holds
the rest (``app.core.store.profiles``). Exit codes: 0 ok, 1 failed, 2 usage.

One module per subcommand (``manage`` holds the small ones: list, show, rename, delete); each offers a
``register...(sub)`` that adds its parser. A new ``profiles`` subcommand: a new module here with
``register(sub)``, listed in ``SUBCOMMANDS`` below.
Shared helpers (failure reports, JSON lines, the check run) are in ``common``.
"""

from __future__ import annotations

import argparse
import sys

from app.cli.commands.profiles import add, bundle, check, export, manage
from app.cli.commands.profiles.check import prepare_profile_check
from app.cli.exits import Exit

# the parsers, in the order they appear in ``mailsetup profiles --help``
SUBCOMMANDS = (
    add.register,
    manage.register_list,
    manage.register_show,
    check.register,
    manage.register_rename,
    manage.register_delete,
    export.register,
    bundle.register_actions,  # export-bundle, import-bundle
)

__all__ = ["SUBCOMMANDS", "prepare_profile_check", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``profiles`` and its subcommands."""
    top = subparsers.add_parser(
        "profiles",
        help="saved accounts: add, list, show, check, rename, delete, export, export-bundle, import-bundle",
        description="Saved accounts. Passwords are kept only in the system password store, never in files.",
    )
    sub = top.add_subparsers(dest="profiles_command", metavar="ACTION")
    top.set_defaults(func=lambda args: _usage(top))
    for add_parser in SUBCOMMANDS:
        add_parser(sub)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return Exit.USAGE
