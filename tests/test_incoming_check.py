"""The staged IMAP and POP3 checks against a real Dovecot and against misbehaving sockets."""

from __future__ import annotations

import base64
import time

import pytest

from app.core.catalog import load_catalogue
from app.core.diagnosis import Code
from app.core.incoming import check_imap, check_pop3, run_incoming_check
from app.core.model import (
    IncomingProtocol,
    Stage,
    StageFailed,
    StageFinished,
    StageSkipped,
    TlsEstablished,
    TranscriptLine,
)
from tests.fixtures.dovecot import ASCII_PASSWORD, ASCII_USER
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER


def get_provider(provider_id: str):
    return load_catalogue().by_id(provider_id)


CHECKS = {"imap": check_imap, "pop3": check_pop3}


def _secrets_absent(events, password: str, user: str = TEST_USER) -> None:
    text = "\n".join(e.text for e in events if isinstance(e, TranscriptLine))
    for secret in (password, base64.b64encode(f"\0{user}\0{password}".encode()).decode()):
        assert secret not in text
    return text


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_login_with_utf8_password_succeeds(dovecot, protocol, security):
    events: list = []
    result = await CHECKS[protocol](dovecot.settings(protocol, security), TEST_PASSWORD, on_event=events.append)
    assert result.ok, result.diagnosis and result.diagnosis.to_dict()
    assert result.auth_verified and result.auth_mechanism == "PLAIN"
    assert result.tls is not None and result.tls.verified
    finished = [e.stage for e in events if isinstance(e, StageFinished)]
    expected = [Stage.RESOLVE, Stage.CONNECT]
    expected += [Stage.TLS] if security == "ssl" else []
    expected += [Stage.GREETING, Stage.CAPABILITY]
    expected += [Stage.STARTTLS] if security == "starttls" else []
    assert finished == expected + [Stage.AUTH, Stage.QUIT]
    text = _secrets_absent(events, TEST_PASSWORD)
    assert "****" in text
    assert result.to_dict()["protocol"] == protocol


async def test_ascii_account_and_dispatch(dovecot):
    settings = dovecot.settings("imap", "ssl", username=ASCII_USER)
    result = await run_incoming_check(IncomingProtocol.IMAP, settings, ASCII_PASSWORD)
    assert result.ok and result.protocol is IncomingProtocol.IMAP


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_wrong_password_is_auth_failed(dovecot, protocol):
    events: list = []
    result = await CHECKS[protocol](dovecot.settings(protocol, "ssl"), "wrong пароль", on_event=events.append)
    assert result.diagnosis.code is Code.AUTH_FAILED
    assert result.diagnosis.variant == "incoming"
    assert protocol.upper() in result.diagnosis.title
    _secrets_absent(events, "wrong пароль")


async def test_wrong_password_at_app_password_provider_names_app_passwords(dovecot):
    result = await check_imap(dovecot.settings("imap", "ssl"), "nope", provider=get_provider("yandex"))
    assert result.diagnosis.code is Code.AUTH_FAILED and result.diagnosis.variant == "incoming_app_password"
    assert any(a.params.get("url", "").startswith("https://id.yandex.ru") for a in result.diagnosis.actions)


async def test_imap_cleartext_login_never_sent_and_logindisabled_honoured(dovecot):
    events: list = []
    settings = dovecot.settings("imap", "none", port=dovecot.ports["imap"])
    result = await check_imap(settings, TEST_PASSWORD, on_event=events.append)
    assert result.diagnosis.code is Code.AUTH_REQUIRES_TLS
    assert result.diagnosis.variant == "incoming"
    sent = [e.text for e in events if isinstance(e, TranscriptLine) and e.direction == "C"]
    assert not any("AUTHENTICATE" in s or "LOGIN" in s for s in sent)
    # explicitly allowed: Dovecot takes logins in clear from loopback (it counts 127.0.0.1 as secured)
    result = await check_imap(settings.with_(allow_plain_auth=True), TEST_PASSWORD)
    assert result.ok and result.tls is None


async def test_logindisabled_is_honoured_even_when_cleartext_is_allowed(raw_incoming):
    srv = raw_incoming(_imap_script("* OK ready", "IMAP4rev1 STARTTLS LOGINDISABLED"))
    result = await check_imap(srv.settings(allow_plain_auth=True), TEST_PASSWORD)
    assert result.diagnosis.code is Code.AUTH_REQUIRES_TLS and result.diagnosis.variant == "incoming_disabled"
    assert not any("AUTHENTICATE" in line or "LOGIN " in line for line in srv.lines)


async def test_pop3_cleartext_login_refused(dovecot):
    settings = dovecot.settings("pop3", "none", port=dovecot.ports["pop3"])
    result = await check_pop3(settings, TEST_PASSWORD)
    assert result.diagnosis.code is Code.AUTH_REQUIRES_TLS
    assert {a.params.get("port") for a in result.diagnosis.actions if a.kind == "switch_settings"} == {995, 110}


async def test_implicit_tls_on_the_starttls_port_is_told_apart(dovecot):
    t0 = time.monotonic()
    result = await check_imap(dovecot.settings("imap", "ssl", port=dovecot.ports["imap"]), TEST_PASSWORD)
    assert result.diagnosis.code is Code.TLS_HANDSHAKE_FAILED
    assert result.diagnosis.variant == "incoming_plaintext_port"
    assert result.diagnosis.actions[0].params == {"port": 143, "security": "starttls"}
    assert time.monotonic() - t0 < 1.5


async def test_starttls_on_the_implicit_port_waits_for_the_greeting(dovecot):
    settings = dovecot.settings("pop3", "starttls", port=dovecot.ports["pop3s"])
    settings = settings.with_(timeouts=settings.timeouts.__class__(connect=1, greeting=0.3, command=1, total=3))
    result = await check_pop3(settings, TEST_PASSWORD)
    assert result.diagnosis.code is Code.GREETING_TIMEOUT
    assert result.diagnosis.variant == "incoming_expects_tls"
    assert result.diagnosis.actions[0].params == {"port": 995, "security": "ssl"}


async def test_untrusted_certificate_shows_details_and_pin_works(dovecot, tls_certs):
    events: list = []
    settings = dovecot.settings("imap", "ssl")
    untrusted = settings.with_(tls=settings.tls.__class__(cafile=None))
    result = await check_imap(untrusted, TEST_PASSWORD, on_event=events.append)
    assert result.diagnosis.code is Code.CERT_UNTRUSTED
    assert any(isinstance(e, TlsEstablished) for e in events)
    assert result.diagnosis.params["sha256"] == tls_certs.sha256("valid")
    pinned = settings.with_(tls=settings.tls.__class__(cafile=None, pinned_sha256=tls_certs.sha256("valid")))
    assert (await check_imap(pinned, TEST_PASSWORD)).ok


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_client_on_an_smtp_port_is_a_fast_protocol_error(smtp_server, protocol):
    smtp = smtp_server("starttls")
    t0 = time.monotonic()
    result = await CHECKS[protocol](smtp.settings(), TEST_PASSWORD)
    assert result.diagnosis.code is Code.PROTOCOL_ERROR
    assert result.diagnosis.variant == "wrong_protocol"
    assert result.diagnosis.params["found"] == "SMTP"
    assert time.monotonic() - t0 < 1.0


async def test_pop3_client_on_the_imap_port_names_imap(dovecot):
    settings = dovecot.settings("pop3", "ssl", port=dovecot.ports["imaps"])
    result = await check_pop3(settings, TEST_PASSWORD)
    assert result.diagnosis.variant == "wrong_protocol" and result.diagnosis.params["found"] == "IMAP"


async def test_connectivity_only_without_login(dovecot):
    events: list = []
    result = await check_imap(dovecot.settings("imap", "starttls", username=""), None, on_event=events.append)
    assert result.ok and not result.auth_verified
    assert any(isinstance(e, StageSkipped) and e.stage is Stage.AUTH for e in events)


async def test_only_one_of_login_and_password_is_invalid_input(dovecot):
    result = await check_pop3(dovecot.settings("pop3", "ssl"), None)
    assert result.diagnosis.code is Code.INVALID_INPUT


# -- misbehaving servers (real sockets) ------------------------------------------------------------


def _imap_script(greeting: str, caps: str, replies: dict[str, str] | None = None):
    replies = replies or {}

    def script(peer):
        if greeting:
            peer.send(greeting + "\r\n")
        while True:
            line = peer.readline()
            if line is None:
                return
            tag, _, rest = line.partition(" ")
            verb = rest.split(" ", 1)[0].upper()
            if verb == "CAPABILITY":
                peer.send(f"* CAPABILITY {caps}\r\n{tag} OK done\r\n")
            elif verb in replies:
                peer.send(replies[verb].replace("TAG", tag) + "\r\n")
            elif verb == "AUTHENTICATE":
                peer.send(f"{tag} OK logged in\r\n")
            elif verb == "LOGOUT":
                peer.send(f"* BYE bye\r\n{tag} OK bye\r\n")
                return
            else:
                peer.send(f"{tag} BAD what\r\n")

    return script


async def test_silent_server_is_a_greeting_timeout(raw_incoming):
    srv = raw_incoming(lambda peer: peer.wait_close())
    settings = srv.settings(timeouts=srv.settings().timeouts.__class__(connect=1, greeting=0.3, command=1, total=3))
    t0 = time.monotonic()
    result = await check_imap(settings.with_(username=""), None)
    assert result.diagnosis.code is Code.GREETING_TIMEOUT
    assert result.diagnosis.actions[0].params == {"port": 993, "security": "ssl"}
    assert time.monotonic() - t0 < 1.5


async def test_garbage_greeting_is_a_protocol_error(raw_incoming):
    srv = raw_incoming(lambda peer: peer.send("\x00\x01 hello there\r\n") or peer.wait_close())
    result = await check_imap(srv.settings(username=""), None)
    assert result.diagnosis.code is Code.PROTOCOL_ERROR and result.diagnosis.variant == "incoming"
    assert "IMAP" in result.diagnosis.title


async def test_bye_at_once_is_server_unavailable(raw_incoming):
    srv = raw_incoming(lambda peer: peer.send("* BYE too many connections\r\n"))
    result = await check_imap(srv.settings(username=""), None)
    assert result.diagnosis.code is Code.SERVER_UNAVAILABLE and result.diagnosis.variant == "incoming"
    assert "too many connections" in result.diagnosis.explanation


async def test_endless_untagged_lines_are_cut_off(raw_incoming):
    def script(peer):
        peer.send("* OK ready\r\n")
        peer.readline()
        try:
            while True:
                peer.send("* CAPABILITY IMAP4rev1 " + "X" * 50 + "\r\n")
        except OSError:
            return

    srv = raw_incoming(script)
    t0 = time.monotonic()
    result = await check_imap(srv.settings(username=""), None)
    assert result.diagnosis.code is Code.PROTOCOL_ERROR
    assert "more than 1000" in result.diagnosis.params["detail"]
    assert time.monotonic() - t0 < 2.0


async def test_stripped_starttls_is_refused_before_any_login(raw_incoming):
    srv = raw_incoming(_imap_script("* OK ready", "IMAP4rev1 AUTH=PLAIN"), security="starttls")
    result = await check_imap(srv.settings(), TEST_PASSWORD)
    assert result.diagnosis.code is Code.STARTTLS_UNSUPPORTED and result.diagnosis.variant == "incoming"
    assert "stripping" in result.diagnosis.explanation
    assert not any("AUTHENTICATE" in line for line in srv.lines)


async def test_starttls_refused(raw_incoming):
    srv = raw_incoming(
        _imap_script("* OK ready", "IMAP4rev1 STARTTLS LOGINDISABLED", {"STARTTLS": "TAG NO [UNAVAILABLE] not now"}),
        security="starttls",
    )
    result = await check_imap(srv.settings(), TEST_PASSWORD)
    assert result.diagnosis.variant == "incoming_refused"
    assert not any("AUTHENTICATE" in line for line in srv.lines)


async def test_starttls_injection_is_detected(raw_incoming):
    srv = raw_incoming(
        _imap_script(
            "* OK ready",
            "IMAP4rev1 STARTTLS",
            {"STARTTLS": "TAG OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected"},
        ),
        security="starttls",
    )
    result = await check_imap(srv.settings(), TEST_PASSWORD)
    assert result.diagnosis.code is Code.PROTOCOL_ERROR
    assert "injection" in result.diagnosis.params["detail"]


async def test_imap_switched_off_at_gmail_gets_the_providers_steps(raw_incoming):
    refusal = "* NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page.\r\nTAG NO [ALERT] not enabled for IMAP use (Failure)"
    srv = raw_incoming(
        _imap_script("* OK Gimap ready", "IMAP4rev1 AUTH=PLAIN SASL-IR", {"AUTHENTICATE": refusal}), implicit_tls=True
    )
    events: list = []
    result = await check_imap(srv.settings(), TEST_PASSWORD, provider=get_provider("gmail"), on_event=events.append)
    d = result.diagnosis
    assert d.code is Code.INCOMING_DISABLED
    assert d.title == "IMAP access is switched off for this mailbox"
    assert d.provider_fixes.get("en"), "the catalogue's own steps"
    assert any(a.kind == "open_url" for a in d.actions)
    failed = [e for e in events if isinstance(e, StageFailed)]
    assert failed[0].stage is Stage.AUTH
    _secrets_absent(events, TEST_PASSWORD)


async def test_pop3_mailbox_in_use(raw_incoming):
    def script(peer):
        peer.send("+OK ready\r\n")
        while (line := peer.readline()) is not None:
            verb = line.split(" ", 1)[0].upper()
            if verb == "CAPA":
                peer.send("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
            elif verb == "AUTH":
                peer.send("-ERR [IN-USE] Unable to lock maildrop\r\n")
            else:
                peer.send("+OK\r\n")

    srv = raw_incoming(script, implicit_tls=True)
    result = await check_pop3(srv.settings(), TEST_PASSWORD)
    assert result.diagnosis.code is Code.SERVER_UNAVAILABLE and result.diagnosis.variant == "locked"


async def test_pop3_user_pass_fallback_and_quit_at_once(raw_incoming):
    got: list[str] = []

    def script(peer):
        peer.send("+OK ready\r\n")
        while (line := peer.readline()) is not None:
            got.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "CAPA":
                peer.send("-ERR no CAPA here\r\n")
            elif verb == "QUIT":
                peer.send("+OK bye\r\n")
                return
            else:
                peer.send("+OK\r\n")

    srv = raw_incoming(script, implicit_tls=True)
    events: list = []
    result = await check_pop3(srv.settings(), TEST_PASSWORD, on_event=events.append)
    assert result.ok and result.auth_mechanism == "USER"
    assert [g.split(" ")[0] for g in got] == ["CAPA", "USER", "PASS", "QUIT"]
    assert got[2] == f"PASS {TEST_PASSWORD}"  # UTF-8 as it is, on the wire only
    _secrets_absent(events, TEST_PASSWORD)
