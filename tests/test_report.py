"""The shareable report: built from real checks against real servers, scanned for every secret form, hostile
values inert, and written by ``mailsetup report``."""

from __future__ import annotations

import base64
import html
import os
import re
from urllib.parse import quote, quote_plus

from app.core.detect import run_pipeline
from app.core.incoming import confirm_delivery, mark_message, new_token, run_incoming_check
from app.core.model import AuthMechanism, IncomingProtocol, Security, Timeouts, TlsOptions
from app.core.report import (
    Cleaner,
    ReportRecorder,
    build_report,
    mask_transcript,
    proxy_display,
    render_html,
    render_text,
)
from app.core.smtp import MessageSpec, build_message, send_message
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER, free_port

CANARY = 'Pw-Canary<&>"ü 9x'
TOKEN = "ya29.Token-Canary-a1b2c3d4e5f6"
PROXY_CANARY = "Proxy-Canary-5e6f"
FAST = Timeouts(connect=1.0, greeting=0.3, command=1.0, total=1.5)


def secret_forms(secret: str, user: str) -> set[str]:
    """Every way ``secret`` could betray itself in a report (as text: the report is UTF-8)."""
    raw = secret.encode()
    forms = {
        secret,
        html.escape(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(raw).decode(),  # AUTH LOGIN sends the password alone
        base64.b64encode(f"\0{user}\0{secret}".encode()).decode(),  # AUTH PLAIN
        base64.b64encode(f"user={user}\x01auth=Bearer {secret}\x01\x01".encode()).decode(),  # XOAUTH2
    }
    for k in range(3):  # inside a larger base64 blob, at each alignment
        enc = base64.b64encode(b"\0" * k + raw).decode().rstrip("=")
        forms.add(enc[4 if k else 0 : -4])
    return {f for f in forms if len(f) >= 6}


def assert_no_secret(text: str, secret: str, user: str = TEST_USER) -> None:
    hits = [f for f in secret_forms(secret, user) if f in text]
    assert not hits, f"secret form(s) in the report: {hits}"


def both(report) -> tuple[str, str]:
    return render_html(report), render_text(report)


async def checked(settings, password, **kw):
    recorder = ReportRecorder()
    verdict = await run_pipeline(settings, password, on_event=recorder)
    return build_report(verdict, recorder=recorder, app_version="9.9-test", os_name="TestOS", **kw), verdict


# -- success and each failure class ----------------------------------------------------------------


async def test_success_report_holds_settings_stages_certificate_and_masked_transcript(smtp_server):
    server = smtp_server("starttls", password=CANARY)
    report, verdict = await checked(server.settings(username=TEST_USER, auth=AuthMechanism.PLAIN), CANARY)
    assert verdict.ok and report.ok and report.headline == "The settings work"
    page, text = both(report)
    for out in (page, text):
        assert_no_secret(out, CANARY)
        assert "AUTH PLAIN ****" in out and "9.9-test" in out and "TestOS" in out
    stages = [row[1] for row in report.section("stages").table[1:]]
    assert stages[:4] == ["resolve", "connect", "greeting", "ehlo"] and "auth" in stages
    cert = dict(report.section("certificate").rows)
    assert cert["Trusted"] == "yes" and re.fullmatch(r"[0-9a-f]{64}", cert["SHA-256"])
    assert dict(report.section("settings").rows)["Password"] == "never included in a report"
    assert report.section("diagnosis") is None
    assert "<script" not in page and "http://" not in page.replace("http-equiv", "")


async def test_auth_login_535_report_has_the_diagnosis_fixes_and_reply(smtp_server):
    server = smtp_server("auth_535")
    report, verdict = await checked(server.settings(auth=AuthMechanism.LOGIN, allow_plain_auth=True), CANARY)
    assert not verdict.ok and not report.ok
    diag = report.section("diagnosis")
    assert dict(diag.rows)["Code"] == "auth_failed" and diag.items
    assert any("535 5.7.8" in ln for ln in diag.lines)
    page, text = both(report)
    for out in (page, text):
        assert_no_secret(out, CANARY)
        assert "FAILED" in out and html.escape(diag.rows[-1][1]) in page
    # AUTH LOGIN: the user name and the password lines are both masked
    transcript = report.section("transcript").lines
    assert sum(ln.endswith("C: ****") for ln in transcript) == 2


async def test_untrusted_certificate_report(smtp_server):
    server = smtp_server("ssl")
    report, verdict = await checked(server.settings(username="", tls=TlsOptions()), None)
    assert not verdict.ok
    assert dict(report.section("diagnosis").rows)["Code"] == "cert_untrusted"
    page, text = both(report)
    assert "cert_untrusted" in page and "cert_untrusted" in text
    assert dict(report.section("certificate").rows)["Trusted"].startswith("NO")


async def test_silent_server_report_has_the_second_opinion(smtp_server):
    server = smtp_server("silent")
    report, verdict = await checked(server.settings(username="", timeouts=FAST), None)
    assert not verdict.ok and dict(report.section("diagnosis").rows)["Code"] == "greeting_timeout"
    assert report.section("second_opinion") is not None
    assert render_text(report).count("Second opinion") == 1


async def test_mode_mismatch_report(smtp_server):
    server = smtp_server("starttls")
    report, verdict = await checked(server.settings(username="", security=Security.SSL), None)
    assert not verdict.ok
    assert dict(report.section("diagnosis").rows)["Code"] == verdict.diagnosis.code.value
    assert "starttls" in render_text(report).lower()


async def test_refused_connection_with_an_oauth_token_and_a_proxy_password(smtp_server):
    port = free_port()
    server = smtp_server("smtp")
    settings = server.settings(port=port, timeouts=FAST, username="ann@example.com", auth=AuthMechanism.XOAUTH2)
    report, verdict = await checked(settings, TOKEN)
    assert not verdict.ok and dict(report.section("diagnosis").rows)["Code"] == "connect_refused"
    proxied = settings.with_(proxy=f"socks5://puser:{PROXY_CANARY}@127.0.0.1:{free_port()}")
    report2, _ = await checked(proxied, TOKEN)
    for out in (*both(report), *both(report2)):
        assert_no_secret(out, TOKEN, "ann@example.com")
        assert_no_secret(out, PROXY_CANARY, "puser")
    assert dict(report2.section("settings").rows)["Proxy"].endswith("(with a login)")


async def test_xoauth2_success_transcript_is_masked(smtp_server):
    server = smtp_server("smtp", ehlo=["AUTH PLAIN LOGIN XOAUTH2"])
    settings = server.settings(username="ann@example.com", auth=AuthMechanism.XOAUTH2, allow_plain_auth=True)
    report, verdict = await checked(settings, TOKEN)
    assert verdict.ok, verdict.diagnosis and verdict.diagnosis.to_dict()
    for out in both(report):
        assert_no_secret(out, TOKEN, "ann@example.com")
        assert "AUTH XOAUTH2 ****" in out


# -- hostile values --------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script></html><img src=x onerror=alert(2)>\r\nX-Injected: yes\x1b[2J\u202e"


async def test_hostile_server_replies_stay_inert(smtp_server):
    server = smtp_server(
        "smtp", greeting="220 " + HOSTILE[:60], replies={"AUTH": "535 " + HOSTILE.replace("\r\n", " ")}
    )
    report, verdict = await checked(server.settings(username=TEST_USER, allow_plain_auth=True), CANARY)
    assert not verdict.ok
    page, text = both(report)
    assert "<script" not in page and "</html>" not in page[:-20] and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\x1b" not in page + text and "\u202e" not in page + text and "\r" not in page + text
    assert page.count("</html>") == 1 and page.rstrip().endswith("</html>")


def test_hostile_values_in_every_field_are_escaped_and_bounded(smtp_server):
    from app.core.detect import Verdict
    from app.core.diagnosis import Code, diagnose
    from app.core.smtp import CheckResult

    server = smtp_server("plain")
    settings = server.settings(username="u<b>@x.test", ehlo_name=None)
    huge = "5" + HOSTILE * 5000
    diagnosis = diagnose(Code.AUTH_FAILED, server_reply=huge, host=HOSTILE, port=1, detail=HOSTILE)
    check = CheckResult(False, diagnosis, settings, 1.0, capabilities=(HOSTILE,) * 500)
    verdict = Verdict(False, "", diagnosis, check, notes=(HOSTILE,) * 100)
    recorder = ReportRecorder()
    from app.core.model import LogLevel, LogLine, Stage, StageFinished, TranscriptLine, plain

    for _ in range(5000):
        recorder(TranscriptLine("S", huge))
        recorder(LogLine(LogLevel.INFO, plain(huge)))
        recorder(StageFinished(Stage.EHLO, 1.0, huge))
    audit = {
        "domain": HOSTILE,
        "findings": [{"check": HOSTILE, "status": "fail", "explanation": huge, "record": HOSTILE}] * 1000,
    }
    report = build_report(verdict, recorder=recorder, audit=audit, profile=HOSTILE, provider=HOSTILE)
    page, text = both(report)
    assert len(page) < 3_000_000 and len(text) < 3_000_000
    assert "<script" not in page and "<img" not in page and page.count("</html>") == 1
    assert "\x1b" not in page + text and "\r" not in page + text and "\u202e" not in page + text
    assert "more characters not shown" in page and "lines not shown" in page


# -- redaction helpers -------------------------------------------------------------------------------


def test_transcript_is_masked_again_whatever_the_engine_showed():
    lines = [
        ("C", "AUTH PLAIN AGFubgBzZWNyZXQ="),
        ("S", "235 ok"),
        ("C", "AUTH LOGIN"),
        ("S", "334 VXNlcm5hbWU6"),
        ("C", "YW5u"),
        ("S", "334 UGFzc3dvcmQ6"),
        ("C", "c2VjcmV0"),
        ("S", "535 no"),
        ("C", "a1 LOGIN ann secret"),
        ("C", "PASS secret"),
        ("C", "dXNlcj1hbm4BYXV0aD1CZWFyZXIgdG9rZW4BAQ=="),
        ("C", "QUIT"),
    ]
    shown = [t for _, t in mask_transcript(lines)]
    assert shown == [
        "AUTH PLAIN ****",
        "235 ok",
        "AUTH LOGIN",
        "334 VXNlcm5hbWU6",
        "****",
        "334 UGFzc3dvcmQ6",
        "****",
        "535 no",
        "a1 LOGIN ****",
        "PASS ****",
        "****",
        "QUIT",
    ]


def test_proxy_shows_no_user_information():
    assert proxy_display("socks5://bob:p%40ss@proxy.test:1080") == "socks5://proxy.test:1080 (with a login)"
    assert proxy_display("http://[::1]:3128") == "http://[::1]:3128"
    assert proxy_display(None) == "none"


def test_addresses_are_masked_on_request():
    c = Cleaner(mask_addresses=True, identities=("jsmith",))
    assert c.line("MAIL FROM:<john.smith@example.com> jsmith") == "MAIL FROM:<j***@example.com> j***"
    assert Cleaner().line("a@b.test\r\n") == "a@b.test\\x0d\\x0a"


# -- round trip ----------------------------------------------------------------------------------------


async def test_round_trip_report_with_send_delivery_and_incoming(dovecot, dovecot_mta):
    recorder = ReportRecorder()
    settings = dovecot_mta.settings(username=TEST_USER)
    verdict = await run_pipeline(settings, TEST_PASSWORD, on_event=recorder)
    message = build_message(MessageSpec(from_addr=TEST_USER, to=TEST_USER, subject="report", text="hi"))
    token = new_token()
    mark_message(message, token)
    recorder.begin("Send")
    sent = await send_message(settings, TEST_PASSWORD, message, on_event=recorder)
    imap = dovecot.settings("imap", "ssl")
    recorder.begin("Delivery")
    delivery = await confirm_delivery(imap, TEST_PASSWORD, token, timeout=3, on_event=recorder)
    recorder.begin("IMAP")
    incoming = await run_incoming_check(IncomingProtocol.IMAP, imap, TEST_PASSWORD, on_event=recorder)
    report = build_report(
        verdict, recorder=recorder, send=sent, delivery=delivery, incoming=incoming, mask_addresses=True
    )
    assert report.ok, report.headline
    assert dict(report.section("delivery").rows)["Arrived"] == "yes"
    assert dict(report.section("incoming").rows)["Login accepted"] == "yes"
    for out in both(report):
        assert_no_secret(out, TEST_PASSWORD)
        assert TEST_USER not in out  # masked addresses
        assert "[IMAP] C:" in out and "[Send] C:" in out


# -- the command line ------------------------------------------------------------------------------


def cli_args(server, *extra: str) -> list[str]:
    args = ["--host", server.host, "--port", str(server.port), "--security", server.security]
    args += ["--cafile", server.ca_file, "--timeout", "3", "--greeting-timeout", "0.5"]
    return args + list(extra)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    from app.cli.main import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_the_report_with_the_check_exit_code(smtp_server, tmp_path, capsys, monkeypatch):
    server = smtp_server("starttls", password=CANARY)
    monkeypatch.setenv("MS_REPORT_PW", CANARY)
    target = tmp_path / "report.html"
    login = ["--user", TEST_USER, "--password-env", "MS_REPORT_PW"]
    code, out, err = run(capsys, "report", *cli_args(server, *login), "--output", str(target))
    assert code == 0, err
    page = target.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "The settings work" in page
    assert_no_secret(page + out + err, CANARY)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    # a failing check (wrong password) still writes the report, as text for a .txt name; exit 1
    monkeypatch.setenv("MS_REPORT_PW", "wrong-" + CANARY)
    text_target = tmp_path / "report.txt"
    code, out, err = run(capsys, "report", *cli_args(server, *login), "-o", str(text_target), "--json")
    assert code == 1
    text = text_target.read_text("utf-8")
    assert text.startswith("MailSetup report:") and "FAILED" in text and "auth_failed" in text
    assert_no_secret(text + out, "wrong-" + CANARY)
    assert '"report": "' in out.splitlines()[-1]


def test_cli_refuses_hostile_targets_before_checking(smtp_server, tmp_path, capsys):
    server = smtp_server("smtp")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.html"
    link.symlink_to(victim)
    plain_file = tmp_path / "file"
    plain_file.write_text("x")
    for target, words in (
        (link, "symbolic link"),
        (tmp_path, "folder"),
        (plain_file / "r.html", "not a folder"),
        (tmp_path / "missing" / "r.html", "does not exist"),
    ):
        code, _, err = run(capsys, "report", *cli_args(server), "--security", "none", "--output", str(target))
        assert code == 2 and "--output" in err and words in err, err
    assert victim.read_text() == "keep me" and link.is_symlink()
    assert server.connections == 0  # refused before any check ran


def test_cli_usage_errors(capsys, tmp_path):
    out = str(tmp_path / "r.html")
    code, _, err = run(capsys, "report", "--output", out)
    assert code == 2 and "PROFILE or --host" in err
    code, _, err = run(capsys, "report", "name", "--host", "127.0.0.1", "--output", out)
    assert code == 2 and "not both" in err
    assert not os.path.exists(out)


def test_cli_report_of_a_saved_profile(smtp_server, tmp_path, capsys, monkeypatch):
    server = smtp_server("plain")
    code, _, err = run(capsys, "profiles", "add", "office", *cli_args(server), "--security", "none", "--no-check")
    assert code == 0, err
    target = tmp_path / "office.html"
    code, _, err = run(capsys, "report", "office", "--output", str(target), "--mask-addresses")
    assert code == 0, err
    page = target.read_text("utf-8")
    assert "office" in page and "E-mail addresses are masked." in page
    code, _, err = run(capsys, "report", "nosuch", "--output", str(target))
    assert code in (1, 2) and "nosuch" in err + _


def test_audit_findings_render_generically(smtp_server):
    class Audit:  # what app.core.audit returns: anything with to_dict()
        def to_dict(self):
            return {
                "domain": "example.test",
                "findings": [
                    {"check": "SPF", "status": "ok", "explanation": "Authorised.", "record": "v=spf1 mx -all"},
                    {"check": "DMARC", "status": "fail", "explanation": "No policy.", "record": "v=DMARC1; p=none"},
                    {"check": "MTA-STS", "status": "warn", "explanation": "<b>none</b>", "record": ""},
                    "not a finding",
                ],
                "password": "never read",
            }

    from app.core.detect import Verdict
    from app.core.smtp import CheckResult

    settings = smtp_server("plain").settings(username="")
    verdict = Verdict(True, "engine", None, CheckResult(True, None, settings, 1.0))
    report = build_report(verdict, audit=Audit())
    audit = report.section("audit")
    assert audit.title == "Sender domain audit: example.test" and audit.status == "failed"
    assert audit.table[1] == ("SPF", "ok", "Authorised.", "v=spf1 mx -all")
    assert audit.table_status == ("ok", "failed", "warn")
    page, text = both(report)
    assert "&lt;b&gt;none&lt;/b&gt;" in page and "never read" not in page + text
    assert build_report(verdict, audit=[{"check": "MX", "status": "ok"}]).section("audit").table[1][0] == "MX"
