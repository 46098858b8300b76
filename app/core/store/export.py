"""Ready-to-paste configuration for other programs: .env, Django, nodemailer, PHPMailer, smtplib, JSON.

By default no export contains the password: the snippets read it from the environment
variable ``SMTP_PASS`` and the .env file leaves ``SMTP_PASS=`` empty with a comment.
Only ``render_export(..., password=...)`` (the user ticked "include password")
writes it, quoted for the target language. Every value is escaped for its target, comments
included (``app.core.store.quoting``), so quotes, ``$``, backslashes, newlines, ``?>`` or ``*/``
in a name or password can neither break the file nor inject code.

What an account needs travels with it: a private CA (``SMTP_CA_FILE`` in .env, ``ca_file`` and
``ca_pem`` in JSON, the CA in every snippet), a pinned certificate (``SMTP_TLS_PIN_SHA256``,
``pinned_sha256``, enforced in the snippets where the target can: see ``snippets``), and
``export_warnings`` says what a format cannot carry (Django: no pin, no CA setting, ASCII logins).

Security mapping: implicit TLS (``Security.SSL``, usually port 465) -> ``SMTP_SECURE=true``,
Django ``EMAIL_USE_SSL``, nodemailer ``secure: true``, PHPMailer ``ENCRYPTION_SMTPS``,
``smtplib.SMTP_SSL``; STARTTLS -> ``SMTP_SECURE=false``, ``EMAIL_USE_TLS``,
``secure: false`` + ``requireTLS: true``, ``ENCRYPTION_STARTTLS``, ``SMTP.starttls()``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from app.core.model import IncomingServer, Security, SmtpSettings
from app.core.store import snippets
from app.core.store.files import atomic_write
from app.core.store.quoting import (
    ExportError,
    comment,
    describe,
    dotenv_quote,
    from_header,
)
from app.core.store.snippets import PASSWORD_ENV_VAR

log = logging.getLogger(__name__)

EXPORT_FORMATS: tuple[str, ...] = ("env", "django", "nodemailer", "phpmailer", "smtplib", "json")
# Suggested file name per format (the GUI's save dialog default).
EXPORT_FILENAMES: dict[str, str] = {
    "env": ".env",
    "django": "email_settings.py",
    "nodemailer": "mailer.js",
    "phpmailer": "mailer.php",
    "smtplib": "send_mail.py",
    "json": "smtp.json",
}


def _source(source: Any) -> tuple[SmtpSettings, str, str, str]:
    """(settings, from_addr, from_name, profile name) from a Profile or SmtpSettings."""
    if isinstance(source, SmtpSettings):
        return source, "", "", ""
    settings = getattr(source, "settings", None)
    if not isinstance(settings, SmtpSettings):
        raise ExportError("render_export needs a Profile or SmtpSettings")
    return settings, getattr(source, "from_addr", "") or "", getattr(source, "from_name", "") or "", source.name


# -- renderers ---------------------------------------------------------------------------------------


def _env(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    lines = [f"# SMTP settings exported by MailSetup{(' for ' + comment(name)) if name else ''}: {describe(s)}"]
    lines.append("# Keep this file out of version control (add .env to .gitignore).")
    lines += [
        f"SMTP_HOST={dotenv_quote(s.host)}",
        f"SMTP_PORT={s.port}",
        "# true = implicit TLS (port 465 style); false = STARTTLS or no encryption",
        f"SMTP_SECURE={'true' if s.security is Security.SSL else 'false'}",
        f"SMTP_USER={dotenv_quote(s.username)}",
    ]
    if password is None:
        lines.append("# Put the (app) password here, or better, set SMTP_PASS in your host's secret settings.")
        lines.append("SMTP_PASS=")
    else:
        lines.append(f"SMTP_PASS={dotenv_quote(password)}")
    lines.append(f"SMTP_FROM={dotenv_quote(from_header(from_addr, from_name))}")
    if s.tls.cafile:
        lines += [
            "# The server's certificate comes from this private CA. Trust it in your program, e.g.",
            "#   Node: tls: { ca: [fs.readFileSync(process.env.SMTP_CA_FILE)] }",
            '#   Python: ssl.create_default_context(cafile=os.environ["SMTP_CA_FILE"])',
            "#   PHP: $mail->SMTPOptions = ['ssl' => ['cafile' => getenv('SMTP_CA_FILE')]];",
            f"SMTP_CA_FILE={dotenv_quote(s.tls.cafile)}",
        ]
    if s.tls.pinned_sha256:
        lines += [
            "# This account trusts exactly one certificate: compare the SHA-256 of the server's certificate",
            "# (DER) with this value after the TLS handshake and refuse the connection if it differs.",
            f"SMTP_TLS_PIN_SHA256={s.tls.pinned_sha256}",
        ]
    elif not s.tls.verify:
        lines.append("# WARNING: the tested settings do not verify the server certificate.")
    return "\n".join(lines) + "\n"


def _read_ca(path: str | None) -> str | None:
    """The PEM text of a CA file for the JSON export (None when it cannot be read)."""
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read(256 * 1024)
    except (OSError, UnicodeDecodeError):
        return None
    return text if "-----BEGIN CERTIFICATE-----" in text else None


def _json(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    data: dict[str, Any] = {
        "host": s.host,
        "port": s.port,
        "security": s.security.value,
        "secure": s.security is Security.SSL,
        "username": s.username,
        "password": password,
        "password_env": None if password is not None else PASSWORD_ENV_VAR,
        "from_addr": from_addr,
        "from_name": from_name,
        "tls_verify": s.tls.verify and not s.tls.pinned_sha256,
        "tls_min_version": s.tls.minimum.value,
        "ca_file": s.tls.cafile,
        "ca_pem": _read_ca(s.tls.cafile),
        "pinned_sha256": s.tls.pinned_sha256,
    }
    if name:
        data = {"profile": name, **data}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


_RENDERERS = {
    "env": _env,
    "django": snippets.django,
    "nodemailer": snippets.nodemailer,
    "phpmailer": snippets.phpmailer,
    "smtplib": snippets.smtplib,
    "json": _json,
}


def export_warnings(source: Any, fmt: str, *, password: str | None = None) -> list[str]:
    """What the export ``fmt`` cannot carry for this account, to show at export time."""
    settings, _addr, _name, _pname = _source(source)
    out: list[str] = []
    if fmt == "django":
        if settings.username and (not settings.username.isascii() or (password is not None and not password.isascii())):
            out.append(
                "Django logs in through Python's smtplib, which sends the login as ASCII: this account's "
                "non-ASCII login or password will not work there (CPython issue 73936)."
            )
        if settings.tls.pinned_sha256:
            out.append("Django cannot pin a certificate; it verifies the chain as usual.")
        if settings.tls.cafile:
            out.append("Django has no CA setting: start it with SSL_CERT_FILE pointing at a bundle with this CA.")
    if fmt == "nodemailer" and settings.tls.pinned_sha256 and not settings.tls.cafile:
        out.append(
            "Nodemailer checks the pinned fingerprint only after the certificate chain verified: put the "
            "server's certificate (PEM) in SMTP_CA_FILE."
        )
    if fmt == "env" and settings.tls.pinned_sha256:
        out.append("The .env file carries the pin (SMTP_TLS_PIN_SHA256); your program must check it.")
    return out


def render_export(
    source: Any,
    fmt: str,
    *,
    password: str | None = None,
    from_addr: str | None = None,
    from_name: str | None = None,
) -> str:
    """Text of the export ``fmt`` (one of EXPORT_FORMATS) for a Profile or SmtpSettings.

    ``password`` is written only when given (the user explicitly asked to include it);
    otherwise the export reads it from ``SMTP_PASS``. ``from_addr``/``from_name`` override
    the profile's.
    """
    if fmt not in _RENDERERS:
        raise ExportError(f"Unknown export format '{fmt}'; choose one of: {', '.join(EXPORT_FORMATS)}.")
    settings, p_addr, p_name, name = _source(source)
    addr = p_addr if from_addr is None else from_addr
    disp = p_name if from_name is None else from_name
    if password == "":
        password = None
    text = _RENDERERS[fmt](settings, addr, disp, name, password)
    incoming = getattr(source, "incoming", None)
    if isinstance(incoming, IncomingServer):
        text = _with_incoming(fmt, text, incoming, settings.username)
    return text


def _with_incoming(fmt: str, text: str, server: IncomingServer, username: str) -> str:
    """The incoming server where the format has a place: .env variables, a JSON key (the code exports
    are for sending only). The password is the same as SMTP's and is never repeated here."""
    prefix = server.protocol.name  # IMAP or POP3
    if fmt == "env":
        lines = [
            f"# Incoming mail ({prefix}); the password is the same as SMTP_PASS",
            f"{prefix}_HOST={dotenv_quote(server.host)}",
            f"{prefix}_PORT={server.port}",
            f"{prefix}_SECURITY={server.security.value}",
            f"{prefix}_USER={dotenv_quote(username)}",
        ]
        return text + "\n".join(lines) + "\n"
    if fmt == "json":
        data = json.loads(text)
        data["incoming"] = server.to_dict()
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return text


def write_export(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` readable by the owner only (mode 0600 from creation), atomically.

    Only a new path or an existing regular file is written; a FIFO, a device, a folder or a symbolic
    link raises TargetError (an OSError with a clear ``message``) and nothing is written, so an
    export can never replace ``/dev/null`` or reach another file through a link. An existing
    file's old mode is not kept. Raises OSError on failure (nothing is left behind).
    """
    return atomic_write(path, text, mode=0o600)
