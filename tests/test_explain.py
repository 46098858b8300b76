"""The reply and bounce decoder (app.core.diagnosis.explain_input, ``mailsetup explain``): each provider's
replies, real-shaped DSNs and text bounces, and hostile input with exact outcomes."""

from __future__ import annotations

import argparse
import io
import json
import random
import time

import pytest

from app.cli.commands import explain as explain_cmd
from app.core.catalog import default_catalogue
from app.core.diagnosis import EXPLAIN_MAX_INPUT, Code, ExplainInputError, explain_input
from app.core.diagnosis.dsn import MAX_FINDINGS, MAX_REPLY_LINES
from tests.bounce_samples import EXCHANGE_DSN, GMAIL_DSN, MAILRU_TEXT_BOUNCE, YANDEX_TEXT_BOUNCE, dsn


@pytest.fixture(scope="module")
def catalogue():
    return default_catalogue()


def one(text, catalogue, provider=None):
    result = explain_input(text, catalogue, catalogue.by_id(provider) if provider else None)
    assert len(result.findings) == 1, result.findings
    return result, result.findings[0]


# -- single replies, provider by provider ---------------------------------------------------------

GMAIL_535 = (
    "535-5.7.8 Username and Password not accepted. For more information, go to\n"
    "535 5.7.8  https://support.google.com/mail/?p=BadCredentials a640c23a62f3a-abc - gsmtp"
)


def test_gmail_bad_credentials_means_app_password(catalogue):
    result, f = one(GMAIL_535, catalogue)
    assert result.kind == "reply" and result.provider.id == "gmail"
    d = f.diagnosis
    assert (d.code, d.variant) == (Code.AUTH_FAILED, "app_password")
    assert f.status == "5.7.8" and d.server_reply == GMAIL_535
    assert d.fixes[0].startswith("Google rejected the login or password")
    assert any(a.params.get("url") == "https://myaccount.google.com/apppasswords" for a in d.actions)
    assert "{" not in d.title + d.explanation


@pytest.mark.parametrize(
    ("reply", "code", "variant", "fix_start"),
    [
        (
            "530 5.7.0 Must issue a STARTTLS command first. a1si - gsmtp",
            Code.SENDER_REJECTED,
            "needs_tls",
            None,
        ),
        (
            "421-4.7.0 [203.0.113.5] Our system has detected an unusual rate of\n"
            "421 4.7.0 unsolicited mail originating from your IP address. - gsmtp",
            Code.SERVER_UNAVAILABLE,
            "temporary",
            "Gmail temporarily limits mail",
        ),
        (
            "550-5.7.26 Unauthenticated email from example.com is not accepted due to\n"
            "550-5.7.26 domain's DMARC policy. Please contact the administrator of example.com\n"
            "550 5.7.26 domain. https://support.google.com/mail/answer/2451690 a1si - gsmtp",
            Code.MESSAGE_REJECTED,
            "policy",
            "Gmail refused the message because the sender's domain failed authentication",
        ),
        (
            "552-5.7.0 This message was blocked because its content presents a potential\n"
            "552 5.7.0 security issue. a1si - gsmtp",
            Code.MESSAGE_REJECTED,
            "policy",
            "Gmail blocked the message for its content",
        ),
    ],
)
def test_gmail_codes(catalogue, reply, code, variant, fix_start):
    result, f = one(reply, catalogue)
    assert result.provider.id == "gmail"
    assert (f.diagnosis.code, f.diagnosis.variant) == (code, variant)
    if fix_start:
        assert f.diagnosis.fixes[0].startswith(fix_start)


@pytest.mark.parametrize(
    ("reply", "code", "variant", "fix_start"),
    [
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
            "Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com]",
            Code.AUTH_FAILED,
            "ms_basic_auth_disabled",
            "SMTP AUTH is disabled for the tenant or mailbox",
        ),
        (
            "535 5.7.3 Authentication unsuccessful [BN8NAM12FT001.eop-nam12.prod.protection.outlook.com]",
            Code.AUTH_FAILED,
            "",
            "Microsoft rejected the login or password",
        ),
        (
            "530 5.7.57 Client not authenticated to send mail. [DB8PR04CA0001.eurprd04.prod.outlook.com]",
            Code.AUTH_FAILED,
            "",
            "The Microsoft server requires sign-in before sending",
        ),
        (
            "550 5.7.60 SMTP; Client does not have permissions to send as this sender "
            "[AM0PR01MB1234.eurprd01.prod.exchangelabs.com]",
            Code.SENDER_REJECTED,
            "not_owner",
            "This mailbox may not send as that address",
        ),
    ],
)
def test_microsoft_codes(catalogue, reply, code, variant, fix_start):
    result, f = one(reply, catalogue)
    assert result.provider.id == "outlook"
    assert (f.diagnosis.code, f.diagnosis.variant) == (code, variant)
    assert f.diagnosis.fixes[0].startswith(fix_start)


def test_yandex_and_mailru_texts(catalogue):
    _, f = one("535 5.7.8 Error: authentication failed: Invalid user or password!", catalogue, "yandex")
    assert f.diagnosis.code is Code.AUTH_FAILED
    assert f.diagnosis.fixes[0].startswith("Yandex did not accept the login or password")
    _, f = one("550 5.7.1 Message rejected under suspicion of SPAM; https://ya.cc/1IrBc", catalogue, "yandex")
    assert (f.diagnosis.code, f.diagnosis.variant) == (Code.MESSAGE_REJECTED, "policy")
    assert f.diagnosis.fixes[0].startswith("Yandex classified the message as spam")
    _, f = one(
        "535 5.7.0 NEOBHODIM parol prilozheniya https://help.mail.ru/mail/security/protection/external / Application password is REQUIRED",
        catalogue,
        "mailru",
    )
    assert f.diagnosis.code is Code.APP_PASSWORD_REQUIRED
    assert f.diagnosis.fixes[0].startswith("Mail.ru requires a password for external apps")


def test_unknown_codes_are_said_to_be_unknown_with_the_rfc_3463_meaning(catalogue):
    _, f = one("550 5.9.9 Something odd happened", catalogue)
    d = f.diagnosis
    assert (d.code, d.variant) == (Code.REPLY_UNKNOWN, "permanent")
    assert "matches no case MailSetup knows" in d.explanation
    assert d.explanation.endswith("By its status code it means a status without further detail.")
    _, f = one("450 4.4.7 Message expired", catalogue)
    assert (f.diagnosis.code, f.diagnosis.variant) == (Code.SERVER_UNAVAILABLE, "temporary")
    _, f = one("554 5.4.4 Unable to route", catalogue)
    assert (f.diagnosis.code, f.diagnosis.variant) == (Code.MESSAGE_REJECTED, "")
    _, f = one("550 5.5.1 what", catalogue)
    assert f.diagnosis.code is Code.REPLY_UNKNOWN
    assert f.diagnosis.explanation.endswith("it means the server did not accept a command.")
    _, f = one("250 2.0.0 OK queued as 12345", catalogue)
    assert (f.diagnosis.code, f.diagnosis.variant) == (Code.REPLY_UNKNOWN, "accepted")


# -- bounces --------------------------------------------------------------------------------------


def test_gmail_dsn_reports_each_recipient_with_its_own_provider(catalogue):
    result = explain_input(GMAIL_DSN, catalogue)
    assert result.kind == "dsn" and result.provider.id == "gmail" and not result.truncated
    got = [
        (f.recipient, f.action, f.status, f.remote_mta, f.provider.id if f.provider else None, f.diagnosis.code)
        for f in result.findings
    ]
    assert got == [
        ("nobody@gmail.com", "failed", "5.1.1", "gmail-smtp-in.l.google.com", "gmail", Code.RECIPIENT_REJECTED),
        ("ghost@yandex.ru", "failed", "5.7.1", "mx.yandex.ru", "yandex", Code.RECIPIENT_REJECTED),
        ("later@example.org", "delayed", "4.4.1", "mx.example.org", None, Code.REPLY_UNKNOWN),
    ]
    first, second, third = result.findings
    assert len(first.reply.splitlines()) == 4 and first.reply.endswith("p=NoSuchUser a1si123 - gsmtp")
    assert first.diagnosis.title == "The server refused the recipient(s): nobody@gmail.com"
    assert second.diagnosis.variant == "" and second.diagnosis.fixes[0].startswith("Yandex has no such mailbox")
    assert third.reply is None and third.diagnosis.variant == "temporary"
    assert third.diagnosis.explanation.endswith("it means the receiving server did not answer.")
    # the returned original's text is never read as a reply
    assert all("returned original" not in (f.reply or "") for f in result.findings)


def test_exchange_dsn(catalogue):
    result, f = one(EXCHANGE_DSN, catalogue)
    assert result.kind == "dsn" and result.provider.id == "outlook"
    assert (f.recipient, f.status, f.diagnosis.code) == ("nouser@contoso.com", "5.1.10", Code.RECIPIENT_REJECTED)
    assert f.diagnosis.fixes[0].startswith("The recipient's Microsoft 365 organisation has no mailbox")


def test_exchange_html_text_without_delivery_status(catalogue):
    html_only = EXCHANGE_DSN.split("--b1\nContent-Type: message/delivery-status")[0] + "--b1--\n"
    result, f = one(html_only, catalogue)
    assert result.kind == "bounce"
    assert f.reply == "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    assert f.recipient == "nouser@contoso.com" and f.diagnosis.code is Code.RECIPIENT_REJECTED


def test_postfix_text_bounce_from_yandex(catalogue):
    result, f = one(YANDEX_TEXT_BOUNCE, catalogue)
    assert result.kind == "bounce" and f.provider.id == "yandex"
    assert f.reply == "550 5.7.1 No such user! (in reply to RCPT TO command)"
    assert (f.recipient, f.diagnosis.code, f.diagnosis.variant) == ("ghost@yandex.ru", Code.RECIPIENT_REJECTED, "")


def test_exim_text_bounce_from_mailru(catalogue):
    result, f = one(MAILRU_TEXT_BOUNCE, catalogue)
    assert result.kind == "bounce" and f.provider.id == "mailru"
    assert f.recipient == "nobody@mail.ru" and f.status == ""
    assert f.diagnosis.code is Code.RECIPIENT_REJECTED
    assert f.diagnosis.fixes[0].startswith("Mail.ru has no such mailbox")


def test_folded_diagnostic_code_becomes_the_reply_lines(catalogue):
    _, f = one(dsn("550-5.7.1 first part 550-5.7.1 second part 550 5.7.1 last part", status="5.7.1"), catalogue)
    assert f.reply == "550-5.7.1 first part\n550-5.7.1 second part\n550 5.7.1 last part"


# -- hostile input --------------------------------------------------------------------------------


def test_encoded_word_crlf_cannot_forge_a_reply_line(catalogue):
    hostile = dsn(
        "=?utf-8?q?550_5.1.1_gone=0D=0A250_2.0.0_OK?=",
        recipient="rfc822; =?utf-8?q?bob=0D=0ABcc=3A_x=40evil=2Eexample?=@example.org",
    )
    result, f = one(hostile, catalogue)
    assert f.reply == "550 5.1.1 gone\\x0d\\x0a250 2.0.0 OK"
    assert "\r" not in f.reply and "\n" not in f.reply and "\r" not in f.recipient and "\n" not in f.recipient
    assert f.diagnosis.code is Code.RECIPIENT_REJECTED
    assert "\n" not in json.dumps(result.to_dict())


def test_ten_megabytes_are_refused_before_parsing(catalogue):
    big = b"550 5.1.1 x\n" * (10 * 1024 * 1024 // 12)
    with pytest.raises(ExplainInputError, match=r"at most 1000000 bytes"):
        explain_input(big, catalogue)
    with pytest.raises(ExplainInputError, match="empty"):
        explain_input(" \n\t", catalogue)


def test_binary_garbage_finds_nothing(catalogue):
    garbage = bytes(b for b in random.Random(17).randbytes(300_000) if not 0x30 <= b <= 0x39)
    started = time.monotonic()
    result = explain_input(garbage, catalogue)
    assert (result.kind, result.findings, result.truncated) == ("reply", (), True)
    assert time.monotonic() - started < 2


def test_endless_continuation_lines_are_cut(catalogue):
    endless = "550-5.7.1 more\n" * (EXPLAIN_MAX_INPUT // 16)
    started = time.monotonic()
    result, f = one(endless, catalogue)
    assert result.truncated
    assert len(f.reply.splitlines()) == MAX_REPLY_LINES
    assert time.monotonic() - started < 2


def test_many_recipients_are_bounded(catalogue):
    head, tail = dsn("550 5.1.1 gone").split("Final-Recipient:", 1)
    block = "Final-Recipient:" + tail.split("\n\n", 1)[0] + "\n\n"
    result = explain_input(head + block * 400 + "--X--\n", catalogue)
    assert result.truncated and len(result.findings) == MAX_FINDINGS


def test_nested_multipart_bomb_is_read_as_text(catalogue):
    depth = 3000
    parts = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
    bomb = "From: x@example.org\nSubject: s\nMIME-Version: 1.0\n" + parts + "\n550 5.1.1 deep\n"
    result, f = one(bomb, catalogue)
    assert result.kind == "reply"  # more MIME headers than parts walked: read as text, at once
    assert f.reply == "550 5.1.1 deep" and f.diagnosis.code is Code.RECIPIENT_REJECTED
    shallow = "From: x@example.org\nSubject: s\nMIME-Version: 1.0\n" + parts[: parts.index('"b190"')] + '"b190"\n\n'
    result = explain_input(shallow + "--b190\nContent-Type: text/plain\n\n550 5.1.1 deep\n", catalogue)
    assert result.kind == "bounce" and [f.reply for f in result.findings] == ["550 5.1.1 deep"]


# -- the command ----------------------------------------------------------------------------------


def run_cli(*argv: str, stdin: bytes | None = None, monkeypatch=None) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="mailsetup")
    explain_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["explain", *argv])
    out = io.StringIO()
    return args.func(args, out=out), out.getvalue()


def test_cli_text_and_json(capsys):
    rc, out = run_cli(GMAIL_535)
    assert rc == 0
    assert out.startswith("Decoded: server reply (provider: Gmail)\n")
    assert "Login failed: Gmail needs an app password" in out and "  1. Google rejected the login" in out
    rc, out = run_cli(GMAIL_535, "--json", "--provider", "outlook")
    data = json.loads(out)
    assert rc == 0 and data["provider"] == "outlook" and data["kind"] == "reply"
    assert data["findings"][0]["diagnosis"]["code"] == "auth_failed"
    assert data["findings"][0]["status"] == "5.7.8"


def test_cli_file_stdin_and_errors(tmp_path, capsys, monkeypatch):
    eml = tmp_path / "bounce.eml"
    eml.write_text(GMAIL_DSN)
    rc, out = run_cli("--file", str(eml), "--json")
    assert rc == 0 and [f["recipient"] for f in json.loads(out)["findings"]] == [
        "nobody@gmail.com",
        "ghost@yandex.ru",
        "later@example.org",
    ]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(YANDEX_TEXT_BOUNCE.encode())))
    rc, out = run_cli("-")
    assert rc == 0 and "[1] recipient: ghost@yandex.ru, status: 5.7.1" in out
    big = tmp_path / "big.eml"
    big.write_bytes(b"x" * (10 * 1024 * 1024))
    capsys.readouterr()
    assert run_cli("--file", str(big))[0] == 2
    assert "at most 1000000 bytes (1 MB) are read" in capsys.readouterr().err
    assert run_cli("--file", str(tmp_path / "missing.eml"))[0] == 2
    assert "cannot read" in capsys.readouterr().err
    assert run_cli("--file", str(tmp_path))[0] == 2
    assert "is a folder" in capsys.readouterr().err
    assert run_cli(GMAIL_535, "--provider", "nope")[0] == 2
    assert "unknown provider 'nope'" in capsys.readouterr().err
    rc, out = run_cli("hello there")
    assert rc == 1 and out == "No SMTP reply or delivery status was found in the input.\n"


def test_cli_output_is_terminal_safe():
    rc, out = run_cli("550 5.7.1 \x1b]0;pwned\x07 bad \x1b[2J stuff")
    assert rc == 0 and "\x1b" not in out and "\x07" not in out
    rc, out = run_cli("550 5.7.1 \x1b[2J stuff", "--json")
    assert "\x1b" not in out and "\\u001b" not in out and "\\\\x1b" in out
