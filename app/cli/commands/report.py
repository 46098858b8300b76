"""``mailsetup report``: run a check and write a shareable diagnostic report (HTML or plain text).

The check is the same as ``check`` (connection options) or ``profiles check`` (a saved PROFILE):
the same loading path, the one pipeline run. A report is written whatever the outcome (a failing
check is when one is needed most); the exit code is the check's (0 works, 1 failed, 2 bad usage).
No secret is given to the report: it is built from the Verdict and the recorded events only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.commands.check import (
    prepare_connection,
    run_verdict,
    verdict_extras,
)
from app.cli.exits import Exit, usage_error
from app.cli.options import UsageError, connection_parents
from app.cli.output import Reporter


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        parents=connection_parents(host_required=False),
        help="check a saved profile or a server and write a shareable report (HTML or text)",
        description="Check like 'profiles check PROFILE' or 'check --host ...' and write a report for a support "
        "engineer or a colleague: settings (never a password), stage timings, the diagnosis and its fixes, the "
        "masked protocol transcript, the certificate, the second opinion. The report is written also when the "
        "check fails. Exit 0 = the check passed, 1 = it failed, 2 = bad usage.",
    )
    p.add_argument("name", nargs="?", metavar="PROFILE", help="a saved profile (or give --host and the options)")
    r = p.add_argument_group("report")
    r.add_argument("--output", "-o", required=True, metavar="FILE", help="the file to write (a new or regular file)")
    r.add_argument(
        "--format",
        choices=["html", "text"],
        default=None,
        help="html (one self-contained page) or text; default: text for a .txt file, else html",
    )
    r.add_argument("--mask-addresses", action="store_true", help="show e-mail addresses as j***@example.com")
    p.set_defaults(func=cmd_report)


def report_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    return "text" if str(args.output).lower().endswith((".txt", ".text")) else "html"


def provider_name(provider: Any, fallback: str) -> str:
    """The catalogue entry's English name (and id), or ``fallback``."""
    if provider is None:
        return fallback
    names = getattr(provider, "name", None) or {}
    name = names.get("en") or next(iter(names.values()), "") if isinstance(names, dict) else ""
    return f"{name} ({provider.id})" if name else str(provider.id)


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``mailsetup report``."""
    from app.core.report import ReportTargetError, check_report_target

    try:
        check_report_target(args.output)  # before a check that may take a while
        if args.name and args.host:
            raise UsageError("give a saved PROFILE or --host with the connection options, not both")
        if not args.name and not args.host:
            raise UsageError("give a saved PROFILE or --host (see 'mailsetup report --help')")
        if args.security == "auto":
            raise UsageError("--security auto is not supported here; run 'mailsetup detect' first")
    except ReportTargetError as exc:
        return usage_error("report", f"--output: {exc.message}")
    except UsageError as exc:
        return usage_error("report", str(exc))
    if args.name:
        return _report_profile(args)
    return _report_connection(args)


def _report_connection(args: argparse.Namespace) -> int:
    ready = prepare_connection(args, "report")
    if isinstance(ready, int):
        return ready
    reporter, settings, password, provider = ready
    from app.core.report import ReportRecorder

    recorder = ReportRecorder(forward=reporter)
    verdict = run_verdict(settings, password, provider, recorder)
    password = None  # not needed any more; the report never sees it
    return _write_and_finish(args, reporter, recorder, verdict, provider=provider_name(provider, ""))


def _report_profile(args: argparse.Namespace) -> int:
    from app.cli.commands.incoming import merge_incoming, run_saved_incoming
    from app.cli.commands.profiles import prepare_profile_check
    from app.core.report import ReportRecorder

    prepared = prepare_profile_check(args, args.name, "report")
    if isinstance(prepared, int):
        return prepared
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    recorder = ReportRecorder(forward=reporter)
    p = prepared.profile
    try:
        verdict = run_verdict(prepared.settings, prepared.password, prepared.provider, recorder)
    finally:
        prepared.close()
    incoming, ok, diagnosis, extras = None, verdict.ok, verdict.diagnosis, {}
    if p.incoming is not None and not prepared.oauth:  # the incoming side too, as 'profiles check' does
        recorder.begin(p.incoming.protocol.name)
        incoming = run_saved_incoming(p.incoming, prepared.settings, prepared.password, prepared.provider, recorder)
        ok, diagnosis = merge_incoming(reporter, incoming, ok, diagnosis, extras)
    prepared.password = None
    return _write_and_finish(
        args,
        reporter,
        recorder,
        verdict,
        incoming=incoming,
        profile=p.name,
        provider=provider_name(prepared.provider, p.provider_id or ""),
        outcome=(ok, diagnosis, extras),
    )


def _write_and_finish(
    args: argparse.Namespace,
    reporter: Reporter,
    recorder: Any,
    verdict: Any,
    *,
    incoming: Any = None,
    profile: str = "",
    provider: str = "",
    outcome: tuple[bool, Any, dict[str, Any]] | None = None,
) -> int:
    """Write the report (whatever the check said), then print the check's result; the exit code is the check's."""
    from app.core.report import ReportTargetError, build_report, render_report, write_report

    report = build_report(
        verdict,
        recorder=recorder,
        incoming=incoming,
        profile=profile,
        provider=provider,
        mask_addresses=bool(args.mask_addresses),
    )
    fmt = report_format(args)
    try:
        path = write_report(args.output, render_report(report, fmt))
    except ReportTargetError as exc:
        print(f"mailsetup report: the report could not be written: {exc.message}", file=sys.stderr)
        reporter.finish(verdict.ok, verdict.diagnosis, verdict.settings, verdict.elapsed_ms, report=None)
        return Exit.FAILED
    ok, diagnosis, extras = outcome or (verdict.ok, verdict.diagnosis, {})
    if not args.json:
        print(f"Wrote the {fmt} report to {path}.", file=sys.stderr)
    extra = {**verdict_extras(verdict), **extras, "report": str(path)}
    if profile:
        extra["profile"] = profile
    return reporter.finish(ok, diagnosis, verdict.settings, verdict.elapsed_ms, **extra)


__all__ = ["cmd_report", "register", "report_format"]
