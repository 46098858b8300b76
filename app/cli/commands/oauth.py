"""``mailsetup oauth login|logout|guide`` and the ``--profile`` option of ``check``/``send``.

Sign-in with the admin's own client registration: the browser flow (system browser, loopback redirect)
by default, the device-code flow with ``--device`` (headless). The refresh token goes to the system
password store only; the profile keeps the provider, client id and tenant. Tokens are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
import webbrowser
from typing import TYPE_CHECKING, Any

from app.cli.exits import Exit, usage_error
from app.cli.options import UsageError, add_output_options
from app.cli.output import Reporter
from app.core.catalog import Provider, default_catalogue, load_client_presets
from app.core.diagnosis import DiagnosedError
from app.core.store import ProfileStore, ProfileStoreError, SecretStore, SecretStoreError, normalize_name

if TYPE_CHECKING:
    from app.core.oauth import DeviceCode, OAuthAccount, OAuthClient


def _core() -> Any:
    """app.core.oauth, imported when a command needs it (authlib and httpx cost ~0.2 s of start-up)."""
    import app.core.oauth

    return app.core.oauth


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``oauth`` with ``login``, ``logout`` and ``guide``."""
    top = subparsers.add_parser(
        "oauth",
        help="sign in with OAuth 2.0 (Microsoft, Google, Yandex, Mail.ru) using your own app registration",
        description="OAuth 2.0 sign-in. MailSetup ships no client ids: register your own app "
        "('mailsetup oauth guide --provider ID') or let your organisation preset one in oauth_clients.toml.",
    )
    sub = top.add_subparsers(dest="oauth_command", metavar="ACTION")
    top.set_defaults(func=lambda args: (top.print_help(sys.stderr), Exit.USAGE)[1])

    p = sub.add_parser(
        "login",
        help="sign in and save the account as PROFILE (the sign-in goes to the system password store)",
        description="Sign in with the browser (default) or a device code (--device) and save PROFILE. For an "
        "existing OAuth profile, PROFILE alone signs in again with its stored client id.",
    )
    p.add_argument("name", metavar="PROFILE", help="profile name to create or sign in again")
    p.add_argument("--provider", metavar="ID", help="provider id (outlook, gmail, yandex, mailru, ...)")
    p.add_argument("--client-id", metavar="ID", help="the client id of YOUR app registration")
    p.add_argument("--tenant", metavar="T", help="Microsoft: directory (tenant) id or domain; default common")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--client-secret-env", metavar="VAR", help="read the client secret (Google) from VAR")
    secret.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from stdin")
    p.add_argument("--user", metavar="ADDR", help="the mailbox address to sign in as (the SMTP login)")
    p.add_argument(
        "--protocol",
        action="append",
        choices=["smtp", "imap", "pop3"],
        help="access to ask for (repeatable; default smtp)",
    )
    p.add_argument("--device", action="store_true", help="sign in with a code on another device (no browser here)")
    p.add_argument("--no-browser", action="store_true", help="print the sign-in address instead of opening it")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S", help="how long to wait for the sign-in")
    p.add_argument("--cafile", help="extra CA certificates (PEM) to trust for the SMTP server")
    add_output_options(p)
    p.set_defaults(func=cmd_login)

    p = sub.add_parser("logout", help="forget the sign-in of PROFILE (revoked where the provider allows)")
    p.add_argument("name", metavar="PROFILE")
    add_output_options(p)
    p.set_defaults(func=cmd_logout)

    p = sub.add_parser("guide", help="how to register your own client id with a provider")
    p.add_argument("--provider", required=True, metavar="ID")
    p.add_argument("--lang", choices=["en", "ru"], default="en")
    p.set_defaults(func=cmd_guide)


def add_profile_option(p: argparse.ArgumentParser) -> None:
    """``--profile NAME`` for check/send: use the OAuth sign-in stored for NAME."""
    p.add_argument(
        "--profile",
        metavar="NAME",
        help="with --auth xoauth2: refresh the OAuth sign-in stored for profile NAME and log in with it",
    )


def _usage(command: str, message: str) -> int:
    return usage_error(f"oauth {command}", message)


def _diagnosed(args: argparse.Namespace, exc: DiagnosedError, started: float, **extra: Any) -> int:
    reporter = Reporter(json_mode=bool(getattr(args, "json", False)), verbosity=int(getattr(args, "verbose", 0) or 0))
    return reporter.finish(False, exc.diagnosis, None, (time.monotonic() - started) * 1000, **extra)


def _secret_error(args: argparse.Namespace, exc: SecretStoreError, **extra: Any) -> int:
    if getattr(args, "json", False):
        line = {"event": "result", "ok": False, "code": f"secret_{exc.kind.value}", **exc.to_dict(), **extra}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    else:
        print(f"{exc.title}: {exc.message}", file=sys.stderr)
    return Exit.FAILED


# -- login ------------------------------------------------------------------------------------------


def _read_secret(args: argparse.Namespace) -> str | None:
    if args.client_secret_env:
        value = os.environ.get(args.client_secret_env)
        if value is None:
            raise UsageError(f"--client-secret-env: the environment variable {args.client_secret_env} is not set")
        return value.strip() or None
    if args.client_secret_stdin:
        return (sys.stdin.readline() or "").strip() or None
    return None


def _plan(args: argparse.Namespace, store: ProfileStore) -> tuple[str, Provider, OAuthAccount, str, Any]:
    """(profile name, provider, account, user, existing profile) from the options and any saved profile."""
    name = normalize_name(args.name)
    existing = store.get(name)
    previous = _core().account_of(existing) if existing else None
    provider_id = args.provider or (previous.provider_id if previous else None)
    if not provider_id:
        raise UsageError(f"'{name}' is not an OAuth profile yet: give --provider and --client-id")
    provider = default_catalogue().by_id(provider_id)
    if provider is None or provider.oauth is None:
        with_oauth = ", ".join(p.id for p in default_catalogue().providers if p.oauth)
        raise UsageError(
            f"--provider: '{provider_id}' offers no OAuth sign-in here (providers with OAuth: {with_oauth})"
        )
    preset = load_client_presets().get(provider.id)
    same = previous is not None and previous.provider_id == provider.id
    client_id = (
        args.client_id or (previous.client_id if same and previous else None) or (preset.client_id if preset else None)
    )
    if not client_id:
        raise UsageError(
            f"--client-id: {provider.display_name()} needs the client id of your own app registration; "
            f"see 'mailsetup oauth guide --provider {provider.id}'"
        )
    tenant = args.tenant or (previous.tenant if same and previous else None) or (preset.tenant if preset else None)
    protocols = tuple(dict.fromkeys(args.protocol or (previous.protocols if same and previous else ("smtp",))))
    user = args.user or (existing.settings.username if existing else "")
    if not user:
        raise UsageError("--user: give the mailbox address to sign in as")
    return name, provider, _core().OAuthAccount(provider.id, client_id, tenant, protocols), user, existing


def announce_device(code: DeviceCode) -> None:
    print(
        f"To sign in, open {code.verification_uri} on any device and enter the code {code.user_code} "
        f"(valid for {code.expires_in:.0f} s). Waiting…",
        file=sys.stderr,
        flush=True,
    )


def browser_opener(no_browser: bool):
    def open_url(url: str) -> None:
        print(f"Sign in in your browser. If it does not open, visit:\n  {url}\nWaiting…", file=sys.stderr, flush=True)
        if not no_browser:  # webbrowser may block until the browser exits: keep it off the event loop
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    return open_url


def cmd_login(args: argparse.Namespace) -> int:
    """Run ``mailsetup oauth login``."""
    started = time.monotonic()
    store = ProfileStore()
    try:
        name, provider, account, user, existing = _plan(args, store)
        secret = _read_secret(args)
        if args.cafile and not os.path.isfile(args.cafile):
            raise UsageError(f"--cafile: no such file: {args.cafile}")
        secrets = SecretStore()
        if secret is None and existing is not None and _core().account_of(existing) is not None:
            old = _core().load_grant(secrets, name)
            secret = old.client_secret if old else None
        client = _core().client_for(account, client_secret=secret).validated()
    except (UsageError, _core().OAuthInputError) as exc:
        return _usage("login", str(exc))
    except ProfileStoreError as exc:
        return _usage("login", exc.message)
    except SecretStoreError as exc:
        return _secret_error(args, exc, profile=args.name)
    try:
        tokens = asyncio.run(_sign_in(args, client, user))
    except _core().OAuthInputError as exc:
        return _usage("login", str(exc))
    except DiagnosedError as exc:
        return _diagnosed(args, exc, started, profile=name, saved=False)
    if not tokens.refresh_token:
        return _usage(
            "login", f"{provider.display_name()} issued no refresh token; ask for offline access and try again"
        )
    profile = _core().oauth_profile(name, provider, account, user, existing=existing, cafile=args.cafile)
    try:
        saved = _core().save_oauth_account(profile, _core().Grant(tokens.refresh_token, client.client_secret))
    except SecretStoreError as exc:
        return _secret_error(args, exc, profile=name, saved=False)
    except ProfileStoreError as exc:
        return _usage("login", exc.message)
    try:
        backend: str | None = secrets.backend_name()
    except SecretStoreError:
        backend = None
    extra = {"profile": saved.name, "provider": provider.id, "user": user, "keyring": backend, "saved": True}
    return Reporter(json_mode=bool(args.json)).finish(
        True, None, saved.settings, (time.monotonic() - started) * 1000, **extra
    )


async def _sign_in(args: argparse.Namespace, client: OAuthClient, user: str) -> Any:
    if args.device:
        return await _core().sign_in_device(client, announce_device, timeout=args.timeout)
    return await _core().sign_in_browser(client, browser_opener(args.no_browser), timeout=args.timeout, login_hint=user)


# -- logout -----------------------------------------------------------------------------------------


def cmd_logout(args: argparse.Namespace) -> int:
    """Run ``mailsetup oauth logout``: revoke where offered, then drop the grant from the keyring."""
    try:
        profile = ProfileStore().require(args.name)
    except ProfileStoreError as exc:
        return _usage("logout", exc.message)
    account = _core().account_of(profile)
    if account is None:
        return _usage("logout", f"'{profile.name}' is not an OAuth profile")
    secrets = SecretStore()
    try:
        grant = _core().load_grant(secrets, profile.name)
        revoked = False
        if grant is not None:
            try:
                revoked = asyncio.run(
                    _core().revoke(_core().client_for(account, client_secret=grant.client_secret), grant.refresh_token)
                )
            except _core().OAuthInputError:
                revoked = False
        removed = _core().delete_grant(secrets, profile.name)
    except SecretStoreError as exc:
        return _secret_error(args, exc, profile=profile.name)
    extra = {"profile": profile.name, "removed": removed, "revoked": revoked}
    return Reporter(json_mode=bool(args.json)).finish(True, None, None, 0, **extra)


# -- guide ------------------------------------------------------------------------------------------


def cmd_guide(args: argparse.Namespace) -> int:
    """Print how to register a client id with the provider (ru or en)."""
    provider = default_catalogue().by_id(args.provider)
    if provider is None or provider.oauth is None:
        return _usage("guide", f"--provider: '{args.provider}' offers no OAuth sign-in here")
    guide = provider.oauth.guide.get(args.lang) or provider.oauth.guide.get("en")
    print(provider.display_name(args.lang))
    if guide is None:
        return Exit.OK
    for item in guide.prerequisites:
        print(f"  * {item}")
    for i, step in enumerate(guide.steps, 1):
        print(f"{i}. {step.text}" + (f"\n   {step.link}" if step.link else ""))
    if guide.result_hint:
        print(guide.result_hint)
    return Exit.OK


# -- check/send --profile ---------------------------------------------------------------------------


def bearer_for(profile_name: str) -> str:
    """A fresh access token for ``profile_name`` (raises UsageError, DiagnosedError, SecretStoreError)."""
    try:
        profile = ProfileStore().require(profile_name)
    except ProfileStoreError as exc:
        raise UsageError(f"--profile: {exc.message}") from None
    if _core().account_of(profile) is None:
        raise UsageError(f"--profile: '{profile.name}' is not an OAuth profile (see 'mailsetup oauth login')")
    try:
        return asyncio.run(_core().access_token(profile))
    except _core().OAuthInputError as exc:
        raise UsageError(f"--profile: {exc}") from None


def profile_username(profile_name: str) -> str:
    """The login saved in an OAuth profile ('' when there is none)."""
    try:
        profile = ProfileStore().get(profile_name)
    except ProfileStoreError:
        return ""
    return profile.settings.username if profile is not None else ""
