"""``mailsetup check --protocol imap|pop3`` and ``mailsetup send --confirm-delivery`` against real Dovecot."""

from __future__ import annotations

import base64
import json

import pytest

from app.cli.main import main
from tests.fixtures.dovecot import RECEIVER_ID
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER

SECRETS = [TEST_PASSWORD, base64.b64encode(f"\0{TEST_USER}\0{TEST_PASSWORD}".encode()).decode()]


@pytest.fixture
def password_env(monkeypatch):
    monkeypatch.setenv("MS_TEST_PW", TEST_PASSWORD)


def _login(dovecot, protocol: str, security: str) -> list[str]:
    return [
        "--protocol",
        protocol,
        "--host",
        dovecot.host,
        "--port",
        str(dovecot.port(protocol, security)),
        "--security",
        security,
        "--cafile",
        dovecot.ca_file,
        "--user",
        TEST_USER,
        "--password-env",
        "MS_TEST_PW",
        "--timeout",
        "5",
    ]


@pytest.mark.parametrize(("protocol", "security"), [("imap", "ssl"), ("pop3", "starttls")])
def test_check_incoming_json(dovecot, capsys, password_env, protocol, security):
    assert main(["check", *_login(dovecot, protocol, security), "--json", "-vv"]) == 0
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    result = lines[-1]
    assert result["event"] == "result" and result["ok"] is True and result["protocol"] == protocol
    assert result["auth_verified"] is True
    stages = [line["stage"] for line in lines if line["event"] == "stage_finished"]
    assert "capability" in stages and stages[-1] == "quit"
    assert not any(s in out for s in SECRETS)


def test_check_incoming_human_failure_exit_1(dovecot, capsys, monkeypatch):
    monkeypatch.setenv("MS_TEST_PW", "wrong")
    assert main(["check", *_login(dovecot, "imap", "ssl")]) == 1
    out = capsys.readouterr().out
    assert "✓ capability" in out and "The IMAP server rejected the login or password" in out


def test_check_incoming_default_port_and_usage_errors(capsys, password_env):
    assert main(["check", "--protocol", "imap", "--host", "127.0.0.1", "--security", "auto"]) == 2
    assert "--security auto is for SMTP" in capsys.readouterr().err


def _send_args(mta, dovecot, *extra: str) -> list[str]:
    return [
        "send",
        "--host",
        mta.host,
        "--port",
        str(mta.port),
        "--security",
        "ssl",
        "--cafile",
        mta.ca_file,
        "--user",
        TEST_USER,
        "--password-env",
        "MS_TEST_PW",
        "--from",
        TEST_USER,
        "--to",
        TEST_USER,
        "--subject",
        "Proof",
        "--confirm-delivery",
        "--imap-host",
        dovecot.host,
        "--imap-port",
        str(dovecot.port("imap", "ssl")),
        "--imap-security",
        "ssl",
        "--delivery-timeout",
        "3",
        *extra,
    ]


def test_send_confirm_delivery_json(dovecot, dovecot_mta, capsys, password_env):
    assert main([*_send_args(dovecot_mta, dovecot, "--body", "hello"), "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.splitlines()[-1])
    delivery = result["delivery"]
    assert delivery["found"] is True and delivery["folder"] == "INBOX" and delivery["seconds"] < 3
    assert delivery["authentication_results"] == {
        "authserv_id": RECEIVER_ID,
        "spf": "pass",
        "dkim": "pass",
        "dmarc": "pass",
    }
    assert not any(s in out for s in SECRETS)


def test_send_confirm_delivery_spam_is_exit_1_with_the_line(dovecot, dovecot_mta, capsys, password_env):
    assert main(_send_args(dovecot_mta, dovecot, "--body", "SPAMME")) == 1
    out = capsys.readouterr().out
    assert "Landed in Junk after" in out and "SPF pass" in out
    assert "The test message landed in Junk" in out
