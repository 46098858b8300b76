"""Ready-to-paste configuration for other programs: .env, Django, nodemailer, PHPMailer, smtplib, JSON.

By default no export contains the password: the snippets read it from the environment
variable ``SMTP_PASS`` and the .env file leaves ``SMTP_PASS=`` empty with a comment.
Only ``render_export(..., password=...)`` (the user ticked "include password")
writes it, quoted for the target language. Every value is escaped for its target
(Python ``repr``, JSON/JavaScript string literals, PHP single-quoted strings, dotenv
quoting), so quotes, ``$``, backslashes or newlines in a name or password can neither
break the file nor inject code.

Security mapping: implicit TLS (``Security.SSL``, usually port 465) -> ``SMTP_SECURE=true``,
Django ``EMAIL_USE_SSL``, nodemailer ``secure: true``, PHPMailer ``ENCRYPTION_SMTPS``,
``smtplib.SMTP_SSL``; STARTTLS -> ``SMTP_SECURE=false``, ``EMAIL_USE_TLS``,
``secure: false`` + ``requireTLS: true``, ``ENCRYPTION_STARTTLS``, ``SMTP.starttls()``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from app.core.model import Security, SmtpSettings
from app.core.store.files import atomic_write

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
PASSWORD_ENV_VAR = "SMTP_PASS"


class ExportError(ValueError):
    """The export cannot be produced (unknown format, or a value that the format cannot hold safely)."""


# -- quoting per language ------------------------------------------------------------------------

_DOTENV_BARE = re.compile(r"^[A-Za-z0-9_@.,:/+=%-]*$")


def dotenv_quote(value: str) -> str:
    """Quote ``value`` for a .env file so python-dotenv, Node's dotenv and docker compose read it back.

    Plain values stay bare; values with spaces, ``$``, ``#``, quotes and the like go in single
    quotes (literal, no ``$`` expansion); values that single quotes cannot hold (a ``'``, a line
    break, ``\\\\`` or a trailing backslash) use double quotes with backslash escapes. ``${`` is
    expanded by python-dotenv inside any quotes, and ``$NAME`` inside double quotes by other readers:
    such values raise ExportError (use the JSON export).
    """
    if _DOTENV_BARE.match(value):
        return value
    if "${" in value:
        raise ExportError(
            "A value contains '${', which python-dotenv expands as a variable whatever the quoting, so it cannot "
            "be written to a .env file safely. Use the JSON export, or set that variable in your host directly."
        )
    needs_double = (
        "'" in value or "\\\\" in value or value.endswith("\\") or any(ord(c) < 0x20 or c == "\x7f" for c in value)
    )
    if not needs_double:
        return f"'{value}'"
    if re.search(r"\$[A-Za-z_]", value):
        raise ExportError(
            "A value contains both characters that need double quotes (a ' or a line break) and a '$' "
            "followed by a name, which some .env readers would expand. Use the JSON export instead."
        )
    out = []
    for c in value:
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or c == "\x7f":
            raise ExportError("A value contains a control character that a .env file cannot hold.")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def py_str(value: str) -> str:
    """A Python string literal that evaluates to exactly ``value``."""
    return repr(str(value))


def js_str(value: str) -> str:
    """A JavaScript string literal (JSON, ASCII-only, so U+2028 and friends are escaped)."""
    return json.dumps(str(value), ensure_ascii=True)


def php_str(value: str) -> str:
    """A PHP single-quoted string literal (no ``$`` interpolation; only ``\\\\`` and ``\\'`` escapes)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _one_line(value: str) -> str:
    """Text for a comment line: line breaks removed so it cannot end the comment."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+", " ", value)


# -- helpers ---------------------------------------------------------------------------------------


def _from_header(addr: str, name: str) -> str:
    if not addr:
        return ""
    if not name:
        return addr
    try:
        return str(Address(display_name=name, addr_spec=addr))
    except (ValueError, IndexError, TypeError):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{addr}>'


def _describe(settings: SmtpSettings) -> str:
    mode = {
        Security.SSL: "implicit TLS (encrypted from the first byte)",
        Security.STARTTLS: "STARTTLS (plain greeting, then upgraded to TLS)",
        Security.NONE: "NO encryption",
    }[settings.security]
    return f"{settings.host}:{settings.port}, {mode}"


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
    lines = [f"# SMTP settings exported by MailSetup{(' for ' + _one_line(name)) if name else ''}: {_describe(s)}"]
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
    lines.append(f"SMTP_FROM={dotenv_quote(_from_header(from_addr, from_name))}")
    if s.tls.cafile:
        lines.append(f"# The server's certificate is trusted via this CA file: {_one_line(s.tls.cafile)}")
    if not s.tls.verify:
        lines.append("# WARNING: the tested settings do not verify the server certificate.")
    return "\n".join(lines) + "\n"


def _pw_py(password: str | None) -> str:
    if password is None:
        return f"os.environ[{py_str(PASSWORD_ENV_VAR)}]  # set {PASSWORD_ENV_VAR} in the environment"
    return py_str(password)


def _django(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    lines = [
        f"# Django e-mail settings exported by MailSetup{(' for ' + _one_line(name)) if name else ''}: {_describe(s)}",
        "import os",
        "",
        'EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"',
        f"EMAIL_HOST = {py_str(s.host)}",
        f"EMAIL_PORT = {s.port}",
        f"EMAIL_USE_SSL = {s.security is Security.SSL}  # implicit TLS",
        f"EMAIL_USE_TLS = {s.security is Security.STARTTLS}  # STARTTLS (never both True)",
        f"EMAIL_HOST_USER = {py_str(s.username)}",
        f"EMAIL_HOST_PASSWORD = {_pw_py(password) if s.username else py_str('')}",
        f"EMAIL_TIMEOUT = {int(s.timeouts.total)}",
    ]
    if from_addr:
        lines.append(f"DEFAULT_FROM_EMAIL = {py_str(_from_header(from_addr, from_name))}")
        lines.append("SERVER_EMAIL = DEFAULT_FROM_EMAIL")
    if not s.tls.verify or s.tls.cafile:
        lines.append("# Note: this server's certificate is not trusted by default; Django verifies it against the")
        lines.append(
            "# system CA store (set SSL_CERT_FILE to a bundle that includes the server's CA"
            + (f": {_one_line(s.tls.cafile)}" if s.tls.cafile else "")
            + ")."
        )
    return "\n".join(lines) + "\n"


def _smtplib(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    login = s.username != ""
    lines = [
        f"# Send a test message with Python's smtplib, exported by MailSetup"
        f"{(' for ' + _one_line(name)) if name else ''}: {_describe(s)}",
        "import os",
        "import smtplib",
        "import ssl",
        "from email.message import EmailMessage",
        "",
        f"HOST = {py_str(s.host)}",
        f"PORT = {s.port}",
        f"USER = {py_str(s.username)}",
        f"PASSWORD = {_pw_py(password) if login else py_str('')}",
        f"FROM = {py_str(_from_header(from_addr, from_name) or s.username)}",
        f"TIMEOUT = {int(s.timeouts.total)}",
        "",
    ]
    if s.tls.cafile:
        lines.append(f"context = ssl.create_default_context(cafile={py_str(s.tls.cafile)})")
    else:
        lines.append("context = ssl.create_default_context()")
    if not s.tls.verify:
        lines += [
            "# WARNING: certificate verification is off, as in the tested settings.",
            "context.check_hostname = False",
            "context.verify_mode = ssl.CERT_NONE",
        ]
    lines += ["", "", "def send(to: str, subject: str, text: str) -> None:"]
    lines += [
        "    msg = EmailMessage()",
        '    msg["From"] = FROM',
        '    msg["To"] = to',
        '    msg["Subject"] = subject',
        "    msg.set_content(text)",
    ]
    if s.security is Security.SSL:
        lines.append("    with smtplib.SMTP_SSL(HOST, PORT, context=context, timeout=TIMEOUT) as smtp:")
    else:
        lines.append("    with smtplib.SMTP(HOST, PORT, timeout=TIMEOUT) as smtp:")
        if s.security is Security.STARTTLS:
            lines.append("        smtp.starttls(context=context)")
        else:
            lines.append("        # WARNING: no encryption, as in the tested settings.")
    if login:
        lines.append("        smtp.login(USER, PASSWORD)")
    lines.append("        smtp.send_message(msg)")
    lines += [
        "",
        "",
        'if __name__ == "__main__":',
        '    send(os.environ.get("SMTP_TEST_TO", FROM), "MailSetup test", "It works.")',
    ]
    return "\n".join(lines) + "\n"


def _nodemailer(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    secure = s.security is Security.SSL
    lines = [
        f"// nodemailer transport exported by MailSetup{(' for ' + _one_line(name)) if name else ''}: {_describe(s)}",
        'const nodemailer = require("nodemailer");',
        "",
        "const transporter = nodemailer.createTransport({",
        f"  host: {js_str(s.host)},",
        f"  port: {s.port},",
        f"  secure: {'true' if secure else 'false'}, // true only for implicit TLS (port 465 style)",
    ]
    if s.security is Security.STARTTLS:
        lines.append("  requireTLS: true, // STARTTLS is mandatory: never fall back to plain text")
    elif s.security is Security.NONE:
        lines.append("  ignoreTLS: true, // WARNING: no encryption, as in the tested settings")
    if s.username:
        pw = js_str(password) if password is not None else f"process.env.{PASSWORD_ENV_VAR}"
        lines.append(f"  auth: {{ user: {js_str(s.username)}, pass: {pw} }},")
    tls = [f'minVersion: "TLSv{s.tls.minimum.value}"']
    if s.tls.cafile:
        tls.append(f'ca: [require("fs").readFileSync({js_str(s.tls.cafile)})]')
    if not s.tls.verify:
        tls.append("rejectUnauthorized: false /* WARNING: certificate not verified */")
    if s.security is not Security.NONE:
        lines.append(f"  tls: {{ {', '.join(tls)} }},")
    timeout_ms = int(s.timeouts.connect * 1000)
    lines += [f"  connectionTimeout: {timeout_ms},", f"  greetingTimeout: {int(s.timeouts.greeting * 1000)},", "});"]
    if from_addr:
        lines += ["", f"const FROM = {js_str(_from_header(from_addr, from_name))};"]
    lines += ["", "module.exports = { transporter" + (", FROM" if from_addr else "") + " };"]
    return "\n".join(lines) + "\n"


def _phpmailer(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    lines = [
        "<?php",
        f"// PHPMailer setup exported by MailSetup{(' for ' + _one_line(name)) if name else ''}: {_describe(s)}",
        "use PHPMailer\\PHPMailer\\PHPMailer;",
        "",
        "require 'vendor/autoload.php';",
        "",
        "$mail = new PHPMailer(true);",
        "$mail->isSMTP();",
        f"$mail->Host = {php_str(s.host)};",
        f"$mail->Port = {s.port};",
    ]
    if s.security is Security.SSL:
        lines.append("$mail->SMTPSecure = PHPMailer::ENCRYPTION_SMTPS; // implicit TLS")
    elif s.security is Security.STARTTLS:
        lines.append("$mail->SMTPSecure = PHPMailer::ENCRYPTION_STARTTLS;")
    else:
        lines.append("$mail->SMTPSecure = ''; // WARNING: no encryption, as in the tested settings")
        lines.append("$mail->SMTPAutoTLS = false;")
    if s.username:
        pw = php_str(password) if password is not None else f"getenv({php_str(PASSWORD_ENV_VAR)})"
        lines += ["$mail->SMTPAuth = true;", f"$mail->Username = {php_str(s.username)};", f"$mail->Password = {pw};"]
    else:
        lines.append("$mail->SMTPAuth = false;")
    ssl_opts = []
    if s.tls.cafile:
        ssl_opts.append(f"'cafile' => {php_str(s.tls.cafile)}")
    if not s.tls.verify:
        lines.append("// WARNING: certificate verification is off, as in the tested settings.")
        ssl_opts += ["'verify_peer' => false", "'verify_peer_name' => false"]
    if ssl_opts and s.security is not Security.NONE:
        lines.append(f"$mail->SMTPOptions = ['ssl' => [{', '.join(ssl_opts)}]];")
    lines.append(f"$mail->Timeout = {int(s.timeouts.total)};")
    lines.append("$mail->CharSet = PHPMailer::CHARSET_UTF8;")
    if from_addr:
        lines.append(f"$mail->setFrom({php_str(from_addr)}, {php_str(from_name)});")
    return "\n".join(lines) + "\n"


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
        "tls_verify": s.tls.verify,
    }
    if name:
        data = {"profile": name, **data}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


_RENDERERS = {
    "env": _env,
    "django": _django,
    "nodemailer": _nodemailer,
    "phpmailer": _phpmailer,
    "smtplib": _smtplib,
    "json": _json,
}


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
    return _RENDERERS[fmt](settings, addr, disp, name, password)


def write_export(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` readable by the owner only (mode 0600 from creation), atomically.

    Only a new path or an existing regular file is written; a FIFO, a device, a folder or a symbolic
    link raises TargetError (an OSError with a clear ``message``) and nothing is written, so an
    export can never replace ``/dev/null`` or reach another file through a link. An existing
    file's old mode is not kept. Raises OSError on failure (nothing is left behind).
    """
    return atomic_write(path, text, mode=0o600)
