"""``mailsetup providers [--json] [--lang ru|en]`` and ``mailsetup providers show ID [--json]``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TextIO

from app.cli.exits import Exit
from app.core.catalog import Catalogue, Endpoint, Provider, default_catalogue, provider_to_dict

log = logging.getLogger(__name__)

LANGS = ("ru", "en")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``providers`` subcommand (and its ``show`` action)."""
    p = subparsers.add_parser(
        "providers",
        help="list the known mail providers and their servers",
        description="List the provider catalogue (servers, login rule, secret kind), or show one provider's guide.",
    )
    _add_output_options(p, argparse_default=False)
    sub = p.add_subparsers(dest="providers_action", metavar="ACTION")
    show = sub.add_parser("show", help="one provider with its app-password guide, tips and links")
    show.add_argument("provider_id", metavar="ID", help="provider id, e.g. gmail (see 'mailsetup providers')")
    _add_output_options(show, argparse_default=True)
    p.set_defaults(func=run, providers_action=None)


def _add_output_options(p: argparse.ArgumentParser, *, argparse_default: bool) -> None:
    # On the sub-action the defaults are SUPPRESS so "providers --json show gmail" keeps the parent's value.
    suppress = {"default": argparse.SUPPRESS} if argparse_default else {}
    p.add_argument("--json", action="store_true", help="machine-readable JSON output", **suppress)
    p.add_argument("--lang", choices=LANGS, help="language of names and guides (default: from the locale)", **suppress)


def default_lang() -> str:
    """``ru`` when the locale environment says Russian, else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "ru" if value.lower().startswith("ru") else "en"
    return "en"


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """List the catalogue or show one provider; returns 0, or 2 for an unknown provider id."""
    out = out or sys.stdout
    err = err or sys.stderr
    lang = getattr(args, "lang", None) or default_lang()
    as_json = bool(getattr(args, "json", False))
    catalogue = default_catalogue()
    for problem in catalogue.errors:
        print(f"warning: provider catalogue: {problem}", file=err)
    if getattr(args, "providers_action", None) == "show":
        return _show(catalogue, args.provider_id, lang, as_json, out, err)
    if as_json:
        json.dump([provider_to_dict(p, lang) for p in catalogue.providers], out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(format_table(catalogue, lang))
    return Exit.OK


def _show(catalogue: Catalogue, provider_id: str, lang: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    provider = catalogue.by_id(provider_id)
    if provider is None:
        known = ", ".join(p.id for p in catalogue.providers)
        print(f"Unknown provider {provider_id!r}. Known: {known}", file=err)
        return Exit.USAGE
    if as_json:
        json.dump(provider_to_dict(provider, lang, full=True), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(format_provider(provider, lang))
    return Exit.OK


# --- human output ------------------------------------------------------------------------------------

_HEAD = {
    "en": ("ID", "NAME", "SMTP", "LOGIN", "SECRET"),
    "ru": ("ID", "НАЗВАНИЕ", "SMTP", "ЛОГИН", "СЕКРЕТ"),
}
_LABELS = {
    "en": {
        "domains": "Domains", "mx": "MX patterns", "smtp": "SMTP", "imap": "IMAP", "pop3": "POP3",
        "login": "Login", "secret": "Secret", "before": "Before you start", "steps": "How to get the secret",
        "result": "What it looks like", "tips": "Limits and tips", "links": "Links", "auto": "auto",
        "none": "—", "strip": "spaces are ignored", "regions": "Regions", "sources": "Sources",
    },
    "ru": {
        "domains": "Домены", "mx": "Шаблоны MX", "smtp": "SMTP", "imap": "IMAP", "pop3": "POP3",
        "login": "Логин", "secret": "Секрет", "before": "Что нужно заранее", "steps": "Как получить секрет",
        "result": "Как он выглядит", "tips": "Лимиты и советы", "links": "Ссылки", "auto": "авто",
        "none": "—", "strip": "пробелы не учитываются", "regions": "Регионы", "sources": "Источники",
    },
}  # fmt: skip
_LOGIN_RULE = {
    "en": {
        "email": "full address", "local_part": "part before @", "literal": "literally {literal}",
        "generated": "given by the provider",
    },
    "ru": {
        "email": "полный адрес", "local_part": "часть до @", "literal": "строго {literal}",
        "generated": "выдаёт сервис",
    },
}  # fmt: skip
_SECRET_KIND = {
    "en": {
        "app_password": "app password", "api_key": "API key", "account_password": "account password",
        "generated": "generated",
    },
    "ru": {
        "app_password": "пароль приложения", "api_key": "API-ключ", "account_password": "пароль ящика",
        "generated": "выдаёт сервис",
    },
}  # fmt: skip


def _endpoint(e: Endpoint, lang: str) -> str:
    port = str(e.port) if e.port else _LABELS[lang]["auto"]
    return f"{e.host}:{port} {e.security}"


def _compact(endpoints: tuple[Endpoint, ...], lang: str) -> str:
    """``host ssl 465, starttls 587`` with each host named once (keeps the preference order)."""
    by_host: dict[str, dict[str, list[str]]] = {}
    for e in endpoints:
        port = str(e.port) if e.port else _LABELS[lang]["auto"]
        by_host.setdefault(e.host, {}).setdefault(e.security, []).append(port)
    parts = [
        f"{host} " + ", ".join(f"{sec} {'/'.join(ports)}" for sec, ports in secs.items())
        for host, secs in by_host.items()
    ]
    return "; ".join(parts) or _LABELS[lang]["none"]


def _login(p: Provider, lang: str) -> str:
    return _LOGIN_RULE[lang][p.username_rule.value].format(literal=p.username_literal or "")


def format_table(catalogue: Catalogue, lang: str = "en") -> str:
    """The providers as an aligned text table, one row per provider."""
    rows = [_HEAD[lang]]
    for p in catalogue.providers:
        secret = _SECRET_KIND[lang][p.password_kind.value]
        rows.append((p.id, p.display_name(lang), _compact(p.smtp, lang), _login(p, lang), secret))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths)) + "  " + r[-1] for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def format_provider(p: Provider, lang: str = "en") -> str:
    """One provider in full: servers, login, guide, tips and links."""
    t = _LABELS[lang]
    lines = [f"{p.display_name(lang)} ({p.id})", ""]
    if p.domains:
        lines.append(f"{t['domains']}: {', '.join(p.domains)}")
    if p.mx_patterns:
        lines.append(f"{t['mx']}: {', '.join(p.mx_patterns)}")
    for proto in ("smtp", "imap", "pop3"):
        endpoints = getattr(p, proto)
        if endpoints:
            lines.append(f"{t[proto]}: {', '.join(_endpoint(e, lang) for e in endpoints)}")
    if p.regions:
        lines += [f"{t['regions']}:"] + [
            f"  {r.display_name(lang) if r.display_name(lang).endswith(r.id) else f'{r.id}: {r.display_name(lang)}'}"
            f" — {_compact(r.smtp, lang)}"
            for r in p.regions
        ]
    lines.append(f"{t['login']}: {_login(p, lang)}")
    secret = _SECRET_KIND[lang][p.password_kind.value]
    lines.append(f"{t['secret']}: {secret}" + (f" ({t['strip']})" if p.strip_password_spaces else ""))
    guide = p.guide.get(lang) or p.guide.get("en")
    if guide:
        if guide.prerequisites:
            lines += ["", f"{t['before']}:"] + [f"  - {item}" for item in guide.prerequisites]
        lines += ["", f"{t['steps']}:"]
        for n, step in enumerate(guide.steps, 1):
            lines.append(f"  {n}. {step.text}")
            if step.link:
                lines.append(f"     {step.link}")
        if guide.result_hint:
            lines += ["", f"{t['result']}: {guide.result_hint}"]
    tips = p.tips_for(lang)
    if tips:
        lines += ["", f"{t['tips']}:"] + [f"  - {tip}" for tip in tips]
    if p.links:
        lines += ["", f"{t['links']}:"] + [f"  {role}: {url}" for role, url in p.links.items()]
    if p.sources:
        lines += ["", f"{t['sources']}:"] + [f"  - {src}" for src in p.sources]
    return "\n".join(lines) + "\n"
