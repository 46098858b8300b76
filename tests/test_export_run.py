"""Exports run through the programs they are for: python, node + nodemailer, php + PHPMailer.

1. Hostile profile names, logins, sender names and passwords go through every format; each file is
   loaded by its real interpreter, which prints back what it holds: exactly the values, and nothing
   injected (``?>`` in a PHP comment, ``*/`` and U+2028 in JavaScript, triple quotes in Python).
2. Exports of a private-CA profile and of a pinned profile send a real message through their target
   program to a local aiosmtpd server (STARTTLS + AUTH with a non-ASCII password); a wrong pin fails.

A runtime test is skipped only when its interpreter or library is absent on this machine; CI sets
MAILSETUP_REQUIRE_RUNTIMES=1 (and installs php-cli, libphp-phpmailer, nodejs and nodemailer), so
there a missing one fails.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.model import Security, SmtpSettings, TlsOptions
from app.core.store import ExportError, Profile, render_export, write_export
from app.core.store.quoting import from_header

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / ".ci" / "node" / "node_modules"
PHPMAILER_AUTOLOAD = Path("/usr/share/php/libphp-phpmailer/autoload.php")
FROM_ADDR = "me@example.com"

HOSTILE = [
    'x ?> <?php echo "PWNED"; ?>',
    '*/ process.stdout.write("PWNED"); /*',
    '""" + print("PWNED") + """',
    "line\nbreak\u2028sep\u2029\r",
    "back\\slash \\' \\\" end\\",
    "$HOME `id` $(id) ; & | #",
    "юникод 😀 ' \"",
    "</script><!-- -->",
]


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        missing(f"{program} is not installed")
    return path


def missing(why: str) -> None:
    if os.environ.get("MAILSETUP_REQUIRE_RUNTIMES") == "1":
        pytest.fail(f"MAILSETUP_REQUIRE_RUNTIMES=1 but {why}", pytrace=False)
    pytest.skip(why)


def need_nodemailer() -> str:
    node = need("node")
    if not (NODE_MODULES / "nodemailer").is_dir():
        missing("nodemailer is not installed (npm install --prefix .ci/node nodemailer)")
    return node


def need_phpmailer() -> str:
    php = need("php")
    if not PHPMAILER_AUTOLOAD.is_file():
        missing("PHPMailer is not installed (apt-get install libphp-phpmailer)")
    return php


def run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, NODE_PATH=str(NODE_MODULES), **env)
    return subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60, check=False)


def hostile_profile(value: str) -> Profile:
    s = SmtpSettings(host="smtp.example.com", port=587, security=Security.STARTTLS, username=value)
    return Profile(name=value, settings=s, from_addr=FROM_ADDR, from_name=value)


def write_all(tmp_path: Path, fmt: str, ext: str) -> list[Path]:
    files = []
    for i, value in enumerate(HOSTILE):
        path = tmp_path / f"{fmt}{i}{ext}"
        write_export(path, render_export(hostile_profile(value), fmt, password=value))
        files.append(path)
    return files


def expected(value: str) -> list[str]:
    return [value, value, from_header(FROM_ADDR, value)]


PY_LOADER = """
import json, runpy, sys
keys = sys.argv[1].split(",")
out = []
for path in sys.argv[2:]:
    g = runpy.run_path(path)
    out.append([g[k] for k in keys])
print(json.dumps(out))
"""


@pytest.mark.parametrize(
    ("fmt", "keys"),
    [("smtplib", "USER,PASSWORD,FROM"), ("django", "EMAIL_HOST_USER,EMAIL_HOST_PASSWORD,DEFAULT_FROM_EMAIL")],
)
def test_hostile_values_roundtrip_through_python(tmp_path, fmt, keys):
    files = write_all(tmp_path, fmt, ".py")
    done = run([sys.executable, "-c", PY_LOADER, keys, *map(str, files)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [expected(v) for v in HOSTILE]
    assert done.stderr == ""  # nothing injected ran (extra output would also break the JSON above)


def test_hostile_values_roundtrip_through_node(tmp_path):
    node = need_nodemailer()
    files = write_all(tmp_path, "nodemailer", ".js")
    script = (
        "const out = process.argv.slice(1).map((f) => { const m = require(f); "
        "const a = m.transporter.options.auth; return [a.user, a.pass, m.FROM]; });"
        "process.stdout.write(JSON.stringify(out));"
    )
    done = run([node, "-e", script, *map(str, files)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [expected(v) for v in HOSTILE]


def test_hostile_values_roundtrip_through_php(tmp_path):
    php = need_phpmailer()
    files = write_all(tmp_path, "phpmailer", ".php")
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "autoload.php").write_text(f"<?php require_once '{PHPMAILER_AUTOLOAD}';\n", encoding="utf-8")
    (tmp_path / "load.php").write_text(
        "<?php\nfunction load($f) { require $f; return [$mail->Username, $mail->Password, $mail->FromName]; }\n"
        "$out = [];\nforeach (array_slice($argv, 1) as $f) { $out[] = load($f); }\n"
        "echo json_encode($out);\n",
        encoding="utf-8",
    )
    done = run([php, "load.php", *map(str, files)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # setFrom() keeps the display name, minus line breaks and surrounding blanks (PHPMailer's own guard)
    names = [re.sub(r"[\r\n]+", "", v).strip(" \t\n\r\0\x0b") for v in HOSTILE]
    assert json.loads(done.stdout) == [[v, v, n] for v, n in zip(HOSTILE, names)]


def test_hostile_values_roundtrip_through_env_and_json():
    dotenv = pytest.importorskip("dotenv")
    for value in HOSTILE + ["${HOME} and $x"]:
        data = json.loads(render_export(hostile_profile(value), "json", password=value))
        assert (data["profile"], data["username"], data["password"], data["from_name"]) == (value,) * 4
        try:
            text = render_export(hostile_profile(value), "env", password=value)
        except ExportError as exc:
            assert "${" in value and "JSON export" in str(exc)
            continue
        env = dotenv.dotenv_values(stream=io.StringIO(text))
        assert (env["SMTP_USER"], env["SMTP_PASS"], env["SMTP_FROM"]) == tuple(expected(value))
        assert [k for k in env if not k.startswith("SMTP_")] == []


# -- real messages ---------------------------------------------------------------------------------------


def account(server, *, pin: str | None = None, cafile: bool = True) -> Profile:
    s = server.settings(
        tls=TlsOptions(cafile=server.ca_file if cafile else None, pinned_sha256=pin),
    )
    s = s.with_(timeouts=s.timeouts.__class__(connect=5, greeting=5, command=10, total=20))
    return Profile(name="Run ?> */ '''", settings=s, from_addr="sender@example.com", from_name="Sender ✓")


NODE_SEND = (
    "const { transporter, FROM } = require(process.argv[1]);"
    "transporter.sendMail({ from: FROM, to: 'rcpt@example.com', subject: 'node', text: 'via nodemailer' })"
    ".then(() => process.exit(0), (e) => { console.error(String(e)); process.exit(1); });"
)
PHP_SEND = (
    "<?php\nrequire $argv[1];\n$mail->addAddress('rcpt@example.com');\n$mail->Subject = 'php';\n"
    "$mail->Body = 'via PHPMailer';\ntry { $mail->send(); echo 'sent'; } "
    "catch (Exception $e) { fwrite(STDERR, $mail->ErrorInfo); exit(1); }\n"
)


def send_with(program: str, tmp_path: Path, profile: Profile, server) -> subprocess.CompletedProcess:
    env = {"SMTP_PASS": server.password, "SMTP_TEST_TO": "rcpt@example.com"}
    if program == "python":
        path = write_export(tmp_path / "send_mail.py", render_export(profile, "smtplib"))
        return run([sys.executable, str(path)], tmp_path, **env)
    if program == "node":
        node = need_nodemailer()
        path = write_export(tmp_path / "mailer.js", render_export(profile, "nodemailer"))
        return run([node, "-e", NODE_SEND, str(path)], tmp_path, **env)
    php = need_phpmailer()
    (tmp_path / "vendor").mkdir(exist_ok=True)
    (tmp_path / "vendor" / "autoload.php").write_text(f"<?php require_once '{PHPMAILER_AUTOLOAD}';\n")
    (tmp_path / "send.php").write_text(PHP_SEND, encoding="utf-8")
    path = write_export(tmp_path / "mailer.php", render_export(profile, "phpmailer"))
    return run([php, "send.php", str(path)], tmp_path, **env)


@pytest.mark.parametrize("program", ["python", "node", "php"])
@pytest.mark.parametrize("kind", ["private_ca", "pinned", "wrong_pin"])
def test_export_sends_a_real_message(tmp_path, smtp_server, tls_certs, program, kind):
    server = smtp_server("starttls", auth_required=True)
    assert not server.password.isascii()  # the UTF-8 login is part of what is tested
    pin = {"private_ca": None, "pinned": tls_certs.sha256("valid"), "wrong_pin": "ab" * 32}[kind]
    # Nodemailer checks a pin only after the chain verified: its pinned exports keep the CA (the export says so)
    profile = account(server, pin=pin, cafile=kind == "private_ca" or program == "node")
    done = send_with(program, tmp_path, profile, server)
    if kind == "wrong_pin":
        assert done.returncode != 0 and server.messages == []
        return
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.messages) == 1
    msg = server.messages[0].message
    assert msg["To"] == "rcpt@example.com" and msg["Date"] and msg["Message-ID"]
