"""``mailsetup audit``: human and JSON output, exit codes, usage errors; DNS only from the local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from tests.test_audit import D, good_zone

ROOT = Path(__file__).resolve().parents[1]


def run(dns_server, capsys, *argv):
    code = main(["audit", *argv, "--dns-server", f"127.0.0.1:{dns_server.port}", "--timeout", "5"])
    out, err = capsys.readouterr()
    return code, out, err


def test_good_domain_exit_0_json_lines(dns_server, capsys):
    dns_server.zone = good_zone()
    code, out, err = run(dns_server, capsys, D, "--json", "--smtp-host", "smtp.prov.test", "--dkim-selector", "sel1")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["event"] for x in lines] == ["finding"] * 9 + ["result"]
    assert [x["check"] for x in lines[:3]] == ["mx", "spf", "spf_authorised"]
    result = lines[-1]
    assert result["domain"] == D and result["ok"] is True and result["counts"]["fail"] == 0
    assert "findings" not in result


def test_missing_records_exit_1_with_records_to_publish(dns_server, capsys):
    dns_server.zone = {D: {"A": ["192.0.2.1"]}}
    code, out, _ = run(dns_server, capsys, D)
    assert code == 1
    assert out.splitlines()[0].startswith("Sender-domain audit: example.org (")
    assert "✗ SPF: No SPF record for example.org" in out
    assert '    Publish: example.org. IN TXT "v=spf1 mx ~all"' in out
    assert out.splitlines()[-1] == "0 ok, 1 to improve, 2 failed, 4 notes."


def test_hostile_record_text_is_terminal_safe(dns_server, capsys):
    zone = good_zone()
    zone[D]["TXT"] = ['"v=spf1 \\027[2J\\027]0;owned\\007 -all"']
    dns_server.zone = zone
    code, out, _ = run(dns_server, capsys, D)
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out
    assert "The SPF record of example.org is invalid" in out


def test_profile_supplies_from_host_and_login(dns_server, capsys, tmp_path, monkeypatch):
    from app.core.model import Security, SmtpSettings
    from app.core.store import Profile, ProfileStore

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings = SmtpSettings(host="smtp.other.test", port=587, security=Security.STARTTLS, username="me@example.org")
    ProfileStore().save(Profile("work", settings, from_addr="news@example.org", provider_id="mailru"))
    zone = good_zone()
    zone["smtp.other.test"] = {"A": ["198.51.100.99"]}
    dns_server.zone = zone
    code, out, _ = run(dns_server, capsys, "--profile", "work", "--json")
    assert code == 1
    checks = {x.get("check"): x for x in map(json.loads, out.splitlines())}
    assert checks["spf_authorised"]["status"] == "fail"
    assert checks["from_login"]["status"] == "fail"
    assert checks["from_login"]["details"]["login"] == "me@example.org"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bad domain"], "mailsetup audit: error: DOMAIN: 'bad domain' is not a domain name"),
        ([], "mailsetup audit: error: give a DOMAIN (or --profile, or --from)"),
        ([D, "--dkim-selector", "a;b"], "mailsetup audit: error: --dkim-selector: 'a;b' is not a DKIM selector"),
        ([D, "--dns-server", "dns.example:53"], "mailsetup audit: error: --dns-server: 'dns.example:53' is not"),
        ([D, "--timeout", "0"], "mailsetup audit: error: --timeout: give seconds between 0 and 120"),
        ([D, "--profile", "nosuch"], "mailsetup audit: error: --profile: no saved profile named 'nosuch'"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    code = main(["audit", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(message), err
    assert "Traceback" not in err


def test_subprocess_entry_point(dns_server):
    dns_server.zone = good_zone()
    p = subprocess.run(
        [sys.executable, "-m", "app", "audit", D, "--json", "--dns-server", f"127.0.0.1:{dns_server.port}"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    # no selector known and no server given: DKIM is a note, nothing fails
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.splitlines()[-1])["event"] == "result"
