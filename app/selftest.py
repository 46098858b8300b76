"""``mailsetup --self-test``: prove this installation (source, wheel or frozen bundle) works, without a display.

Checks the provider catalogue, the translations, a real connection check and a real send
against the built-in sandbox, and which keyring backend is in use. Prints one line per item.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from app import __version__

log = logging.getLogger(__name__)

OK, FAIL, NOTE = "ok", "FAIL", "note"


@dataclass(frozen=True)
class Item:
    """One self-test line: ``status`` is ok, FAIL or note (a note never fails the run)."""

    name: str
    status: str
    detail: str


def run_self_test(out: TextIO | None = None) -> int:
    """Run every check, print a line per item; returns 0 when nothing failed, else 1."""
    out = out or sys.stdout
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    frozen = bool(getattr(sys, "frozen", False))
    print(
        f"mailsetup {__version__} self-test ({'frozen bundle' if frozen else 'Python ' + sys.version.split()[0]})",
        file=out,
        flush=True,
    )
    items: list[Item] = []
    for check in (_resources, _catalogue, _audit_parsers, _translations, _sandbox_round_trip, _keyring):
        started = time.perf_counter()
        try:
            results = check()
        except Exception as exc:  # a crash in one item is that item's failure, not the run's
            log.debug("self-test item crashed", exc_info=True)
            results = [Item(check.__name__.strip("_"), FAIL, f"{type(exc).__name__}: {exc}")]
        ms = (time.perf_counter() - started) * 1000
        for n, item in enumerate(results):
            items.append(item)
            timing = f"  [{ms:.0f} ms]" if n == len(results) - 1 else ""
            print(f"{item.status:>4}  {item.name}: {item.detail}{timing}", file=out, flush=True)
    failed = [i for i in items if i.status == FAIL]
    print(
        f"self-test {'FAILED' if failed else 'passed'}: {len(items) - len(failed)} of {len(items)} items fine",
        file=out,
        flush=True,
    )
    return 1 if failed else 0


def _optional(module: str):
    """Import ``module``; None when that module itself does not exist (other import errors propagate)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


def _resources() -> list[Item]:
    from app.core.resources import resource_dir

    root = resource_dir()
    missing = [d for d in ("providers", "icons") if not (root / d).is_dir()]
    if missing:
        return [Item("resources", FAIL, f"{root} lacks {', '.join(missing)}")]
    count = sum(1 for p in root.rglob("*") if p.is_file())
    return [Item("resources", OK, f"{root} ({count} files)")]


def _catalogue() -> list[Item]:
    providers = _optional("app.core.catalog.loader")
    if providers is None or not hasattr(providers, "default_catalogue"):
        return [Item("provider catalogue", NOTE, "skipped: app.core.catalog.loader is not part of this build")]
    catalogue = providers.default_catalogue()
    count = len(tuple(getattr(catalogue, "providers", ())))
    errors = list(getattr(catalogue, "errors", ()))
    if count == 0:
        return [Item("provider catalogue", FAIL, "loaded, but it lists no providers")]
    if errors:
        return [Item("provider catalogue", FAIL, f"{count} providers, {len(errors)} problem(s), first: {errors[0]}")]
    return [Item("provider catalogue", OK, f"{count} providers")]


def _audit_parsers() -> list[Item]:
    """The sender-domain audit's record parsers (checkdmarc) and public-suffix data, offline."""
    audit = _optional("app.core.audit")
    if audit is None:
        return [Item("audit parsers", NOTE, "skipped: app.core.audit is not part of this build")]
    return [Item("audit parsers", OK, audit.parsers_self_test())]


def _translations() -> list[Item]:
    if _optional("PySide6") is None:
        return [Item("translations", NOTE, "skipped: PySide6 is not installed (CLI-only install)")]
    from PySide6.QtCore import QTranslator

    from app.core.resources import resource_path

    i18n = _optional("app.ui.i18n")
    if i18n is not None:
        languages = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE]
        files = {lang: i18n.qm_path(lang) for lang in languages}
    else:
        files = {p.stem.rsplit("_", 1)[-1]: p for p in sorted(resource_path("translations").glob("*.qm"))}
    if not files:
        return [Item("translations", FAIL, f"no .qm files in {resource_path('translations')}")]
    items = []
    for lang, path in files.items():
        translator = QTranslator()
        if path is None or not Path(path).is_file():
            items.append(Item(f"translation {lang}", FAIL, f"missing (no mailsetup_{lang}.qm)"))
        elif not translator.load(str(path)) or translator.isEmpty():
            items.append(Item(f"translation {lang}", FAIL, f"{path} does not load in QTranslator"))
        else:
            items.append(Item(f"translation {lang}", OK, f"{Path(path).name} loads ({translator.language() or lang})"))
    return items


def _sandbox_round_trip() -> list[Item]:
    from app.core.sandbox import SandboxServer

    check_mod = _optional("app.core.smtp.session")
    sending = _optional("app.core.smtp.send")
    message_mod = _optional("app.core.smtp.message")
    with tempfile.TemporaryDirectory(prefix="mailsetup-selftest-") as tmp, SandboxServer(Path(tmp)) as server:
        info = server.info
        assert info is not None
        items = [
            Item(
                "sandbox",
                OK,
                f"listening on {info.host} ports {info.ssl_port} (TLS) and {info.starttls_port} (STARTTLS)",
            )
        ]
        if check_mod is None:
            items.append(Item("connection check", NOTE, "skipped: app.core.smtp.session is not part of this build"))
        else:
            for security in ("ssl", "starttls"):
                result = asyncio.run(check_mod.run_check(server.settings(security), info.password))
                items.append(
                    _engine_item(
                        f"check ({security})",
                        result,
                        lambda r: f"{r.elapsed_ms:.0f} ms, login verified={r.auth_verified}",
                    )
                )
        if sending is None or message_mod is None:
            items.append(
                Item("test send", NOTE, "skipped: app.core.smtp.send/app.core.smtp.message are not part of this build")
            )
            return items
        subject = f"MailSetup self-test {time.time_ns()}"
        spec = message_mod.MessageSpec(
            from_addr=f"{info.username}@localhost",
            from_name="MailSetup self-test",
            to=["selftest@localhost"],
            cc=[],
            bcc=[],
            subject=subject,
            text="If you can read this, sending works.",
            html=None,
            attachments=[],
        )
        message = message_mod.build_message(spec)
        result = asyncio.run(sending.send_message(server.settings("ssl"), info.password, message))
        items.append(_engine_item("test send", result, lambda r: f"accepted {list(r.accepted)}"))
        arrived = [m for m in server.inbox if m.subject == subject]
        if arrived:
            items.append(Item("sandbox inbox", OK, f"message arrived ({arrived[0].size} bytes)"))
        else:
            items.append(Item("sandbox inbox", FAIL, "the sent message did not arrive"))
        return items


def _engine_item(name: str, result, detail: Callable) -> Item:
    if result.ok:
        return Item(name, OK, detail(result))
    diagnosis = result.diagnosis
    what = f"{diagnosis.code.value}: {diagnosis.title}" if diagnosis is not None else "failed without a diagnosis"
    return Item(name, FAIL, what)


def _keyring() -> list[Item]:
    from importlib import metadata

    names = sorted(ep.name for ep in metadata.entry_points(group="keyring.backends"))
    if not names:
        return [Item("keyring backends", FAIL, "none registered (keyring's metadata is missing from this build)")]
    expected = {"linux": "SecretService", "darwin": "macOS", "win32": "Windows"}.get(sys.platform)
    items = [
        Item(
            "keyring backends",
            FAIL if expected and expected not in names else OK,
            f"registered: {', '.join(names)}",
        )
    ]
    secrets_mod = _optional("app.core.store.secrets")
    if secrets_mod is not None and hasattr(secrets_mod, "SecretStore"):
        try:
            info = secrets_mod.SecretStore(timeout=10.0).info()
            items.append(Item("keyring in use", OK, f"{info.name} ({info.qualname})"))
        except secrets_mod.SecretStoreError as exc:
            items.append(Item("keyring in use", NOTE, f"no usable password store here: {exc}"))
        return items
    import keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    usable = not name.endswith(("fail.Keyring", "null.Keyring"))
    items.append(Item("keyring in use", OK if usable else NOTE, name if usable else f"{name} (no usable keyring here)"))
    return items
