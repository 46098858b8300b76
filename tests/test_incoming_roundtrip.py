"""Proof of delivery: send through a local MTA that delivers into a real Dovecot, then find the message."""

from __future__ import annotations

import time

import pytest

from app.core.diagnosis import Code
from app.core.incoming import (
    TOKEN_HEADER,
    confirm_delivery,
    decode_mutf7,
    mark_message,
    new_token,
    parse_authentication_results,
)
from app.core.model import TranscriptLine
from app.core.smtp import MessageSpec, build_message, send_message
from tests.fixtures.dovecot import RECEIVER_ID
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER


async def _send(mta, token: str, text: str = "Hello") -> float:
    message = build_message(MessageSpec(from_addr=TEST_USER, to=TEST_USER, subject="MailSetup test", text=text))
    mark_message(message, token)
    sent = await send_message(mta.settings(username=TEST_USER), TEST_PASSWORD, message)
    assert sent.ok, sent.diagnosis and sent.diagnosis.to_dict()
    return time.monotonic()


async def test_round_trip_finds_the_message_in_the_inbox_with_verdicts(dovecot, dovecot_mta):
    token = new_token()
    sent_at = await _send(dovecot_mta, token)
    result = await confirm_delivery(dovecot.settings("imap", "ssl"), TEST_PASSWORD, token, timeout=3, sent_at=sent_at)
    assert result.found and result.folder == "INBOX" and not result.in_spam
    assert result.diagnosis is None
    assert 0 <= result.seconds < 3
    ar = result.authentication_results
    assert (ar.authserv_id, ar.spf, ar.dkim, ar.dmarc) == (RECEIVER_ID, "pass", "pass", "pass")
    d = result.to_dict()
    assert d["found"] is True and d["folder"] == "INBOX" and d["authentication_results"]["dmarc"] == "pass"


async def test_round_trip_reports_spam(dovecot, dovecot_mta):
    token = new_token()
    sent_at = await _send(dovecot_mta, token, text="SPAMME please")
    result = await confirm_delivery(
        dovecot.settings("imap", "starttls"), TEST_PASSWORD, token, timeout=3, sent_at=sent_at
    )
    assert result.found and result.in_spam and result.folder == "Junk"
    assert result.diagnosis.code is Code.DELIVERY_IN_SPAM
    assert "Junk" in result.diagnosis.title
    assert "SPF pass" in result.diagnosis.explanation


async def test_idle_wakes_the_search_when_the_message_arrives(dovecot):
    token = new_token()
    message = build_message(MessageSpec(from_addr=TEST_USER, to=TEST_USER, subject="late", text="x"))
    mark_message(message, token)
    delivered: list[float] = []

    def on_event(event):
        if (
            isinstance(event, TranscriptLine)
            and event.direction == "C"
            and event.text.endswith(" IDLE")
            and not delivered
        ):
            dovecot.deliver(TEST_USER, message.as_bytes())
            delivered.append(time.monotonic())

    t0 = time.monotonic()
    result = await confirm_delivery(dovecot.settings("imap", "ssl"), TEST_PASSWORD, token, timeout=5, on_event=on_event)
    assert delivered, "the search went into IDLE"
    assert result.found and result.folder == "INBOX"
    assert time.monotonic() - t0 < 3.0  # woken by the server, not by the 5 s limit


async def test_not_arrived_is_a_diagnosis_within_the_limit(dovecot):
    t0 = time.monotonic()
    result = await confirm_delivery(dovecot.settings("imap", "ssl"), TEST_PASSWORD, new_token(), timeout=0.6)
    assert not result.found
    assert result.diagnosis.code is Code.DELIVERY_NOT_CONFIRMED
    assert time.monotonic() - t0 < 3.0
    assert result.to_dict()["authentication_results"] == {}


async def test_delete_afterwards_removes_only_the_test_message(dovecot, dovecot_mta):
    dovecot.deliver(TEST_USER, b"Subject: keep me\r\nFrom: a@example.com\r\n\r\nmine\r\n")
    token = new_token()
    await _send(dovecot_mta, token)
    result = await confirm_delivery(dovecot.settings("imap", "ssl"), TEST_PASSWORD, token, timeout=3, delete=True)
    assert result.found and result.deleted
    again = await confirm_delivery(dovecot.settings("imap", "ssl"), TEST_PASSWORD, token, timeout=0.3)
    assert not again.found
    assert len(dovecot.maildir(TEST_USER)) == 1  # the user's own message stays


async def test_a_failed_login_is_the_diagnosis(dovecot):
    result = await confirm_delivery(dovecot.settings("imap", "ssl"), "wrong", new_token(), timeout=1)
    assert not result.found and result.diagnosis.code is Code.AUTH_FAILED


def test_only_the_receivers_authentication_results_count():
    forged = "mx.dovecot.test; spf=pass; dkim=pass; dmarc=pass"
    values = [
        "mx.receiver.example; spf=fail smtp.mailfrom=x.test; dkim=none (no signature); dmarc=fail header.from=x.test",
        "attacker.example; spf=pass; dkim=pass; dmarc=pass",
    ]
    ar = parse_authentication_results(values)
    assert (ar.authserv_id, ar.spf, ar.dkim, ar.dmarc) == ("mx.receiver.example", "fail", "none", "fail")
    # an explicitly trusted id: only its header counts, a forgery with another id is ignored
    ar = parse_authentication_results(["other.example; spf=pass", forged], trusted_ids=["mx.dovecot.test"])
    assert ar.authserv_id == "mx.dovecot.test" and ar.spf == "pass"
    assert parse_authentication_results(["x; spf=pass"], trusted_ids=["y"]) is None
    assert parse_authentication_results([]) is None


def test_dkim_pass_wins_among_several_signatures_and_comments_are_ignored():
    ar = parse_authentication_results(
        ["mx.a (comment; spf=fail); dkim=fail header.d=x; dkim=pass header.d=y; spf=softfail"]
    )
    assert (ar.spf, ar.dkim, ar.dmarc) == ("softfail", "pass", None)


def test_modified_utf7_folder_names_and_tokens():
    assert decode_mutf7("&BCEEPwQwBDw-") == "Спам"
    assert decode_mutf7("Junk &- Spam") == "Junk & Spam"
    assert decode_mutf7("&broken") == "&broken"
    message = build_message(MessageSpec(from_addr=TEST_USER, to=TEST_USER, subject="Hi", text="x"))
    mark_message(message, "mailsetup-0123456789abcdef")
    assert message[TOKEN_HEADER] == "mailsetup-0123456789abcdef"
    assert message["Subject"] == "Hi [mailsetup-0123456789abcdef]"
    with pytest.raises(ValueError):
        mark_message(message, "bad token\r\nBcc: x@y")
