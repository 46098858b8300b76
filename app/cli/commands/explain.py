"""``mailsetup explain TEXT | --file bounce.eml | - [--json] [--provider ID]``: decode a server reply or a bounce.

The decoding (DSN parsing, the diagnosis, the provider guess) is app.core.diagnosis.explain_input; this
module reads the input (bounded: at most EXPLAIN_MAX_INPUT bytes are read, from an argument, a file or
stdin) and prints the findings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from app.cli.exits import Exit, usage_error
from app.cli.output import describe_diagnosis, json_line, terminal_safe
from app.core.catalog import default_catalogue
from app.core.diagnosis import EXPLAIN_MAX_INPUT, Explanation, explain_input

COMMAND = "explain"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        COMMAND,
        help="explain an SMTP reply or a bounce message (DSN)",
        description=(
            "Decode a server reply such as '535 5.7.8 Username and Password not accepted' or a whole bounce "
            "message (RFC 3464 delivery status notification, or a provider's plain-text bounce) into the "
            "diagnosis a check would give: what it means and what to do, per recipient."
        ),
    )
    p.add_argument("text", nargs="?", metavar="TEXT", help="the reply text, or '-' to read it from stdin")
    p.add_argument("--file", metavar="FILE", help="read the reply or bounce (.eml) from FILE")
    p.add_argument("--provider", metavar="ID", help="the provider whose hints apply (default: guessed from the text)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")
    p.set_defaults(func=run)


def _read_input(args: argparse.Namespace) -> bytes | str:
    """The input, at most EXPLAIN_MAX_INPUT + 1 bytes of it (the core refuses more); OSError for a bad file."""
    if args.file is not None and args.text is not None:
        raise ValueError("give either TEXT or --file, not both")
    if args.file is not None:
        path = Path(args.file)
        if path.is_dir():
            raise ValueError(f"{args.file} is a folder, not a file")
        with path.open("rb") as f:
            return f.read(EXPLAIN_MAX_INPUT + 1)
    if args.text == "-":
        if sys.stdin.isatty():
            print("Paste the reply or the bounce, then press Ctrl+D (Ctrl+Z, Enter on Windows).", file=sys.stderr)
        return sys.stdin.buffer.read(EXPLAIN_MAX_INPUT + 1)
    if args.text is None:
        raise ValueError("give the reply text, --file FILE, or '-' to read stdin")
    return args.text


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    catalogue = default_catalogue()
    provider = None
    if args.provider:
        provider = catalogue.by_id(args.provider)
        if provider is None:
            known = ", ".join(p.id for p in catalogue.presets)
            return usage_error(COMMAND, f"unknown provider {args.provider!r}; known: {known}")
    try:
        data = _read_input(args)
        result = explain_input(data, catalogue, provider)
    except ValueError as exc:  # ExplainInputError too: empty or over-large input
        return usage_error(COMMAND, str(exc))
    except OSError as exc:
        return usage_error(COMMAND, f"cannot read {args.file}: {exc.strerror or exc}")
    if args.json:
        print(json_line(result.to_dict()), file=out)
    else:
        _print_text(result, out)
    return Exit.OK if result.findings else Exit.FAILED


def _print_text(result: Explanation, out: TextIO) -> None:
    if not result.findings:
        print("No SMTP reply or delivery status was found in the input.", file=out)
        return
    kinds = {"reply": "server reply", "dsn": "delivery status notification", "bounce": "bounce message"}
    head = f"Decoded: {kinds.get(result.kind, result.kind)}"
    if result.provider is not None:
        head += f" (provider: {result.provider.display_name()})"
    if result.truncated:
        head += "; the input was longer than what is read, the rest is left out"
    print(head, file=out)
    for n, finding in enumerate(result.findings, 1):
        facts = [
            f"{label}: {value}"
            for label, value in (
                ("recipient", finding.recipient),
                ("action", finding.action),
                ("status", finding.status),
                ("remote server", finding.remote_mta),
            )
            if value
        ]
        if len(result.findings) > 1 or facts:
            print(f"\n[{n}] " + ", ".join(facts) if facts else f"\n[{n}]", file=out)
        for line in describe_diagnosis(finding.diagnosis):
            print(terminal_safe(line), file=out)


__all__ = ["register", "run"]
