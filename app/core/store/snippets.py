"""The code exports: Django settings, a Python smtplib script, a Nodemailer transport, a PHPMailer setup.

Each one works as exported for the account it came from:

- a private CA travels (``cafile`` / ``ca`` / PHP ``cafile``; Django: its backend has no CA
  setting, so the export says to point ``SSL_CERT_FILE`` at it);
- a pinned certificate (the account trusts exactly one certificate, by SHA-256) is enforced where
  the target can do it: the smtplib script compares the fingerprint itself after the handshake,
  PHPMailer passes ``peer_fingerprint`` to PHP's stream context, Nodemailer checks it in
  ``checkServerIdentity`` (which Node runs only once the chain verified, so a certificate that no
  CA vouches for also needs its PEM in ``ca``: the export says so); Django cannot, and says so;
- Python's smtplib encodes logins as ASCII (CPython issue 73936): the smtplib script logs in with
  AUTH PLAIN in UTF-8 itself; the Django export notes the limit;
- the smtplib script sends Date and Message-ID like any mail program.
"""

from __future__ import annotations

from app.core.model import Security, SmtpSettings
from app.core.store.quoting import comment, describe, from_header, js_str, php_str, py_str

PASSWORD_ENV_VAR = "SMTP_PASS"
PHPMAILER_DEBIAN_AUTOLOAD = "/usr/share/php/libphp-phpmailer/autoload.php"


def _title(kind: str, name: str, s: SmtpSettings, lang: str) -> str:
    return f"{kind} exported by MailSetup{(' for ' + comment(name, lang)) if name else ''}: {describe(s)}"


def _pw_py(password: str | None) -> str:
    if password is None:
        return f"os.environ[{py_str(PASSWORD_ENV_VAR)}]  # set {PASSWORD_ENV_VAR} in the environment"
    return py_str(password)


def django(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    lines = [
        "# " + _title("Django e-mail settings", name, s, "py"),
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
        lines.append(f"DEFAULT_FROM_EMAIL = {py_str(from_header(from_addr, from_name))}")
        lines.append("SERVER_EMAIL = DEFAULT_FROM_EMAIL")
    lines += django_notes(s, password)
    return "\n".join(lines) + "\n"


def django_notes(s: SmtpSettings, password: str | None) -> list[str]:
    """What Django's SMTP backend cannot do for this account, as comment lines."""
    notes = []
    if s.tls.cafile:
        notes += [
            "# NOTE: this server's certificate comes from a private CA. Django's backend has no CA setting; it",
            "# verifies against the default CA store, so start Django with SSL_CERT_FILE pointing at a bundle",
            f"# that includes this CA: {comment(s.tls.cafile, 'py')}",
        ]
    if s.tls.pinned_sha256:
        notes += [
            "# NOTE: this account trusts exactly one certificate (SHA-256 "
            f"{s.tls.pinned_sha256}); Django cannot pin a certificate,",
            "# so it verifies the chain as usual and a certificate no CA vouches for will be refused.",
        ]
    elif not s.tls.verify:
        notes.append("# NOTE: the tested settings do not verify the certificate; Django always does.")
    if s.username and (not s.username.isascii() or (password is not None and not password.isascii())):
        notes.append("# NOTE: Django logs in via smtplib, which sends the login as ASCII: non-ASCII fails.")
    else:
        notes.append("# Django logs in via smtplib, which sends the login as ASCII: a non-ASCII password fails.")
    return notes


def _smtplib_tls(s: SmtpSettings) -> list[str]:
    if s.tls.pinned_sha256:
        return [
            "# This account trusts exactly one certificate, checked by its SHA-256 fingerprint after the handshake.",
            f"PIN_SHA256 = {py_str(s.tls.pinned_sha256)}",
            "context = ssl.create_default_context()",
            "context.check_hostname = False",
            "context.verify_mode = ssl.CERT_NONE",
        ]
    lines = [f"CA_FILE = {py_str(s.tls.cafile) if s.tls.cafile else 'None'}  # a private CA, if any"]
    lines.append("context = ssl.create_default_context(cafile=CA_FILE)")
    if not s.tls.verify:
        lines += [
            "# WARNING: certificate verification is off, as in the tested settings.",
            "context.check_hostname = False",
            "context.verify_mode = ssl.CERT_NONE",
        ]
    return lines


_SMTPLIB_HELPERS = '''

def check_pin(smtp: smtplib.SMTP) -> None:
    """Refuse the connection unless the server shows the pinned certificate."""
    der = smtp.sock.getpeercert(binary_form=True)
    if hashlib.sha256(der).hexdigest() != PIN_SHA256:
        smtp.close()
        raise ssl.SSLError("the server's certificate is not the pinned one")


def login_utf8(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN in UTF-8 (smtplib.login() encodes as ASCII, CPython issue 73936)."""
    smtp.ehlo_or_helo_if_needed()
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        smtp.login(user, password)  # the server offers no PLAIN: smtplib's own choice
        return
    token = base64.b64encode(("\\0" + user + "\\0" + password).encode("utf-8")).decode("ascii")
    code, reply = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)
'''


def smtplib(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    login = s.username != ""
    pinned = bool(s.tls.pinned_sha256)
    lines = [
        "# " + _title("Send a test message with Python's smtplib,", name, s, "py"),
        "import base64",
        "import hashlib",
        "import os",
        "import smtplib",
        "import ssl",
        "from email.message import EmailMessage",
        "from email.utils import formatdate, make_msgid",
        "",
        f"HOST = {py_str(s.host)}",
        f"PORT = {s.port}",
        f"USER = {py_str(s.username)}",
        f"PASSWORD = {_pw_py(password) if login else py_str('')}",
        f"FROM = {py_str(from_header(from_addr, from_name) or s.username)}",
        f"TIMEOUT = {int(s.timeouts.total)}",
        "",
        *_smtplib_tls(s),
    ]
    lines += _SMTPLIB_HELPERS.splitlines()
    lines += ["", "", "def send(to: str, subject: str, text: str) -> None:"]
    lines += [
        "    msg = EmailMessage()",
        '    msg["From"] = FROM',
        '    msg["To"] = to',
        '    msg["Subject"] = subject',
        '    msg["Date"] = formatdate(localtime=True)',
        '    msg["Message-ID"] = make_msgid(domain=FROM.rpartition("@")[2].strip(">") or None)',
        "    msg.set_content(text)",
    ]
    if s.security is Security.SSL:
        lines.append("    with smtplib.SMTP_SSL(HOST, PORT, context=context, timeout=TIMEOUT) as smtp:")
        if pinned:
            lines.append("        check_pin(smtp)")
    else:
        lines.append("    with smtplib.SMTP(HOST, PORT, timeout=TIMEOUT) as smtp:")
        if s.security is Security.STARTTLS:
            lines.append("        smtp.starttls(context=context)")
            if pinned:
                lines.append("        check_pin(smtp)")
        else:
            lines.append("        # WARNING: no encryption, as in the tested settings.")
    if login:
        lines.append("        login_utf8(smtp, USER, PASSWORD)")
    lines.append("        smtp.send_message(msg)")
    lines += [
        "",
        "",
        'if __name__ == "__main__":',
        '    send(os.environ.get("SMTP_TEST_TO", FROM), "MailSetup test", "It works.")',
    ]
    return "\n".join(lines) + "\n"


def _node_tls(s: SmtpSettings) -> tuple[list[str], list[str]]:
    """(entries of the tls object, comment lines before the transport)."""
    tls = [f'minVersion: "TLSv{s.tls.minimum.value}"']
    notes: list[str] = []
    ca = "process.env.SMTP_CA_FILE"
    if s.tls.cafile:
        ca = f"process.env.SMTP_CA_FILE || {js_str(s.tls.cafile)}"
    tls.append(f"ca: {ca} ? [fs.readFileSync({ca})] : undefined")
    if s.tls.pinned_sha256:
        tls.append(f"checkServerIdentity: (host, cert) => pinned(host, cert, {js_str(s.tls.pinned_sha256)})")
        if not s.tls.cafile:
            notes += [
                "// NOTE: this account trusts exactly one certificate, by its SHA-256 fingerprint. Node checks the",
                "// pin below only after the certificate chain verified, so a certificate that no CA vouches for",
                "// also needs its PEM file in SMTP_CA_FILE (Nodemailer cannot trust a fingerprint alone).",
            ]
    elif not s.tls.verify:
        tls.append("rejectUnauthorized: false /* WARNING: certificate not verified */")
    return tls, notes


_NODE_PIN = """
// The certificate must be the pinned one (SHA-256), and the name must match as usual.
function pinned(host, cert, sha256) {
  const wanted = sha256.toUpperCase().match(/../g).join(":");
  if (cert.fingerprint256 !== wanted) {
    return new Error("the server's certificate is not the pinned one");
  }
  return tls.checkServerIdentity(host, cert);
}
"""


def nodemailer(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    secure = s.security is Security.SSL
    tls, notes = _node_tls(s)
    lines = [
        "// " + _title("nodemailer transport", name, s, "js"),
        'const fs = require("fs");',
        'const tls = require("tls");',
        'const nodemailer = require("nodemailer");',
    ]
    if s.tls.pinned_sha256:
        lines += _NODE_PIN.splitlines()
    lines += notes
    lines += [
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
    if s.security is not Security.NONE:
        lines.append(f"  tls: {{ {', '.join(tls)} }},")
    lines += [
        f"  connectionTimeout: {int(s.timeouts.connect * 1000)},",
        f"  greetingTimeout: {int(s.timeouts.greeting * 1000)},",
        "});",
    ]
    if from_addr:
        lines += ["", f"const FROM = {js_str(from_header(from_addr, from_name))};"]
    lines += ["", "module.exports = { transporter" + (", FROM" if from_addr else "") + " };"]
    return "\n".join(lines) + "\n"


def _php_ssl_options(s: SmtpSettings) -> list[str]:
    opts = []
    if s.tls.cafile:
        opts.append(f"'cafile' => {php_str(s.tls.cafile)}")
    if s.tls.pinned_sha256:
        # PHP checks peer_fingerprint on its own; the pin replaces the chain check, as in MailSetup.
        opts += [
            "'verify_peer' => false",
            "'verify_peer_name' => false",
            f"'peer_fingerprint' => ['sha256' => {php_str(s.tls.pinned_sha256)}]",
        ]
    elif not s.tls.verify:
        opts += ["'verify_peer' => false", "'verify_peer_name' => false"]
    return opts


def phpmailer(s: SmtpSettings, from_addr: str, from_name: str, name: str, password: str | None) -> str:
    lines = [
        "<?php",
        "// " + _title("PHPMailer setup", name, s, "php"),
        "use PHPMailer\\PHPMailer\\PHPMailer;",
        "",
        "// Composer's autoloader. Without Composer, Debian/Ubuntu's package libphp-phpmailer has:",
        f"// require '{PHPMAILER_DEBIAN_AUTOLOAD}';",
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
    opts = _php_ssl_options(s)
    if not s.tls.verify and not s.tls.pinned_sha256:
        lines.append("// WARNING: certificate verification is off, as in the tested settings.")
    if opts and s.security is not Security.NONE:
        lines.append(f"$mail->SMTPOptions = ['ssl' => [{', '.join(opts)}]];")
    lines.append(f"$mail->Timeout = {int(s.timeouts.total)};")
    lines.append("$mail->CharSet = PHPMailer::CHARSET_UTF8;")
    if from_addr:
        lines.append(f"$mail->setFrom({php_str(from_addr)}, {php_str(from_name)});")
    return "\n".join(lines) + "\n"
