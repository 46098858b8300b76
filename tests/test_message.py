"""build_message / parse_address_list: real EmailMessage objects, header-injection and address checks."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from app.core.smtp.message import MessageError, MessageSpec, build_message, envelope_recipients, parse_address_list


def reparse(msg):
    return BytesParser(policy=policy.default).parsebytes(msg.as_bytes(policy=policy.SMTP))


def test_address_lists_accept_commas_semicolons_and_names():
    got = parse_address_list('a@example.com; "Doe, John" <john@example.org>, b@example.net;')
    assert got == ["a@example.com", '"Doe, John" <john@example.org>', "b@example.net"]
    assert parse_address_list(["x@example.com", "y@example.com; z@example.com"]) == [
        "x@example.com",
        "y@example.com",
        "z@example.com",
    ]
    assert parse_address_list("") == []


@pytest.mark.parametrize("bad", ["not-an-address", "a@", "@b.c", "a b@c.d", "a@b@c.d", "<a@b.c"])
def test_invalid_addresses_name_the_field(bad):
    with pytest.raises(MessageError) as exc:
        parse_address_list(bad, "cc")
    assert exc.value.field == "cc"


def test_full_message_with_non_ascii_name_html_and_attachment(tmp_path):
    att = tmp_path / "report.pdf"
    att.write_bytes(b"%PDF-1.4 test")
    msg = build_message(
        MessageSpec(
            from_addr="sender@example.com",
            from_name="Иван Петров",
            to="a@example.com; b@example.com",
            cc="c@example.com",
            bcc="hidden@example.com",
            subject="Проверка ✓",
            text="Привет, это тест.",
            html="<p>Привет, <b>это</b> тест.</p>",
            attachments=[str(att)],
        )
    )
    raw = msg.as_bytes(policy=policy.SMTP)
    assert raw.isascii()  # 7-bit clean: RFC 2047 headers, quoted-printable bodies
    assert b"=?utf-8?" in raw
    back = reparse(msg)
    assert back["From"].addresses[0].display_name == "Иван Петров"
    assert back["From"].addresses[0].addr_spec == "sender@example.com"
    assert str(back["Subject"]) == "Проверка ✓"
    assert back["Date"] is not None and back["Message-ID"].endswith("@example.com>")
    assert back.get_content_type() == "multipart/mixed"
    body = back.get_body(("plain",))
    assert body.get_content().strip() == "Привет, это тест."
    assert back.get_body(("html",)).get_content_type() == "text/html"
    assert back.get_body(("plain",)) is not None
    atts = list(back.iter_attachments())
    assert [a.get_filename() for a in atts] == ["report.pdf"]
    assert atts[0].get_content_type() == "application/pdf"
    assert atts[0].get_content() == b"%PDF-1.4 test"
    assert envelope_recipients(msg) == ["a@example.com", "b@example.com", "c@example.com", "hidden@example.com"]


def test_text_only_and_html_only_bodies():
    t = build_message(MessageSpec(from_addr="s@example.com", to="r@example.com", subject="s", text="hello"))
    assert t.get_content_type() == "text/plain" and t.get_content().strip() == "hello"
    h = build_message(MessageSpec(from_addr="s@example.com", to="r@example.com", subject="s", html="<i>hi</i>"))
    assert h.get_content_type() == "text/html"
    both = build_message(
        MessageSpec(from_addr="s@example.com", to="r@example.com", subject="s", text="a", html="<b>a</b>")
    )
    assert both.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    "field,changes",
    [
        ("subject", {"subject": "Hi\r\nBcc: victim@example.com"}),
        ("from_name", {"from_name": "Eve\nX-Injected: 1"}),
        ("to", {"to": "a@example.com\r\nBcc: victim@example.com"}),
        ("bcc", {"bcc": "x@example.com\n"}),
        ("from", {"from_addr": "s@example.com\r\nX: y"}),
    ],
)
def test_header_injection_is_refused_naming_the_field(field, changes):
    spec = dict(from_addr="s@example.com", to="r@example.com", subject="ok", text="body")
    spec.update(changes)
    with pytest.raises(MessageError) as exc:
        build_message(MessageSpec(**spec))
    assert exc.value.field == field
    assert "line breaks" in exc.value.message


def test_missing_pieces_name_the_field(tmp_path):
    with pytest.raises(MessageError) as e1:
        build_message(MessageSpec(from_addr="", to="r@example.com"))
    assert e1.value.field == "from"
    with pytest.raises(MessageError) as e2:
        build_message(MessageSpec(from_addr="s@example.com", to=""))
    assert e2.value.field == "to"
    with pytest.raises(MessageError) as e3:
        build_message(
            MessageSpec(from_addr="s@example.com", to="r@example.com", attachments=[str(tmp_path / "nope.txt")])
        )
    assert e3.value.field == "attachments"
    with pytest.raises(MessageError) as e4:
        build_message(MessageSpec(from_addr="bad address", to="r@example.com"))
    assert e4.value.field == "from"


def test_unknown_attachment_type_is_octet_stream(tmp_path):
    f = tmp_path / "data.weird-ext"
    f.write_bytes(b"\x00\x01")
    msg = build_message(MessageSpec(from_addr="s@example.com", to="r@example.com", text="x", attachments=[str(f)]))
    (att,) = list(msg.iter_attachments())
    assert att.get_content_type() == "application/octet-stream"


def test_bcc_only_message_is_allowed():
    msg = build_message(MessageSpec(from_addr="s@example.com", bcc="h@example.com", text="x"))
    assert envelope_recipients(msg) == ["h@example.com"]
