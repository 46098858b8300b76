"""What every ``mailsetup profiles`` subcommand shares: exit codes, JSON lines, failure reports, the check run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from app.cli.exits import Exit
from app.cli.options import UsageError
from app.cli.output import Reporter
from app.core.store import Profile, ProfileErrorKind, ProfileStoreError, SecretStoreError


def json_line(data: dict[str, Any], out: TextIO | None = None) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str), file=out or sys.stdout, flush=True)


def fail(
    args: argparse.Namespace,
    code: str,
    title: str,
    message: str,
    exit_code: int = Exit.FAILED,
    *,
    hint: str = "",
    **extra: Any,
) -> int:
    """Report a failure that is not a connection diagnosis (keyring, profile file, usage)."""
    if getattr(args, "json", False):
        fixes = [message] + ([hint] if hint else [])
        json_line({"event": "result", "ok": False, "code": code, "title": title, "fix": fixes, **extra})
    else:
        print(f"{title}: {message}" if title else message, file=sys.stderr, flush=True)
        if hint:
            print(hint, file=sys.stderr, flush=True)
    return exit_code


def secret_fail(args: argparse.Namespace, exc: SecretStoreError, *, hint: str = "", **extra: Any) -> int:
    return fail(
        args, f"secret_{exc.kind.value}", exc.title, exc.message, hint=hint, secret_error=exc.to_dict(), **extra
    )


def profile_fail(args: argparse.Namespace, exc: ProfileStoreError, **extra: Any) -> int:
    usage = exc.kind in (ProfileErrorKind.INVALID_NAME,)
    return fail(
        args,
        f"profile_{exc.kind.value}",
        "Profile problem",
        exc.message,
        Exit.USAGE if usage else Exit.FAILED,
        profile_error=exc.to_dict(),
        **extra,
    )


def provider_by_id(provider_id: str | None) -> Any:
    if not provider_id:
        return None
    try:
        from app.core.catalog import default_catalogue
    except ImportError:  # catalogue not available in this build
        return None
    provider = default_catalogue().by_id(provider_id)
    if provider is None:
        raise UsageError(f"--provider: unknown provider id '{provider_id}'; see 'mailsetup providers'")
    return provider


def run_engine_check(args: argparse.Namespace, settings: Any, password: str | None, provider: Any) -> tuple[Any, Any]:
    """(reporter, Verdict): the one bounded pipeline run that ``check`` and ``report`` use, so a saved account
    gets the same verdict (second opinion, alternatives) as the same settings typed out."""
    from app.cli.commands.check import run_verdict

    reporter = Reporter(json_mode=bool(args.json), verbosity=int(getattr(args, "verbose", 0) or 0))
    return reporter, run_verdict(settings, password, provider, reporter)


def check_extras(verdict: Any) -> dict[str, Any]:
    """What a check's result line carries (the same fields as ``mailsetup check``)."""
    from app.cli.commands.check import verdict_extras

    return verdict_extras(verdict)


def is_oauth(p: Profile) -> bool:
    from app.core.oauth import account_of

    return account_of(p) is not None
