"""``mailsetup check`` / ``mailsetup send``: exit codes, human and JSON output, no secret anywhere."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from app.cli.output import Reporter
from app.core.diagnosis.model import Code, diagnose
from app.core.model.events import Stage, StageFinished, TranscriptLine
from app.core.model.settings import Security, SmtpSettings
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER

ROOT = Path(__file__).resolve().parents[1]
SECRETS = [
    TEST_PASSWORD,
    base64.b64encode(TEST_PASSWORD.encode()).decode(),
    base64.b64encode(f"\0{TEST_USER}\0{TEST_PASSWORD}".encode()).decode(),
]


def conn_args(srv, security=None, *extra):
    args = [
        "--host",
        srv.host,
        "--port",
        str(srv.port),
        "--security",
        security or srv.security,
        "--cafile",
        srv.ca_file,
        "--timeout",
        "4",
        "--greeting-timeout",
        "0.5",
    ]
    if srv.username:
        args += ["--user", srv.username, "--password-env", "MS_TEST_PW"]
    return args + list(extra)


def run_cli(*argv, env_pw=TEST_PASSWORD, stdin=None):
    env = dict(os.environ, MS_TEST_PW=env_pw, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def assert_no_secret(text):
    for s in SECRETS:
        assert s not in text


# -- subprocess: the real entry point ---------------------------------------------------------------


def test_subprocess_check_json_success_vv(smtp_server):
    srv = smtp_server("ssl")
    p = run_cli("check", *conn_args(srv), "--json", "-vv")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    result = lines[-1]
    assert result["event"] == "result" and result["ok"] is True and result["code"] is None
    assert result["settings"] == {"host": "127.0.0.1", "port": srv.port, "security": "ssl"}
    assert result["tls"]["verified"] is True and result["auth_verified"] is True
    assert isinstance(result["elapsed_ms"], float) and result["fix"] == []
    kinds = {l["event"] for l in lines}
    assert {"stage_started", "stage_finished", "transcript", "tls", "log"} <= kinds
    assert_no_secret(p.stdout + p.stderr)


def test_subprocess_check_failure_exit_1_with_diagnosis(smtp_server):
    srv = smtp_server("ssl")
    p = run_cli("check", *conn_args(srv, "starttls"), "-vv")
    assert p.returncode == 1
    assert f"Port {srv.port} speaks SSL/TLS from the first byte" in p.stdout
    assert "second client" not in p.stdout  # a certain verdict is not retried
    assert "1. Switch the security mode to SSL/TLS" in p.stdout
    assert "✗ greeting" in p.stdout and "✓ connect" in p.stdout
    assert_no_secret(p.stdout + p.stderr)


def test_subprocess_password_from_stdin_wrong_password(smtp_server):
    srv = smtp_server("ssl")
    argv = [a for a in conn_args(srv) if a not in ("--password-env", "MS_TEST_PW")]
    p = run_cli("check", *argv, "--password-stdin", "--json", "-vv", stdin="wrong пароль\n")
    assert p.returncode == 1
    result = json.loads(p.stdout.splitlines()[-1])
    assert result["code"] == "auth_failed" and result["fix"]
    assert "wrong пароль" not in p.stdout + p.stderr
    assert base64.b64encode("wrong пароль".encode()).decode() not in p.stdout


def test_subprocess_usage_error_exit_2():
    p = run_cli("check", "--port", "25")
    assert p.returncode == 2 and "--host" in p.stderr


# -- in-process -------------------------------------------------------------------------------------


@pytest.fixture
def pw_env(monkeypatch):
    monkeypatch.setenv("MS_TEST_PW", TEST_PASSWORD)


def test_human_success_output(smtp_server, capsys, pw_env):
    srv = smtp_server("starttls")
    assert main(["check", *conn_args(srv)]) == 0
    out = capsys.readouterr().out
    for stage in ("resolve", "connect", "greeting", "ehlo", "starttls", "auth", "quit"):
        assert f"✓ {stage}" in out
    assert "Success" in out and " ms" in out
    assert "C: " not in out  # transcript only with -vv


def test_vv_shows_masked_transcript_never_the_password(smtp_server, capsys, pw_env):
    srv = smtp_server("ssl")
    assert main(["check", *conn_args(srv), "-vv", "--auth", "login"]) == 0
    out = capsys.readouterr().out
    assert "C: AUTH LOGIN" in out and "C: ****" in out and "S: 235" in out
    assert "SHA-256:" in out
    assert_no_secret(out)


def test_json_failure_result_line(smtp_server, capsys, pw_env):
    srv = smtp_server("auth_534", implicit_tls=True)
    assert main(["check", *conn_args(srv), "--json"]) == 1
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    result = lines[-1]
    assert result["code"] == "app_password_required" and result["ok"] is False
    assert result["title"] == "This account needs an app password"
    assert len(result["fix"]) >= 2 and "5.7.9" in result["server_reply"]
    failed = [l for l in lines if l["event"] == "stage_failed"]
    assert failed[0]["stage"] == "auth" and failed[0]["diagnosis"]["code"] == "app_password_required"


def test_user_without_password_is_usage_error(smtp_server, capsys):
    srv = smtp_server("ssl")
    assert main(["check", "--host", srv.host, "--port", str(srv.port), "--security", "ssl", "--user", "x"]) == 2
    assert "--password-env" in capsys.readouterr().err


def test_unknown_provider_lists_valid_ids(capsys, pw_env):
    code = main(["check", "--host", "127.0.0.1", "--port", "1", "--security", "ssl", "--provider", "no-such-provider"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no-such-provider" in err and "valid ids" in err


def test_missing_password_env_is_usage_error(capsys, monkeypatch):
    monkeypatch.delenv("MS_TEST_PW", raising=False)
    assert (
        main(["check", "--host", "127.0.0.1", "--security", "ssl", "--user", "u", "--password-env", "MS_TEST_PW"]) == 2
    )


def test_send_delivers_and_reports_queue_id(smtp_server, capsys, pw_env, tmp_path):
    srv = smtp_server("ssl")
    att = tmp_path / "note.txt"
    att.write_text("attached", encoding="utf-8")
    code = main(
        [
            "send",
            *conn_args(srv),
            "--from",
            TEST_USER,
            "--from-name",
            "Тест",
            "--to",
            "a@example.com; b@example.com",
            "--bcc",
            "hidden@example.com",
            "--subject",
            "CLI test",
            "--body",
            "Hello",
            "--attach",
            str(att),
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out.splitlines()[-1])
    assert result["queue_id"] == "MS12345" and result["refused"] == {} and result["delivered"] is True
    (msg,) = srv.messages
    assert msg.rcpt_tos == ["a@example.com", "b@example.com", "hidden@example.com"]
    assert msg.message["Bcc"] is None
    assert [a.get_filename() for a in msg.message.iter_attachments()] == ["note.txt"]
    assert_no_secret(out)


def test_send_html_body_file(smtp_server, capsys, pw_env, tmp_path):
    srv = smtp_server("ssl")
    body = tmp_path / "b.html"
    body.write_text("<p>Привет</p>", encoding="utf-8")
    assert (
        main(
            [
                "send",
                *conn_args(srv),
                "--from",
                TEST_USER,
                "--to",
                "a@example.com",
                "--subject",
                "s",
                "--body-file",
                str(body),
                "--html",
            ]
        )
        == 0
    )
    assert srv.messages[0].message.get_content_type() == "text/html"
    assert "queue id: MS12345" in capsys.readouterr().out


def test_send_refused_recipient_exit_1(smtp_server, capsys, pw_env):
    srv = smtp_server("ssl")
    assert (
        main(
            [
                "send",
                *conn_args(srv),
                "--from",
                TEST_USER,
                "--to",
                "nobody@example.com",
                "--subject",
                "s",
                "--body",
                "b",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "nobody@example.com" in out and "550" in out


@pytest.mark.parametrize(
    "extra,flag",
    [
        (["--subject", "a\r\nBcc: x@example.com"], "--subject"),
        (["--subject", "s", "--to", "not an address"], "--to"),
    ],
)
def test_send_message_errors_are_usage_errors(capsys, pw_env, extra, flag):
    argv = ["send", "--host", "127.0.0.1", "--security", "ssl", "--from", "s@example.com", "--body", "b"]
    if "--to" not in extra:
        argv += ["--to", "r@example.com"]
    assert main(argv + extra) == 2
    assert flag in capsys.readouterr().err


def test_send_with_security_auto_finds_the_mode_and_delivers(smtp_server, capsys, pw_env):
    srv = smtp_server("ssl")
    argv = [a if a != "ssl" else "auto" for a in conn_args(srv)]
    code = main(["send", *argv, "--from", TEST_USER, "--to", "r@example.com", "--subject", "s", "--body", "b"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"Success ({srv.host}:{srv.port}, ssl)" in out
    assert [m.rcpt_tos for m in srv.messages] == [["r@example.com"]]


def test_reporter_plain_ascii_terminal_and_finish_codes():
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    r = Reporter(json_mode=False, verbosity=2, out=out)
    r(StageFinished(Stage.CONNECT, 3.2, "127.0.0.1:25"))
    r(TranscriptLine("C", "EHLO x"))
    s = SmtpSettings("smtp.example.com", 25, Security.STARTTLS)
    assert r.finish(False, diagnose(Code.CONNECT_TIMEOUT, "port25", address="1.2.3.4:25", seconds="10"), s, 10000) == 1
    out.flush()
    text = raw.getvalue().decode("ascii")
    assert text.startswith("OK connect") and "C: EHLO x" in text
    assert "Port 25 is probably blocked" in text and "1. Use port 587" in text
    assert Reporter(json_mode=True, out=io.StringIO()).finish(True, None, s, 1.0) == 0


def test_json_without_vv_has_no_transcript(smtp_server, capsys, pw_env):
    srv = smtp_server("ssl")
    assert main(["check", *conn_args(srv), "--json"]) == 0
    events = [json.loads(l)["event"] for l in capsys.readouterr().out.splitlines()]
    assert "transcript" not in events and "stage_finished" in events and "tls" in events
    assert events[-1] == "result"


def test_wizard_without_a_display_explains_instead_of_aborting(monkeypatch, capsys):
    import sys as _sys

    from app.cli.main import main as _main

    monkeypatch.setattr(_sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert _main([]) == 1
    err = capsys.readouterr().err
    assert "graphical session" in err and "mailsetup --help" in err
