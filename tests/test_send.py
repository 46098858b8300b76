"""send_message against real servers: delivery, Bcc, queue id, refusals, SMTPUTF8."""

from __future__ import annotations

from app.core.diagnosis.table import Code
from app.core.model.events import Stage, StageFailed, StageFinished, TranscriptLine
from app.core.model.settings import Security
from app.core.smtp.message import MessageSpec, build_message
from app.core.smtp.send import queue_id_from, send_message
from tests.fixtures.smtp_servers import TEST_PASSWORD


class Recorder(list):
    def __call__(self, event):
        self.append(event)

    def of(self, kind):
        return [e for e in self if isinstance(e, kind)]


def spec(**kw):
    base = dict(from_addr="user@example.com", from_name="Tester", to="a@example.com", subject="Test", text="Hello ✓")
    base.update(kw)
    return build_message(MessageSpec(**base))


async def test_send_delivers_with_bcc_only_in_the_envelope(smtp_server):
    srv = smtp_server("starttls")
    ev = Recorder()
    msg = spec(to="a@example.com", cc="c@example.com", bcc="secret@example.com")
    res = await send_message(srv.settings(), srv.password, msg, on_event=ev)
    assert res.ok, res.diagnosis
    assert res.queue_id == "MS12345" and res.server_reply.startswith("250")
    assert res.accepted == ("a@example.com", "c@example.com", "secret@example.com") and res.refused == {}
    (got,) = srv.messages
    assert got.mail_from == "user@example.com"
    assert got.rcpt_tos == ["a@example.com", "c@example.com", "secret@example.com"]
    delivered = got.message
    assert delivered["Bcc"] is None and b"secret@example.com" not in got.data
    assert str(delivered["Subject"]) == "Test" and delivered.get_content().strip() == "Hello ✓"
    assert "Bcc" in msg  # the caller's message is not modified
    stages = [e.stage for e in ev.of(StageFinished)]
    assert stages[-4:] == [Stage.MAIL_FROM, Stage.RCPT_TO, Stage.DATA, Stage.QUIT]
    assert TEST_PASSWORD not in repr(list(ev))
    assert res.to_dict()["queue_id"] == "MS12345"


async def test_refused_sender_names_the_address(smtp_server):
    srv = smtp_server("ssl")
    ev = Recorder()
    res = await send_message(srv.settings(), srv.password, spec(from_addr="reject-me@example.com"), on_event=ev)
    d = res.diagnosis
    assert d.code is Code.SENDER_REJECTED and d.variant == "not_owner"
    assert "reject-me@example.com" in d.title and d.server_reply.startswith("553")
    assert ev.of(StageFailed)[0].stage is Stage.MAIL_FROM
    assert srv.messages == []


async def test_partly_refused_recipients_still_deliver_and_report_refusals(smtp_server):
    srv = smtp_server("ssl")
    res = await send_message(srv.settings(), srv.password, spec(to="a@example.com; nobody@example.com"))
    assert not res.ok and res.delivered
    assert res.accepted == ("a@example.com",)
    assert list(res.refused) == ["nobody@example.com"] and res.refused["nobody@example.com"].startswith("550")
    d = res.diagnosis
    assert (d.code, d.variant) == (Code.RECIPIENT_REJECTED, "partial")
    assert "nobody@example.com" in d.title
    assert srv.messages[0].rcpt_tos == ["a@example.com"] and res.queue_id == "MS12345"


async def test_all_recipients_refused(smtp_server):
    srv = smtp_server("ssl")
    ev = Recorder()
    res = await send_message(
        srv.settings(), srv.password, spec(to="nobody@example.com, nobody2@example.com"), on_event=ev
    )
    d = res.diagnosis
    assert d.code is Code.RECIPIENT_REJECTED and d.variant == ""
    assert "nobody@example.com, nobody2@example.com" in d.title
    assert ev.of(StageFailed)[0].stage is Stage.RCPT_TO and not res.delivered


async def test_rejected_content_is_message_rejected(smtp_server):
    srv = smtp_server("ssl")
    res = await send_message(srv.settings(), srv.password, spec(text="REJECTME please"))
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.MESSAGE_REJECTED, "policy")
    assert res.server_reply.startswith("554") and srv.messages == []


async def test_smtputf8_is_used_for_international_addresses(smtp_server):
    srv = smtp_server("ssl")
    res = await send_message(srv.settings(), srv.password, spec(to="пользователь@пример.рф"))
    assert res.ok, res.diagnosis
    got = srv.messages[0]
    assert "SMTPUTF8" in [o.upper() for o in got.mail_options]
    assert got.rcpt_tos == ["пользователь@пример.рф"]


async def test_international_address_refused_up_front_without_smtputf8(smtp_server):
    srv = smtp_server("smtp", implicit_tls=True)
    res = await send_message(srv.settings(), TEST_PASSWORD, spec(to="пользователь@пример.рф"))
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.RECIPIENT_REJECTED, "needs_smtputf8")
    assert not any(l.startswith("MAIL") for l in srv.lines)


async def test_raw_server_queue_id_size_and_dot_stuffing(smtp_server):
    srv = smtp_server("smtp", implicit_tls=True)
    ev = Recorder()
    res = await send_message(srv.settings(), TEST_PASSWORD, spec(text="line one\n.starts with a dot\n"), on_event=ev)
    assert res.ok and res.queue_id == "RAW1"
    mail = next(l for l in srv.lines if l.startswith("MAIL FROM"))
    assert "SIZE=" in mail and "SMTPUTF8" not in mail
    assert "..starts with a dot" in srv.lines
    assert any(e.text.startswith("<message:") for e in ev.of(TranscriptLine))


async def test_send_without_login_on_open_relay(smtp_server):
    srv = smtp_server("plain")
    res = await send_message(srv.settings(security=Security.NONE, username=""), None, spec())
    assert res.ok and srv.messages


def test_queue_id_patterns_of_real_providers():
    assert queue_id_from("250 2.0.0 Ok: queued as 4Xyz12AbC") == "4Xyz12AbC"
    assert queue_id_from("250 2.0.0 OK  1700000000 d9443c01a7336-1f2.123 - gsmtp") == "d9443c01a7336-1f2.123"
    assert (
        queue_id_from(
            "250 2.0.0 Ok: queued on mail-nwsmtp-smtp-production-main-59.vla.yp-c.yandex.net 1700000000-AbCdEf12"
        )
        == "1700000000-AbCdEf12"
    )
    assert queue_id_from("250 OK id=1rABCD-0001xx-Ab") == "1rABCD-0001xx-Ab"
    assert queue_id_from("250 OK") is None


async def test_login_required_before_mail(smtp_server):
    srv = smtp_server("ssl", auth_required=True)
    res = await send_message(srv.settings(username=""), None, spec())
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.SENDER_REJECTED, "auth_required")
    assert res.diagnosis.server_reply.startswith("530")


async def test_encryption_required_before_mail(smtp_server):
    srv = smtp_server("starttls")
    res = await send_message(srv.settings(security=Security.NONE, username=""), None, spec())
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.SENDER_REJECTED, "needs_tls")
