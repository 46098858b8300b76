"""A local SMTP server on loopback to try the whole flow without a real mailbox.

Two listeners on free ports of 127.0.0.1: implicit TLS (like 465) and STARTTLS (like 587), with a
certificate from :mod:`app.core.sandbox.identity`, AUTH PLAIN/LOGIN with a generated login, and an
in-memory inbox (optionally also saved as ``.eml`` files). Nothing is relayed anywhere.
"""

from __future__ import annotations

import base64
import datetime as _dt
import email.policy
import errno
import itertools
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from app.core.model import Security, SmtpSettings, Timeouts, TlsOptions
from app.core.sandbox.identity import SandboxIdentity, default_sandbox_dir, ensure_identity, server_ssl_context
from app.core.store import atomic_write

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SERVER_NAME = "sandbox.mailsetup.localhost"
MAX_MESSAGE_BYTES = 50 * 1024 * 1024
_BIND_ATTEMPTS = 5


@dataclass(frozen=True)
class SandboxInfo:
    """Where the running sandbox listens and how to log in. ``password`` is a secret: never log it."""

    host: str
    ssl_port: int
    starttls_port: int
    username: str
    password: str
    ca_file: Path

    def __repr__(self) -> str:
        return (
            f"SandboxInfo(host={self.host!r}, ssl_port={self.ssl_port}, starttls_port={self.starttls_port}, "
            f"username={self.username!r}, password='***', ca_file={str(self.ca_file)!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, password included (it is shown to the user, never logged)."""
        return {
            "host": self.host,
            "ssl_port": self.ssl_port,
            "starttls_port": self.starttls_port,
            "username": self.username,
            "password": self.password,
            "ca_file": str(self.ca_file),
        }


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the sandbox accepted."""

    id: str
    received_at: _dt.datetime
    mail_from: str
    rcpt_tos: tuple[str, ...]
    subject: str
    size: int
    attachments: list[tuple[str, int]] = field(default_factory=list)
    raw: bytes = field(default=b"", repr=False)
    eml_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the raw bytes)."""
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "subject": self.subject,
            "size": self.size,
            "attachments": [{"name": n, "size": s} for n, s in self.attachments],
            "eml": str(self.eml_path) if self.eml_path else None,
        }

    def parsed(self) -> email.message.EmailMessage:
        """The message parsed with the modern email policy (line ends normalized to ``\\n``)."""
        return _parse(self.raw)


Listener = Callable[[ReceivedMessage], None]


class SandboxServer:
    """The local sandbox: ``start()`` it, point a client at ``settings()``, read ``inbox``, ``stop()`` it."""

    def __init__(self, data_dir: Path | None = None, *, save_eml: bool = False):
        self.data_dir = Path(data_dir) if data_dir is not None else default_sandbox_dir()
        self.save_eml = save_eml
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._listeners: list[Listener] = []
        self._controllers: list[Any] = []
        self._info: SandboxInfo | None = None
        self._identity: SandboxIdentity | None = None
        self._counter = itertools.count(1)
        self._redactor: _SecretRedactor | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._info is not None

    @property
    def info(self) -> SandboxInfo | None:
        """Ports and login while running, else None."""
        return self._info

    def start(self) -> SandboxInfo:
        """Create the certificate/login if needed and start both listeners; returns where they are."""
        if self._info is not None:
            return self._info
        identity = ensure_identity(self.data_dir)
        self._identity = identity
        self._redactor = _SecretRedactor(identity.username, identity.password)
        logging.getLogger("mail.log").addFilter(self._redactor)
        try:
            ssl_ctl = self._start_controller(identity, implicit_tls=True)
            self._controllers.append(ssl_ctl)
            starttls_ctl = self._start_controller(identity, implicit_tls=False)
            self._controllers.append(starttls_ctl)
        except BaseException:
            self.stop()
            raise
        self._info = SandboxInfo(
            host=HOST,
            ssl_port=ssl_ctl.port,
            starttls_port=starttls_ctl.port,
            username=identity.username,
            password=identity.password,
            ca_file=identity.ca_file,
        )
        log.info(
            "sandbox listening on %s: implicit TLS port %d, STARTTLS port %d, login %s",
            HOST,
            ssl_ctl.port,
            starttls_ctl.port,
            identity.username,
        )
        return self._info

    def stop(self) -> None:
        """Stop both listeners and free their ports (the inbox is kept)."""
        controllers, self._controllers = self._controllers, []
        for ctl in controllers:
            try:
                ctl.stop()
            except Exception:  # pragma: no cover - already half-stopped
                log.exception("stopping a sandbox listener failed")
        if self._redactor is not None:
            logging.getLogger("mail.log").removeFilter(self._redactor)
            self._redactor = None
        if self._info is not None:
            log.info("sandbox stopped")
        self._info = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- client side -----------------------------------------------------------------------
    def settings(self, security: str | Security = "ssl") -> SmtpSettings:
        """SmtpSettings for the running sandbox (``ssl`` or ``starttls``), trusting its CA only."""
        info = self._require_running()
        sec = Security(security)
        if sec is Security.NONE:
            raise ValueError("the sandbox only speaks TLS: use 'ssl' or 'starttls'")
        return SmtpSettings(
            host=info.host,
            port=info.ssl_port if sec is Security.SSL else info.starttls_port,
            security=sec,
            username=info.username,
            timeouts=Timeouts(connect=5.0, greeting=5.0, command=10.0, total=20.0),
            tls=TlsOptions(verify=True, cafile=str(info.ca_file)),
        )

    # -- inbox -----------------------------------------------------------------------------
    @property
    def inbox(self) -> list[ReceivedMessage]:
        """A snapshot of the received messages, oldest first."""
        with self._lock:
            return list(self._messages)

    def clear_inbox(self) -> None:
        """Forget the received messages (saved .eml files stay)."""
        with self._lock:
            self._messages.clear()

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(message)`` for each new message, from the server thread."""
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    @property
    def eml_dir(self) -> Path:
        """Where ``.eml`` copies go when ``save_eml`` is on."""
        return self.data_dir / "inbox"

    # -- internals -------------------------------------------------------------------------
    def _require_running(self) -> SandboxInfo:
        if self._info is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._info

    def _start_controller(self, identity: SandboxIdentity, *, implicit_tls: bool) -> Any:
        from aiosmtpd.controller import Controller

        context = server_ssl_context(identity)
        common: dict[str, Any] = dict(
            hostname=HOST,
            server_hostname=SERVER_NAME,
            ident="MailSetup sandbox",
            authenticator=_Authenticator(identity.username, identity.password),
            data_size_limit=MAX_MESSAGE_BYTES,
            timeout=60,
            ready_timeout=10.0,
        )
        if implicit_tls:
            # aiosmtpd does not see implicit TLS as TLS, so AUTH must not demand STARTTLS here.
            kwargs: dict[str, Any] = dict(common, ssl_context=context, auth_require_tls=False)
        else:
            kwargs = dict(common, tls_context=context, require_starttls=True, auth_require_tls=True)
        last_error: OSError | None = None
        for _ in range(_BIND_ATTEMPTS):
            port = _free_port()
            ctl = Controller(_Handler(self), port=port, **kwargs)
            try:
                ctl.start()
                return ctl
            except OSError as exc:  # someone took the port between probing and binding
                last_error = exc
                ctl.stop(no_assert=True)
                if exc.errno not in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                    raise
        raise OSError(f"no free port for the sandbox after {_BIND_ATTEMPTS} tries: {last_error}")

    def _accept(self, envelope: Any) -> ReceivedMessage:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", "surrogateescape")
        number = next(self._counter)
        now = _dt.datetime.now(_dt.timezone.utc)
        msg_id = f"{now:%Y%m%d%H%M%S}-{number:04d}"
        subject, attachments = _summarize(raw)
        eml_path = self._save(msg_id, raw) if self.save_eml else None
        message = ReceivedMessage(
            id=msg_id,
            received_at=now,
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            subject=subject,
            size=len(raw),
            attachments=attachments,
            raw=bytes(raw),
            eml_path=eml_path,
        )
        with self._lock:
            self._messages.append(message)
            listeners = list(self._listeners)
        log.info(
            "sandbox received message %s from %s to %d recipient(s)", msg_id, message.mail_from, len(message.rcpt_tos)
        )
        for callback in listeners:
            try:
                callback(message)
            except Exception:
                log.exception("a sandbox inbox listener failed")
        return message

    def _save(self, msg_id: str, raw: bytes) -> Path | None:
        try:
            self.eml_dir.mkdir(parents=True, exist_ok=True)
            return atomic_write(self.eml_dir / f"{msg_id}.eml", raw, mode=0o600)
        except OSError as exc:
            log.warning("could not save the message as .eml: %s", exc)
            return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _parse(raw: bytes) -> email.message.EmailMessage:
    return BytesParser(policy=email.policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))


def _summarize(raw: bytes) -> tuple[str, list[tuple[str, int]]]:
    """Subject and (name, decoded size) of each attachment."""
    try:
        msg = _parse(raw)
        subject = str(msg.get("Subject", "") or "")
        attachments = []
        for part in msg.iter_attachments() if msg.is_multipart() else []:
            payload = part.get_payload(decode=True) or b""
            attachments.append((part.get_filename() or "(unnamed)", len(payload)))
        return subject, attachments
    except Exception as exc:  # a malformed message is still kept, raw
        log.warning("could not parse a received message: %s", exc)
        return "", []


class _Authenticator:
    """Accepts exactly the sandbox login (PLAIN and LOGIN, constant-time comparison)."""

    def __init__(self, username: str, password: str):
        self._username = username.encode("utf-8")
        self._password = password.encode("utf-8")

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        import hmac

        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(auth_data.login, self._username) & hmac.compare_digest(
            auth_data.password, self._password
        )
        # auth_data is logged by aiosmtpd at debug level: return the login only, never the password.
        return AuthResult(success=bool(ok), handled=False, auth_data=self._username.decode() if ok else None)


class _Handler:
    """aiosmtpd hooks: require a login before MAIL FROM, keep each message in the inbox."""

    def __init__(self, server: SandboxServer):
        self._server = server

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required: log in with the sandbox login first"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = self._server._accept(envelope)
        return f"250 2.0.0 OK: queued as {message.id}"


class _SecretRedactor(logging.Filter):
    """Masks the sandbox password (plain or base64, as in AUTH lines) in aiosmtpd's own log records."""

    _AUTH_LINE = re.compile(r"(AUTH\s+[A-Za-z0-9_-]+\s+)[A-Za-z0-9+/]{6,}=*(?=[\s'\"\\]|$)", re.IGNORECASE)

    def __init__(self, username: str, password: str):
        super().__init__()
        pw = password.encode("utf-8")
        user = username.encode("utf-8")
        self._secrets = [password] + [
            base64.b64encode(v).decode("ascii").rstrip("=")
            for v in (pw, b"\0" + user + b"\0" + pw, user + b"\0" + user + b"\0" + pw)
        ]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # pragma: no cover - a broken record is dropped rather than risk a leak
            return False
        if text.startswith("Session.login_data is deprecated"):
            return False  # aiosmtpd's own noise on every successful login
        masked = self._AUTH_LINE.sub(r"\1***", text)
        for secret in self._secrets:
            masked = masked.replace(secret, "***")
        if masked != text:
            record.msg, record.args = masked, None
        return True
