"""``mailsetup audit DOMAIN [--json]``: the sender-domain audit (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT,
DNSSEC) of the From domain, optionally with the account's SMTP server, From and login (or a saved
``--profile``). Exit 0 = no finding failed, 1 = at least one failed, 2 = bad usage.

Human output: one line per finding (✓ ok, ! warn, ✗ fail, i info), its explanation and the record to
publish. ``--json``: one ``{"event": "finding", ...}`` line per finding, then ``{"event": "result", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from typing import Any, TextIO

from app.cli.exits import Exit, usage_error
from app.cli.output import json_line, terminal_safe
from app.core.audit import AuditReport, AuditRequest, Status, normalize_domain, run_audit, valid_selector
from app.core.store import ProfileStore, ProfileStoreError

MARKS = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.INFO: "i"}
ASCII_MARKS = {Status.OK: "OK", Status.WARN: "WARN", Status.FAIL: "FAIL", Status.INFO: "INFO"}
LABELS = {
    "mx": "MX",
    "spf": "SPF",
    "spf_authorised": "SPF/server",
    "dkim": "DKIM",
    "dmarc": "DMARC",
    "dmarc_alignment": "DMARC/alignment",
    "mta_sts": "MTA-STS",
    "tls_rpt": "TLS-RPT",
    "dnssec": "DNSSEC",
    "from_login": "From/login",
    "dns": "DNS",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``audit`` subcommand."""
    p = subparsers.add_parser(
        "audit",
        help="audit a sender domain's DNS: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, DNSSEC",
        description="Check the DNS records that decide whether mail from DOMAIN is trusted: MX, SPF (syntax, "
        "the 10-lookup limit, whether the SMTP server may send for the domain), DKIM (the provider's selectors "
        "and --dkim-selector), DMARC policy and alignment, MTA-STS, TLS-RPT and DNSSEC. Each finding says what "
        "it means and which DNS record to publish. Only DNS is asked; nothing is sent. "
        "Exit 0 = no check failed, 1 = a check failed, 2 = bad usage.",
    )
    p.add_argument("domain", nargs="?", metavar="DOMAIN", help="the From domain (or an address in it)")
    p.add_argument("--profile", metavar="NAME", help="take the From address, SMTP server and login from a profile")
    p.add_argument("--smtp-host", metavar="HOST", help="the SMTP server you send through (is SPF allowing it?)")
    p.add_argument("--from", dest="from_address", metavar="ADDRESS", help="the From address of your mail")
    p.add_argument("--login", metavar="LOGIN", help="the SMTP login (compared with From)")
    p.add_argument("--mail-from", metavar="ADDRESS", help="the envelope sender when it differs from From")
    p.add_argument("--provider", metavar="ID", help="the provider id (default: found from the server or login)")
    p.add_argument(
        "--dkim-selector", action="append", default=[], metavar="S", help="a DKIM selector to try (repeatable)"
    )
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="the whole audit's time limit (10)")
    p.add_argument(
        "--dns-server",
        action="append",
        default=[],
        metavar="ADDR[:PORT]",
        help="ask this DNS server instead of the system's (repeatable; [v6]:port for IPv6)",
    )
    p.add_argument("--json", action="store_true", help="JSON lines: one per finding, then the result")
    p.set_defaults(func=cmd_audit)


def parse_dns_server(text: str) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5353``, ``::1`` or ``[::1]:5353``; ValueError otherwise."""
    value = text.strip()
    host, port = value, 53
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif value.count(":") == 1:
        host, _, p = value.partition(":")
        port = int(p)
    ipaddress.ip_address(host)
    if not 0 < port < 65536:
        raise ValueError("port out of range")
    return host, port


def build_request(args: argparse.Namespace) -> tuple[AuditRequest, list[tuple[str, int]] | None]:
    """The request from the options (and the profile); ValueError with a message naming the option."""
    smtp_host, from_address, login, provider_id = args.smtp_host, args.from_address, args.login, args.provider
    if args.profile:
        try:
            profile = ProfileStore().get(args.profile)
        except ProfileStoreError as exc:
            raise ValueError(f"--profile: {exc}") from exc
        if profile is None:
            raise ValueError(f"--profile: no saved profile named {args.profile!r}")
        smtp_host = smtp_host or profile.settings.host
        from_address = from_address or profile.from_addr or profile.settings.username or ""
        login = login or profile.settings.username or ""
        provider_id = provider_id or profile.provider_id or ""
    target = args.domain or from_address or ""
    if not target:
        raise ValueError("give a DOMAIN (or --profile, or --from)")
    try:
        domain = normalize_domain(target)
    except ValueError as exc:
        raise ValueError(f"DOMAIN: {exc}") from exc
    for sel in args.dkim_selector:
        if not valid_selector(sel):
            raise ValueError(f"--dkim-selector: {sel[:80]!r} is not a DKIM selector (letters, digits, '-', '_')")
    if not 0 < args.timeout <= 120:
        raise ValueError("--timeout: give seconds between 0 and 120")
    servers = []
    for s in args.dns_server:
        try:
            servers.append(parse_dns_server(s))
        except ValueError as exc:
            raise ValueError(f"--dns-server: {s[:80]!r} is not an address[:port]") from exc
    req = AuditRequest(
        domain=domain,
        smtp_host=(smtp_host or "").strip(),
        from_address=from_address or "",
        login=login or "",
        provider_id=provider_id or "",
        dkim_selectors=tuple(args.dkim_selector),
        mail_from=args.mail_from or "",
        timeout=float(args.timeout),
    )
    return req, servers or None


def cmd_audit(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        req, servers = build_request(args)
    except ValueError as exc:
        return usage_error("audit", str(exc))
    report = asyncio.run(run_audit(req, nameservers=servers))
    if args.json:
        print_json(report, out)
    else:
        print_human(report, out)
    return Exit.OK if report.ok else Exit.FAILED


def print_json(report: AuditReport, out: TextIO) -> None:
    for f in report.findings:
        print(json_line({"event": "finding", **f.to_dict()}), file=out)
    data: dict[str, Any] = report.to_dict()
    data.pop("findings", None)
    print(json_line({"event": "result", **data}), file=out, flush=True)


def _encodes(out: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(out, "encoding", None) or "utf-8")
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def print_human(report: AuditReport, out: TextIO) -> None:
    marks = MARKS if _encodes(out, "".join(MARKS.values())) else ASCII_MARKS
    lines = [f"Sender-domain audit: {report.domain} ({report.elapsed_ms / 1000:.1f} s)"]
    for f in report.findings:
        lines.append(f"{marks[f.status]} {LABELS.get(f.check, f.check)}: {f.title}")
        lines.append(f"    {f.explanation}")
        if f.record_to_publish:
            lines.append(f"    Publish: {f.record_to_publish}")
    c = report.counts()
    lines.append(f"{c['ok']} ok, {c['warn']} to improve, {c['fail']} failed, {c['info']} notes.")
    for line in lines:
        text = terminal_safe(line)
        try:
            print(text, file=out)
        except UnicodeEncodeError:
            enc = getattr(out, "encoding", None) or "ascii"
            print(text.encode(enc, "replace").decode(enc), file=out)
    out.flush()
