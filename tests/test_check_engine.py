"""run_check against real loopback servers: the happy paths, AUTH, and the stage events."""

from __future__ import annotations

import base64

import pytest

from app.core.catalog.model import ErrorHint, PasswordKind, Provider, ProviderKind
from app.core.diagnosis.table import Code
from app.core.model.events import (
    LogLine,
    Stage,
    StageFinished,
    StageSkipped,
    StageStarted,
    TlsEstablished,
    TranscriptLine,
)
from app.core.model.settings import AuthMechanism, Security
from app.core.smtp.session import run_check
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER


class Recorder(list):
    def __call__(self, event):
        self.append(event)

    def of(self, kind):
        return [e for e in self if isinstance(e, kind)]

    def finished(self):
        return [e.stage for e in self.of(StageFinished)]


async def test_implicit_tls_check_reports_every_stage_and_certificate(smtp_server, tls_certs):
    srv = smtp_server("ssl")
    ev = Recorder()
    res = await run_check(srv.settings(), srv.password, on_event=ev)
    assert res.ok and res.diagnosis is None
    assert ev.finished() == [
        Stage.RESOLVE,
        Stage.CONNECT,
        Stage.TLS,
        Stage.GREETING,
        Stage.EHLO,
        Stage.AUTH,
        Stage.QUIT,
    ]
    assert [e.stage for e in ev.of(StageStarted)] == ev.finished()
    assert res.auth_verified and res.auth_mechanism == "PLAIN"
    tls = res.tls
    assert tls.verified and tls.protocol.startswith("TLSv1.")
    assert tls.sha256 == tls_certs.sha256("valid")
    assert "CN=localhost" in tls.subject and "trustme" in tls.issuer
    assert "IP:127.0.0.1" in tls.sans and "DNS:localhost" in tls.sans
    assert tls.not_after.endswith("Z") and tls.not_after > tls.not_before
    assert [e.details for e in ev.of(TlsEstablished)] == [tls]
    assert any(c.startswith("AUTH") for c in res.capabilities)
    assert all(e.elapsed_ms >= 0 for e in ev.of(StageFinished))
    assert res.to_dict()["tls"]["sha256"] == tls.sha256


async def test_starttls_check_upgrades_and_sees_auth_only_after_tls(smtp_server):
    srv = smtp_server("starttls")
    ev = Recorder()
    res = await run_check(srv.settings(), srv.password, on_event=ev)
    assert res.ok, res.diagnosis
    assert Stage.STARTTLS in ev.finished() and Stage.TLS not in ev.finished()
    sent = [e.text for e in ev.of(TranscriptLine) if e.direction == "C"]
    assert [t.split()[0] for t in sent[:3]] == ["EHLO", "STARTTLS", "EHLO"]
    assert res.tls is not None and res.auth_verified


async def test_connectivity_check_without_login_skips_auth(smtp_server):
    srv = smtp_server("plain")
    ev = Recorder()
    res = await run_check(srv.settings(username=""), None, on_event=ev)
    assert res.ok and not res.auth_verified and res.tls is None
    assert [e.stage for e in ev.of(StageSkipped)] == [Stage.AUTH]


@pytest.mark.parametrize("mech", [AuthMechanism.PLAIN, AuthMechanism.LOGIN])
async def test_non_ascii_password_works_with_plain_and_login(smtp_server, mech):
    srv = smtp_server("ssl")
    assert not TEST_PASSWORD.isascii()
    res = await run_check(srv.settings(auth=mech), TEST_PASSWORD)
    assert res.ok, res.diagnosis
    assert res.auth_mechanism == mech.value.upper()


async def test_cram_md5_is_preferred_and_verified(smtp_server):
    srv = smtp_server("cram_md5_only", implicit_tls=True)
    res = await run_check(srv.settings(), TEST_PASSWORD)
    assert res.ok, res.diagnosis
    assert res.auth_mechanism == "CRAM-MD5"
    wrong = await run_check(srv.settings(), "wrong")
    assert wrong.diagnosis.code is Code.AUTH_FAILED


async def test_auto_prefers_cram_md5_over_plain(smtp_server):
    srv = smtp_server("smtp", implicit_tls=True, ehlo=["AUTH LOGIN PLAIN CRAM-MD5"])
    res = await run_check(srv.settings(), TEST_PASSWORD)
    assert res.ok and res.auth_mechanism == "CRAM-MD5"
    only_plain = await run_check(srv.settings(auth=AuthMechanism.PLAIN), TEST_PASSWORD)
    assert only_plain.ok and only_plain.auth_mechanism == "PLAIN"


async def test_chosen_mechanism_not_offered(smtp_server):
    srv = smtp_server("cram_md5_only", implicit_tls=True)
    res = await run_check(srv.settings(auth=AuthMechanism.PLAIN), TEST_PASSWORD)
    assert res.diagnosis.code is Code.AUTH_MECHANISM_UNSUPPORTED
    assert res.diagnosis.params["offered"] == "CRAM-MD5"
    assert srv.lines and not any(l.upper().startswith("AUTH") for l in srv.lines)


async def test_xoauth2_only_when_chosen(smtp_server):
    srv = smtp_server("smtp", implicit_tls=True, ehlo=["AUTH PLAIN XOAUTH2"])
    auto = await run_check(srv.settings(), "token-123")
    assert auto.auth_mechanism == "PLAIN"
    chosen = await run_check(srv.settings(auth=AuthMechanism.XOAUTH2), "token-123")
    assert chosen.ok and chosen.auth_mechanism == "XOAUTH2"


async def test_wrong_password_is_auth_failed(smtp_server):
    srv = smtp_server("ssl")
    res = await run_check(srv.settings(), "not the password")
    assert res.diagnosis.code is Code.AUTH_FAILED
    assert res.diagnosis.server_reply.startswith("535")
    assert not res.ok and not res.auth_verified


async def test_app_password_hint_when_provider_wants_one(smtp_server):
    srv = smtp_server("auth_535", implicit_tls=True)
    provider = Provider(
        id="demo",
        kind=ProviderKind.PRESET,
        name={"en": "Demo Mail"},
        password_kind=PasswordKind.APP_PASSWORD,
        links={"app_passwords": "https://example.com/app-passwords"},
    )
    res = await run_check(srv.settings(), "pw", provider=provider)
    d = res.diagnosis
    assert d.code is Code.AUTH_FAILED and d.variant == "app_password"
    assert "Demo Mail" in d.title and "app password" in d.title
    assert any(a.kind == "open_url" for a in d.actions)


async def test_534_5_7_9_means_app_password_required(smtp_server):
    srv = smtp_server("auth_534", implicit_tls=True)
    res = await run_check(srv.settings(), "pw")
    assert res.diagnosis.code is Code.APP_PASSWORD_REQUIRED
    assert "5.7.9" in res.diagnosis.server_reply


async def test_microsoft_basic_auth_disabled_variant(smtp_server):
    srv = smtp_server("auth_ms_disabled", implicit_tls=True)
    res = await run_check(srv.settings(), "pw")
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.AUTH_FAILED, "ms_basic_auth_disabled")
    assert "Microsoft 365" in res.diagnosis.title


async def test_provider_error_hint_overrides_code_and_adds_fix(smtp_server):
    srv = smtp_server("auth_535", implicit_tls=True)
    provider = Provider(
        id="demo",
        kind=ProviderKind.PRESET,
        name={"en": "Demo"},
        password_kind=PasswordKind.ACCOUNT_PASSWORD,
        error_hints=(
            ErrorHint(
                pattern=r"5\.7\.8 Username and Password",
                code="app_password_required",
                fix={"en": "Demo needs an app password: Settings > Security.", "ru": "Нужен пароль приложения."},
            ),
        ),
    )
    res = await run_check(srv.settings(), "pw", provider=provider)
    d = res.diagnosis
    assert d.code is Code.APP_PASSWORD_REQUIRED
    assert d.fixes[0] == "Demo needs an app password: Settings > Security."
    assert d.render(lang="ru")[2][0] == "Нужен пароль приложения."


async def test_auth_offered_only_after_starttls_but_no_encryption_chosen(smtp_server):
    srv = smtp_server("starttls")
    res = await run_check(srv.settings(security=Security.NONE), srv.password)
    d = res.diagnosis
    assert (d.code, d.variant) == (Code.AUTH_REQUIRES_TLS, "")
    assert any(a.kind == "switch_settings" and a.params["security"] == "starttls" for a in d.actions)


async def test_password_never_sent_in_clear_unless_allowed(smtp_server):
    srv = smtp_server("plain_auth")
    ev = Recorder()
    res = await run_check(srv.settings(), srv.password, on_event=ev)
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.AUTH_REQUIRES_TLS, "plain_refused")
    assert not any(e.text.startswith("AUTH") for e in ev.of(TranscriptLine))
    allowed = await run_check(srv.settings(allow_plain_auth=True), srv.password)
    assert allowed.ok and allowed.auth_verified


async def test_server_without_auth(smtp_server):
    srv2 = smtp_server("smtp", implicit_tls=True, ehlo=["8BITMIME"])
    res2 = await run_check(srv2.settings(), "pw")
    assert (res2.diagnosis.code, res2.diagnosis.variant) == (Code.AUTH_MECHANISM_UNSUPPORTED, "none_offered")


async def test_ehlo_rejected_falls_back_to_helo(smtp_server):
    srv = smtp_server("ehlo_rejected")
    ev = Recorder()
    res = await run_check(srv.settings(username=""), None, on_event=ev)
    assert res.ok, res.diagnosis
    assert any(e.text.startswith("HELO ") for e in ev.of(TranscriptLine))
    assert res.capabilities == ()


async def test_stop_after_ehlo_then_quit(smtp_server):
    srv = smtp_server("ssl")
    ev = Recorder()
    res = await run_check(srv.settings(), srv.password, on_event=ev, stop_after=Stage.EHLO)
    assert res.ok and not res.auth_verified
    assert ev.finished()[-2:] == [Stage.EHLO, Stage.QUIT]


async def test_login_without_password_is_invalid_input_before_connecting(smtp_server):
    srv = smtp_server("silent")
    ev = Recorder()
    res = await run_check(srv.settings(username="someone"), None, on_event=ev)
    assert res.diagnosis.code is Code.INVALID_INPUT and res.diagnosis.params["field"] == "password"
    assert srv.connections == 0 and not ev.of(StageStarted)
    res2 = await run_check(srv.settings(username=""), "secret")
    assert res2.diagnosis.code is Code.INVALID_INPUT
    bad = await run_check(srv.settings(port=0), None)
    assert bad.diagnosis.code is Code.INVALID_INPUT and bad.diagnosis.params["field"] == "port"


@pytest.mark.parametrize("mech", [AuthMechanism.PLAIN, AuthMechanism.LOGIN, AuthMechanism.CRAM_MD5])
async def test_transcript_masks_every_secret(smtp_server, mech):
    kind = "cram_md5_only" if mech is AuthMechanism.CRAM_MD5 else "smtp"
    srv = smtp_server(kind, implicit_tls=True)
    ev = Recorder()
    res = await run_check(srv.settings(auth=mech), TEST_PASSWORD, on_event=ev)
    assert res.ok, res.diagnosis
    dump = repr(list(ev)) + repr(res.to_dict())
    secrets = [
        TEST_PASSWORD,
        base64.b64encode(TEST_PASSWORD.encode()).decode(),
        base64.b64encode(f"\0{TEST_USER}\0{TEST_PASSWORD}".encode()).decode(),
    ]
    for s in secrets:
        assert s not in dump
    client_lines = [e.text for e in ev.of(TranscriptLine) if e.direction == "C"]
    assert any("****" in t for t in client_lines)
    # what the server really received after AUTH is not what the transcript shows
    auth_idx = next(i for i, l in enumerate(srv.lines) if l.upper().startswith("AUTH"))
    assert srv.lines[auth_idx + (0 if mech is AuthMechanism.PLAIN else 1)] not in client_lines


async def test_log_lines_exist_at_detail_level(smtp_server):
    srv = smtp_server("ssl")
    ev = Recorder()
    await run_check(srv.settings(), srv.password, on_event=ev)
    texts = [e.text for e in ev.of(LogLine)]
    assert any("capabilities" in t for t in texts)
    assert all(TEST_PASSWORD not in t for t in texts)


async def test_all_resolved_addresses_are_tried_in_order(smtp_server):
    import socket as _socket

    srv = smtp_server("ssl")  # listens on 127.0.0.1 only
    infos = _socket.getaddrinfo("localhost", srv.port, type=_socket.SOCK_STREAM)
    ev = Recorder()
    res = await run_check(srv.settings(host="localhost"), srv.password, on_event=ev)
    assert res.ok, res.diagnosis
    resolved = next(e for e in ev.of(StageFinished) if e.stage is Stage.RESOLVE).summary
    assert resolved.split(", ") == list(dict.fromkeys(i[4][0] for i in infos))
    connected = next(e for e in ev.of(StageFinished) if e.stage is Stage.CONNECT).summary
    assert connected == f"127.0.0.1:{srv.port}"


async def test_connect_falls_back_to_the_next_address(smtp_server):
    import socket as _socket

    from app.core.smtp.session import SmtpSession
    from tests.fixtures.smtp_servers import free_port

    srv = smtp_server("plain")
    ev = Recorder()
    session = SmtpSession(srv.settings(username=""), None, ev, None)
    dead = (_socket.AF_INET, _socket.SOCK_STREAM, 6, ("127.0.0.1", free_port()))
    good = (_socket.AF_INET, _socket.SOCK_STREAM, 6, ("127.0.0.1", srv.port))
    session.addresses = [dead, good]
    sock, shown = await session._connect_direct(quiet=False)
    sock.close()
    assert shown == f"127.0.0.1:{srv.port}" and session.address_used == good
    assert any("failed" in e.text for e in ev.of(LogLine))
