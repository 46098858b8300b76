"""``mailsetup profiles check --all [--parallel N] [--json] [--junit FILE]``: every saved account at once.

The run (bound, deadline, cancellation, missing secrets and corrupt entries as failed results) is
app.core.fleet; this module prints one line per profile as it completes, the summary, and the JUnit file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.cli.exits import Exit, usage_error
from app.cli.output import json_line, terminal_safe
from app.core.fleet import (
    DEFAULT_DEADLINE,
    DEFAULT_PARALLEL,
    MAX_PARALLEL,
    FleetResult,
    FleetSummary,
    check_fleet,
    validate_parallel,
    write_junit,
)
from app.core.store import TargetError

COMMAND = "profiles check"


def add_options(p: argparse.ArgumentParser) -> None:
    """--all and the options only it takes."""
    g = p.add_argument_group("every saved account")
    g.add_argument("--all", action="store_true", help="check every saved account at once (instead of NAME)")
    g.add_argument(
        "--parallel",
        metavar="N",
        default=str(DEFAULT_PARALLEL),
        help=f"with --all: at most N checks at a time, 1..{MAX_PARALLEL} (default {DEFAULT_PARALLEL})",
    )
    g.add_argument(
        "--deadline",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_DEADLINE,
        help=f"with --all: one overall time limit for the whole run (default {DEFAULT_DEADLINE:g})",
    )
    g.add_argument("--junit", metavar="FILE", help="with --all: also write a JUnit XML report to FILE")


def bulk_usage_problem(args: argparse.Namespace) -> str | None:
    """Why these options do not go together, or None."""
    if args.all and args.name:
        return "give a profile NAME or --all, not both"
    if not args.all and not args.name:
        return "give a profile NAME, or --all for every saved account"
    if not args.all and (args.junit or args.parallel != str(DEFAULT_PARALLEL)):
        return "--parallel and --junit go with --all"
    if args.all and (args.password_env or args.password_stdin):
        return "--all uses the stored passwords; --password-env/--password-stdin are for one NAME"
    return None


def cmd_check_all(args: argparse.Namespace) -> int:
    try:
        parallel = validate_parallel(args.parallel)
    except ValueError as exc:
        return usage_error(COMMAND, f"--parallel: {exc}")
    if not 0 < args.deadline <= 86400:
        return usage_error(COMMAND, "--deadline: must be more than 0 and at most 86400 seconds")
    results: list[FleetResult] = []

    def show(result: FleetResult) -> None:
        results.append(result)
        _print_result(args, result)

    summary = asyncio.run(check_fleet(show, parallel=parallel, deadline=args.deadline))
    _print_summary(args, summary)
    if args.junit:
        try:
            write_junit(args.junit, sorted(results, key=lambda r: r.profile), summary)
        except TargetError as exc:
            print(f"Cannot write the JUnit report: {exc.message}", file=sys.stderr)
            return Exit.FAILED
        except OSError as exc:
            print(f"Cannot write the JUnit report: {args.junit}: {exc.strerror or exc}", file=sys.stderr)
            return Exit.FAILED
    return Exit.OK if summary.all_ok else Exit.FAILED


def _print_result(args: argparse.Namespace, result: FleetResult) -> None:
    if args.json:
        print(json_line({"event": "result", **result.to_dict()}), flush=True)
        return
    title, fixes = result.render()
    name = terminal_safe(result.profile)
    if result.ok:
        print(f"OK      {name}  ({result.elapsed_ms / 1000:.1f} s)", flush=True)
        return
    print(f"FAILED  {name}  ({result.elapsed_ms / 1000:.1f} s): {terminal_safe(title)} [{result.code}]", flush=True)
    for fix in fixes:
        print(f"        - {terminal_safe(fix)}", flush=True)


def _print_summary(args: argparse.Namespace, summary: FleetSummary) -> None:
    if args.json:
        print(json_line({"event": "summary", **summary.to_dict()}), flush=True)
        return
    total = summary.ok + summary.failed
    print(f"\n{summary.ok} of {total} passed, {summary.failed} failed ({summary.elapsed_ms / 1000:.1f} s).", flush=True)
