"""Exports: correct security mapping, escaping that survives a real parser, 0600 files, no password by default."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import stat

import pytest

from app.core.model.settings import Security, SmtpSettings, TlsOptions
from app.core.store import (
    EXPORT_FORMATS,
    ExportError,
    dotenv_quote,
    js_str,
    php_str,
    py_str,
    render_export,
    write_export,
)
from app.core.store.profiles import Profile

NASTY = [
    "plain",
    "with space",
    'it\'s "quoted"',
    "$HOME and `cmd` and $(cmd)",
    "back\\slash\\\\double\\",
    "line\nbreak\r\ttab",
    "#not a comment",
    "юникод 😀 \u2028 sep",
    "');system('x');//",
    "\"; import os; os.system('x') #",
]


def profile(
    security: Security = Security.SSL,
    port: int = 465,
    *,
    user: str = "me@example.com",
    from_name: str = "Me",
    from_addr: str = "me@example.com",
    verify: bool = True,
) -> Profile:
    s = SmtpSettings(
        host="smtp.example.com", port=port, security=security, username=user, tls=TlsOptions(verify=verify)
    )
    return Profile(name="Work", settings=s, from_addr=from_addr, from_name=from_name)


def parse_dotenv(text: str) -> dict[str, str]:
    dotenv = pytest.importorskip("dotenv")
    return dict(dotenv.dotenv_values(stream=io.StringIO(text)))


def python_assignments(text: str) -> dict[str, object]:
    """Top-level NAME = <literal> assignments of a Python file (it must parse)."""
    tree = ast.parse(text)
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                out[node.targets[0].id] = ast.unparse(node.value)
    return out


def php_unquote(literal: str) -> str:
    """Decode a PHP single-quoted string literal exactly as PHP does."""
    assert literal[0] == literal[-1] == "'"
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in "\\'":
            out.append(body[i + 1])
            i += 2
            continue
        assert c != "'", "unescaped quote ends the PHP string early"
        out.append(c)
        i += 1
    return "".join(out)


# -- quoting primitives -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", NASTY)
def test_py_and_js_and_php_literals_roundtrip(value):
    assert ast.literal_eval(py_str(value)) == value
    assert json.loads(js_str(value)) == value
    assert "\n" not in js_str(value) and "\u2028" not in js_str(value)
    assert php_unquote(php_str(value)) == value


@pytest.mark.parametrize("value", NASTY + ["", "a=b", "p@ss:w/rd+%"])
def test_dotenv_values_roundtrip_through_python_dotenv(value):
    got = parse_dotenv(f"K={dotenv_quote(value)}\nNEXT=1\n")
    assert got["K"] == value and got["NEXT"] == "1"


@pytest.mark.parametrize("value", ["a${HOME}b", "it's ${X}", "'$HOME"])
def test_dotenv_refuses_values_it_cannot_hold(value):
    with pytest.raises(ExportError):
        dotenv_quote(value)


# -- formats --------------------------------------------------------------------------------------------


def test_env_matches_reference_layout_and_leaves_password_out():
    text = render_export(profile(Security.STARTTLS, 587), "env")
    env = parse_dotenv(text)
    assert env["SMTP_HOST"] == "smtp.example.com" and env["SMTP_PORT"] == "587"
    assert env["SMTP_SECURE"] == "false" and env["SMTP_USER"] == "me@example.com"
    assert env["SMTP_PASS"] == "" and env["SMTP_FROM"] == "Me <me@example.com>"
    assert re.search(r"^# .*SMTP_PASS", text, re.M)
    assert parse_dotenv(render_export(profile(), "env"))["SMTP_SECURE"] == "true"


@pytest.mark.parametrize("value", [v for v in NASTY if "\r" not in v])
def test_env_with_nasty_values_parses_back(value):
    p = profile(Security.SSL, 465, user=value, from_name=value)
    env = parse_dotenv(render_export(p, "env", password=value))
    assert env["SMTP_USER"] == value and env["SMTP_PASS"] == value
    assert value in env["SMTP_FROM"] or "me@example.com" in env["SMTP_FROM"]


@pytest.mark.parametrize(
    "security, port, ssl, tls",
    [(Security.SSL, 465, True, False), (Security.STARTTLS, 587, False, True), (Security.NONE, 25, False, False)],
)
def test_django_security_flags(security, port, ssl, tls):
    values = python_assignments(render_export(profile(security, port), "django"))
    assert values["EMAIL_USE_SSL"] is ssl and values["EMAIL_USE_TLS"] is tls
    assert values["EMAIL_PORT"] == port and values["EMAIL_HOST"] == "smtp.example.com"
    assert values["EMAIL_HOST_PASSWORD"] == "os.environ['SMTP_PASS']"
    assert values["DEFAULT_FROM_EMAIL"] == "Me <me@example.com>"


@pytest.mark.parametrize("value", NASTY)
def test_python_exports_keep_nasty_values_as_data(value):
    p = profile(user=value, from_name=value)
    for fmt in ("django", "smtplib"):
        text = render_export(p, fmt, password=value)
        values = python_assignments(text)  # must parse: no injected code
        user_key, pw_key = ("EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD") if fmt == "django" else ("USER", "PASSWORD")
        assert values[user_key] == value and values[pw_key] == value
        calls = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call)]
        assert all(getattr(c.func, "attr", getattr(c.func, "id", "")) != "system" for c in calls)


def test_smtplib_uses_ssl_or_starttls():
    ssl_text = render_export(profile(Security.SSL, 465), "smtplib")
    assert "smtplib.SMTP_SSL(HOST, PORT, context=context" in ssl_text and "starttls" not in ssl_text
    st = render_export(profile(Security.STARTTLS, 587), "smtplib")
    assert "smtplib.SMTP(HOST, PORT" in st and "smtp.starttls(context=context)" in st
    assert "os.environ['SMTP_PASS']" in st
    compile(st, "send_mail.py", "exec")


def _js_object_values(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s+(\w+): (.+?),(?: //.*)?$", text, re.M)}


@pytest.mark.parametrize(
    "security, port, secure",
    [(Security.SSL, 465, "true"), (Security.STARTTLS, 587, "false"), (Security.NONE, 25, "false")],
)
def test_nodemailer_secure_only_for_implicit_tls(security, port, secure):
    text = render_export(profile(security, port), "nodemailer")
    values = _js_object_values(text)
    assert values["secure"] == secure and values["port"] == str(port)
    assert ("requireTLS: true" in text) is (security is Security.STARTTLS)
    assert "pass: process.env.SMTP_PASS" in text


@pytest.mark.parametrize("value", NASTY)
def test_nodemailer_escapes(value):
    text = render_export(profile(user=value, from_name=value), "nodemailer", password=value)
    js = r'"(?:[^"\\]|\\.)*"'
    auth = re.search(rf"auth: \{{ user: ({js}), pass: ({js}) \}}", text)
    assert json.loads(auth.group(1)) == value and json.loads(auth.group(2)) == value
    frm = re.search(r"^const FROM = (.*);$", text, re.M)
    assert value in json.loads(frm.group(1)) or "me@example.com" in json.loads(frm.group(1))
    assert len(text.splitlines()) == len(render_export(profile(), "nodemailer", password="x").splitlines())


@pytest.mark.parametrize(
    "security, constant", [(Security.SSL, "ENCRYPTION_SMTPS"), (Security.STARTTLS, "ENCRYPTION_STARTTLS")]
)
def test_phpmailer_encryption_constant(security, constant):
    text = render_export(profile(security, 465 if security is Security.SSL else 587), "phpmailer")
    assert f"$mail->SMTPSecure = PHPMailer::{constant};" in text
    assert "$mail->Password = getenv('SMTP_PASS');" in text


@pytest.mark.parametrize("value", NASTY)
def test_phpmailer_escapes(value):
    text = render_export(profile(user=value, from_name=value), "phpmailer", password=value)
    user = re.search(r"^\$mail->Username = ('.*');$", text, re.M | re.S)
    pw = re.search(r"^\$mail->Password = ('(?:[^'\\]|\\.)*');$", text, re.M)
    assert php_unquote(pw.group(1)) == value
    assert user is not None
    name = re.search(r"^\$mail->setFrom\('me@example.com', ('(?:[^'\\]|\\.)*')\);$", text, re.M)
    assert php_unquote(name.group(1)) == value


@pytest.mark.parametrize("value", NASTY)
def test_json_export(value):
    data = json.loads(render_export(profile(user=value, from_name=value), "json", password=value))
    assert data["username"] == value and data["password"] == value and data["from_name"] == value
    plain = json.loads(render_export(profile(), "json"))
    assert plain["password"] is None and plain["password_env"] == "SMTP_PASS" and plain["secure"] is True


def test_no_format_contains_the_password_unless_asked():
    secret = "Zx9-secret-!$"
    for fmt in EXPORT_FORMATS:
        assert secret not in render_export(profile(), fmt)
        assert secret in render_export(profile(), fmt, password=secret)


def test_settings_only_and_unknown_format():
    s = SmtpSettings(host="127.0.0.1", port=2525, security=Security.STARTTLS)
    text = render_export(s, "env")
    assert parse_dotenv(text)["SMTP_FROM"] == "" and "SMTP_PORT=2525" in text
    with pytest.raises(ExportError):
        render_export(s, "yaml")


def test_insecure_settings_are_flagged():
    text = render_export(profile(verify=False), "nodemailer")
    assert "rejectUnauthorized: false" in text and "WARNING" in text
    assert "verify_peer' => false" in render_export(profile(verify=False), "phpmailer")


def test_name_with_newline_cannot_break_comment_lines():
    p = Profile(name="evil\nSMTP_HOST=attacker", settings=profile().settings)
    env = parse_dotenv(render_export(p, "env"))
    assert env["SMTP_HOST"] == "smtp.example.com"


# -- files --------------------------------------------------------------------------------------------


def test_write_export_is_0600_from_creation(tmp_path):
    old_umask = os.umask(0)  # even with a permissive umask the file is never group/world readable
    try:
        path = write_export(tmp_path / ".env", "SMTP_PASS=x\n")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "SMTP_PASS=x\n"
    existing = tmp_path / "old.env"
    existing.write_text("old")
    existing.chmod(0o644)
    write_export(existing, "new\n")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600 and existing.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "old.env"]


def test_write_export_into_missing_folder_raises(tmp_path):
    with pytest.raises(OSError):
        write_export(tmp_path / "missing" / ".env", "x")


@pytest.mark.parametrize("value", NASTY)
def test_nodemailer_snippet_runs_in_node(tmp_path, value):
    """Evaluate the snippet in real Node with a stand-in nodemailer that returns its options."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    snippet = tmp_path / "mailer.js"
    snippet.write_text(render_export(profile(user=value, from_name=value), "nodemailer", password=value))
    runner = (
        "const Module = require('module'); const orig = Module.prototype.require;"
        "Module.prototype.require = function (n) { return n === 'nodemailer' ?"
        " { createTransport: (o) => o } : orig.apply(this, arguments); };"
        f"const m = require({json.dumps(str(snippet))});"
        "process.stdout.write(JSON.stringify({t: m.transporter, from: m.FROM}));"
    )
    out = subprocess.run(["timeout", "20", node, "-e", runner], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["t"]["auth"] == {"user": value, "pass": value}
    assert data["t"]["secure"] is True and data["t"]["port"] == 465
    assert value in data["from"] or "me@example.com" in data["from"]


def test_custom_ca_is_carried_into_snippets():
    s = SmtpSettings(
        host="127.0.0.1",
        port=2525,
        security=Security.STARTTLS,
        username="u",
        tls=TlsOptions(cafile="/etc/ca's dir/ca.pem"),
    )
    p = Profile(name="ca", settings=s)
    assert "cafile='/etc/ca\\'s dir/ca.pem'" not in render_export(p, "smtplib")  # python repr uses "..."
    assert python_assignments(render_export(p, "smtplib"))["HOST"] == "127.0.0.1"
    assert python_assignments(render_export(p, "smtplib"))["CA_FILE"] == "/etc/ca's dir/ca.pem"
    assert "context = ssl.create_default_context(cafile=CA_FILE)" in render_export(p, "smtplib")
    assert "'cafile' => '/etc/ca\\'s dir/ca.pem'" in render_export(p, "phpmailer")
    assert 'process.env.SMTP_CA_FILE || "/etc/ca\'s dir/ca.pem"' in render_export(p, "nodemailer")
    assert parse_dotenv(render_export(p, "env"))["SMTP_CA_FILE"] == "/etc/ca's dir/ca.pem"
    assert "ca.pem" in render_export(p, "django") and "SSL_CERT_FILE" in render_export(p, "django")
    assert json.loads(render_export(p, "json"))["ca_file"] == "/etc/ca's dir/ca.pem"


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "symlink", "dangling_symlink"])
def test_hostile_export_targets_are_refused(tmp_path, kind, monkeypatch, capsys):
    from app.cli.main import main
    from app.core.store import TargetError

    other = tmp_path / "other.txt"
    other.write_text("keep me", encoding="utf-8")
    target = tmp_path / "out"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target = "/dev/null"  # refused before anything is written, so safe even as root
    elif kind == "directory":
        target.mkdir()
    elif kind == "symlink":
        target.symlink_to(other)
    else:
        target.symlink_to(tmp_path / "nowhere")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(TargetError) as err:
        write_export(target, "secret text")
    what = {"fifo": "named pipe", "device": "device", "directory": "folder", "symlink": "symbolic link"}
    assert what.get(kind, "symbolic link") in err.value.message and str(target) in err.value.message
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert main(["profiles", "add", "w", "--host", "smtp.example.com", "--no-check"]) == 0
    capsys.readouterr()
    assert main(["profiles", "export", "w", "--format", "env", "--output", str(target)]) == 1
    _, err_text = capsys.readouterr()
    assert "not a regular file" in err_text and "Traceback" not in err_text
    assert other.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["cfg"])
    if kind == "fifo":
        assert stat.S_ISFIFO(os.lstat(target).st_mode)
    if kind == "device":
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_pinned_profile_exports_the_pin_everywhere_or_says_why_not():
    from app.core.store import export_warnings

    pin = "ab" * 32
    s = SmtpSettings(
        host="smtp.example.com", port=587, security=Security.STARTTLS, username="u", tls=TlsOptions(pinned_sha256=pin)
    )
    p = Profile(name="pinned", settings=s)
    assert python_assignments(render_export(p, "smtplib"))["PIN_SHA256"] == pin
    assert "check_pin(smtp)" in render_export(p, "smtplib")
    assert f"'peer_fingerprint' => ['sha256' => '{pin}']" in render_export(p, "phpmailer")
    assert "checkServerIdentity" in render_export(p, "nodemailer")
    assert parse_dotenv(render_export(p, "env"))["SMTP_TLS_PIN_SHA256"] == pin
    assert json.loads(render_export(p, "json"))["pinned_sha256"] == pin
    assert "cannot pin" in render_export(p, "django")
    assert any("cannot pin" in w for w in export_warnings(p, "django"))
    assert any("SMTP_CA_FILE" in w for w in export_warnings(p, "nodemailer"))
    assert any("ASCII" in w for w in export_warnings(replace_user(p, "пользователь"), "django"))


def replace_user(p: Profile, user: str) -> Profile:
    return Profile(name=p.name, settings=p.settings.with_(username=user))
