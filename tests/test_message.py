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
    "field,changes,message",
    [
        (
            "subject",
            {"subject": "Hi\r\nBcc: victim@example.com"},
            "the subject must not contain a carriage return (CR)",
        ),
        ("from_name", {"from_name": "Eve\nX-Injected: 1"}, "the sender name must not contain a line break (LF)"),
        (
            "to",
            {"to": "a@example.com\r\nBcc: victim@example.com"},
            "'a@example.com\\u000d\\u000aBcc: victim@example.com' contains a carriage return (CR)",
        ),
        ("bcc", {"bcc": "x@example.com\n"}, "'x@example.com\\u000a' contains a line break (LF)"),
        (
            "from",
            {"from_addr": "s@example.com\r\nX: y"},
            "'s@example.com\\u000d\\u000aX: y' contains a carriage return (CR)",
        ),
        # CVE-2024-6923: the CR/LF hidden in an RFC 2047 encoded word is found after decoding
        (
            "subject",
            {"subject": "=?utf-8?q?Hi=0D=0AX-Injected:_1?="},
            "the subject hides a carriage return (CR) in an encoded word (=?…?=)",
        ),
        (
            "from_name",
            {"from_name": "=?utf-8?b?RXZlDQpCY2M6IHZAeC50ZXN0?="},
            "the sender name hides a carriage return (CR) in an encoded word (=?…?=)",
        ),
        ("subject", {"subject": "a\u2028b"}, "the subject must not contain U+2028 (line separator)"),
        ("subject", {"subject": "a\x85b"}, "the subject must not contain NEL (next line)"),
        ("body", {"text": "a\x00b"}, "the text must not contain NUL"),
        ("body", {"text": "a\x0bb"}, "the text must not contain a vertical tab"),
        ("body", {"text": "a\u2028b"}, "the text must not contain U+2028 (line separator)"),
        ("body", {"text": "bad \udcff utf-8"}, "the text is not valid UTF-8 text"),
        ("to", {"to": "x@example.com," * 101}, "too many recipients: a test message goes to at most 100 addresses"),
        ("subject", {"subject": "s" * 901}, "the subject is longer than 900 characters"),
    ],
)
def test_hostile_header_and_body_values_are_refused_naming_the_field(field, changes, message):
    spec = dict(from_addr="s@example.com", to="r@example.com", subject="ok", text="body")
    spec.update(changes)
    with pytest.raises(MessageError) as exc:
        build_message(MessageSpec(**spec))
    assert (exc.value.field, exc.value.message) == (field, message)


def test_an_encoded_subject_without_controls_stays_one_header():
    msg = build_message(
        MessageSpec(from_addr="s@example.com", to="r@example.com", subject="=?utf-8?q?Hi_there?=", text="x")
    )
    back = reparse(msg)
    assert "X-Injected" not in back
    assert sorted(back.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"]
    )


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "evil@x.test <bob@example.test>",
            "'evil@x.test <bob@example.test>': the name before <…> contains '@' or another special character; "
            'put it in double quotes ("…") if it is really a name',
        ),
        ("bob@example.test <", "'bob@example.test <' is not of the form Name <address>"),
        (
            "Bob <bob@example.test> <evil@x.test>",
            "'Bob <bob@example.test> <evil@x.test>' is not of the form Name <address>",
        ),
        (
            '"Bob" evil@x.test <bob@example.test>',
            "'\"Bob\" evil@x.test <bob@example.test>': expected <address> after the quoted name",
        ),
        ("bob@exa mple.test", "'bob@exa mple.test' is not an e-mail address (it contains a space)"),
        ("bob@-x.test", "'bob@-x.test': '-x.test' is not a valid domain"),
        ("a..b@x.test", "'a..b@x.test': the part before @ is not valid"),
        ("Bob <>", "'Bob <>' has an empty address between < and >"),
    ],
)
def test_ambiguous_or_broken_addresses_are_refused_with_the_reason(text, message):
    with pytest.raises(MessageError) as exc:
        parse_address_list(text, "to")
    assert (exc.value.field, exc.value.message) == ("to", message)


def test_addresses_are_shown_back_as_parsed():
    assert parse_address_list('"evil@x.test" <bob@example.test>') == ['"evil@x.test" <bob@example.test>']
    msg = build_message(
        MessageSpec(from_addr="s@example.com", to='"evil@x.test" <bob@example.test>', subject="s", text="x")
    )
    assert envelope_recipients(msg) == ["bob@example.test"]


def test_hundred_thousand_recipients_are_refused_at_once():
    import time

    many = ", ".join(f"user{i}@example.com" for i in range(100_000))
    t0 = time.perf_counter()
    with pytest.raises(MessageError) as exc:
        build_message(MessageSpec(from_addr="s@example.com", to=many, subject="s", text="x"))
    assert exc.value.message == "too many recipients: a test message goes to at most 100 addresses"
    assert time.perf_counter() - t0 < 5  # generous: today it is milliseconds, it was 460 s


def test_an_unreadable_attachment_is_a_field_error(tmp_path):
    d = tmp_path / "dir.txt"
    d.mkdir()
    with pytest.raises(MessageError) as exc:
        build_message(MessageSpec(from_addr="s@example.com", to="r@example.com", text="x", attachments=[str(d)]))
    assert (exc.value.field, exc.value.message) == ("attachments", f"no such file: {d}")


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
