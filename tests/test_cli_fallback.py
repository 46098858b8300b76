"""``mailsetup check`` confirms a non-definitive failure with a second client; a definitive one is not retried."""

from __future__ import annotations

import json

from app.cli.main import main


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_silent_port_is_confirmed_by_second_client(smtp_server, capsys):
    srv = smtp_server("silent")
    rc = main(
        [
            "check",
            "--host",
            srv.host,
            "--port",
            str(srv.port),
            "--security",
            "starttls",
            "--greeting-timeout",
            "0.3",
            "--timeout",
            "3",
            "--json",
        ]
    )
    result = _lines(capsys)[-1]
    assert rc == 1
    assert result["code"] == "greeting_timeout"
    assert any("second client" in n for n in result["notes"])
    assert result["second_opinion"]["agrees"] is True and result["second_opinion"]["client"] == "aiosmtplib"
    assert result["second_opinion"]["stage"] == "greeting"
    assert "no answer within" in result["second_opinion"]["detail"]
    assert srv.connections >= 2  # the engine and the second client both connected


def test_definitive_auth_failure_is_not_retried(smtp_server, capsys, monkeypatch):
    srv = smtp_server("auth_535")
    monkeypatch.setenv("PW", "wrong password")
    rc = main(
        [
            "check",
            "--host",
            srv.host,
            "--port",
            str(srv.port),
            "--security",
            "none",
            "--allow-plain",
            "--user",
            "someone",
            "--password-env",
            "PW",
            "--json",
        ]
    )
    result = _lines(capsys)[-1]
    assert rc == 1
    assert result["code"] == "auth_failed"
    assert "notes" not in result
    assert srv.connections == 1
