"""``mailsetup detect`` and ``check --security auto`` end to end on local servers."""

from __future__ import annotations

import argparse
import json

import pytest

from app.cli.commands.detect import check_auto, parse_ports
from app.cli.main import main
from app.cli.options import UsageError, add_connection_options

FAST = ["--timeout", "3", "--greeting-timeout", "1"]


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _detect(lab, ports, *extra):
    return main(
        [
            "detect",
            "--host",
            "127.0.0.1",
            "--ports",
            ",".join(str(p) for p in ports),
            "--cafile",
            lab.ca_file,
            *FAST,
            *extra,
        ]
    )


def test_detect_json_verified(mail_lab, monkeypatch, capsys):
    monkeypatch.setenv("LAB_PW", mail_lab.password)
    code = _detect(
        mail_lab,
        (mail_lab.starttls_port, mail_lab.tls_port),
        "--json",
        "--user",
        mail_lab.username,
        "--password-env",
        "LAB_PW",
    )
    out = capsys.readouterr().out
    lines = _lines(out)
    result = lines[-1]
    assert code == 0
    assert result["event"] == "result" and result["ok"] is True
    assert result["settings"] == {"host": "127.0.0.1", "port": mail_lab.tls_port, "security": "ssl"}
    assert result["auth_verified"] is True
    assert {p["port"] for p in result["probes"]} == {mail_lab.starttls_port, mail_lab.tls_port}
    assert result["reasons"][0].startswith("Chosen")
    assert any(line["event"] == "probe_started" for line in lines)
    assert mail_lab.password not in out


def test_detect_wrong_password_exits_1(mail_lab, monkeypatch, capsys):
    monkeypatch.setenv("LAB_PW", "Wr0ng-cli-pw")
    code = _detect(mail_lab, (mail_lab.tls_port,), "--json", "--user", mail_lab.username, "--password-env", "LAB_PW")
    cap = capsys.readouterr()
    result = _lines(cap.out)[-1]
    assert code == 1 and result["code"] == "auth_failed"
    assert result["settings"]["port"] == mail_lab.tls_port
    assert "Wr0ng-cli-pw" not in cap.out + cap.err


def test_plain_needs_allow_plain(mail_lab, capsys):
    assert _detect(mail_lab, (mail_lab.plain_port,), "--json") == 1
    result = _lines(capsys.readouterr().out)[-1]
    assert result["code"] == "starttls_unsupported"
    assert "allow_plain" in [a["kind"] for a in result["actions"]]
    assert _detect(mail_lab, (mail_lab.plain_port,), "--json", "--allow-plain") == 0
    result = _lines(capsys.readouterr().out)[-1]
    assert result["settings"]["security"] == "none" and result["warnings"]


def test_human_output(mail_lab, capsys):
    assert _detect(mail_lab, (mail_lab.tls_port, mail_lab.closed_port)) == 0
    out = capsys.readouterr().out
    assert "Chosen 127.0.0.1:" in out and "Success" in out
    assert _detect(mail_lab, (mail_lab.plain_port,)) == 1
    assert "--allow-plain" in capsys.readouterr().out


def test_proxy_failure_hides_password(mail_lab, socks5_auth_proxy, capsys):
    url = socks5_auth_proxy.url_with("proxyuser", "Sup3r-secret-proxy")
    code = _detect(mail_lab, (mail_lab.tls_port,), "--json", "--proxy", url)
    cap = capsys.readouterr()
    assert code == 1
    assert _lines(cap.out)[-1]["code"] == "proxy_failed"
    assert "Sup3r-secret-proxy" not in cap.out + cap.err


def test_usage_errors(capsys):
    assert main(["detect"]) == 2
    assert main(["detect", "--host", "127.0.0.1", "--ports", "465,abc"]) == 2
    assert "abc" in capsys.readouterr().err
    assert parse_ports(" 465, 587,465 ") == (465, 587)
    with pytest.raises(UsageError):
        parse_ports("70000")


def _check_args(argv):
    p = argparse.ArgumentParser()
    add_connection_options(p)
    return p.parse_args(argv)


def test_check_security_auto(mail_lab, monkeypatch, capsys):
    monkeypatch.setenv("LAB_PW", mail_lab.password)
    args = _check_args(
        [
            "--host",
            "127.0.0.1",
            "--port",
            str(mail_lab.starttls_port),
            "--security",
            "auto",
            "--cafile",
            mail_lab.ca_file,
            "--user",
            mail_lab.username,
            "--password-env",
            "LAB_PW",
            "--timeout",
            "3",
            "--greeting-timeout",
            "1",
            "--json",
        ]
    )
    assert check_auto(args) == 0
    result = _lines(capsys.readouterr().out)[-1]
    assert result["settings"]["security"] == "starttls" and result["auth_verified"] is True
    args = _check_args(
        [
            "--host",
            "127.0.0.1",
            "--port",
            str(mail_lab.tls_port),
            "--security",
            "auto",
            "--cafile",
            mail_lab.ca_file,
            "--timeout",
            "3",
            "--greeting-timeout",
            "1",
            "--json",
        ]
    )
    assert check_auto(args) == 0
    assert _lines(capsys.readouterr().out)[-1]["settings"]["security"] == "ssl"


def test_check_security_auto_through_main(mail_lab, capsys):
    code = main(
        [
            "check",
            "--host",
            "127.0.0.1",
            "--port",
            str(mail_lab.tls_port),
            "--security",
            "auto",
            "--cafile",
            mail_lab.ca_file,
            "--timeout",
            "3",
            "--greeting-timeout",
            "1",
            "--json",
        ]
    )
    result = _lines(capsys.readouterr().out)[-1]
    assert code == 0 and result["settings"]["security"] == "ssl"
    assert (
        main(
            [
                "check",
                "--host",
                "127.0.0.1",
                "--port",
                str(mail_lab.tls_port),
                "--security",
                "auto",
                "--user",
                "someone",
            ]
        )
        == 2
    )


def test_detect_autoconfig_flags_reach_the_engine(monkeypatch):
    import app.core.detect as core_detect

    seen = {}

    async def fake_detect(email, **kw):
        seen.update(kw)
        from app.core.detect import DetectResult

        return DetectResult(False, None, None, None, [], [], 0.0)

    monkeypatch.setattr(core_detect, "detect", fake_detect)
    main(["detect", "a@example.com", "--no-autoconfig", "--trust-autoconfig", "--json"])
    assert seen["autoconfig"] is False and seen["trust_source"] is True
    main(["detect", "a@example.com", "--json"])
    assert seen["autoconfig"] is True and seen["trust_source"] is False
