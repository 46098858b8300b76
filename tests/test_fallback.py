"""The fallback: a second client (smtplib) and the paired alternative, only for non-definitive failures."""

from __future__ import annotations

import asyncio
import json

from app.core.detect.fallback import (
    check_with_fallback,
    confirm_with_stdlib,
    is_definitive,
    paired_alternative,
    stdlib_check,
)
from app.core.diagnosis.table import Code, diagnose
from app.core.model.events import LogLine
from app.core.model.settings import Security, SmtpSettings, Timeouts

FAST = Timeouts(connect=0.5, greeting=0.5, command=1.0, total=2.0)


def _settings(lab, port, security, **kw) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, security=Security(security), timeouts=FAST, tls=lab.tls_options(), **kw
    )


def test_paired_alternative():
    s = SmtpSettings(host="smtp.example.com", port=465, security=Security.SSL, username="u")
    alt = paired_alternative(s)
    assert (alt.host, alt.port, alt.security, alt.username) == ("smtp.example.com", 587, Security.STARTTLS, "u")
    assert (paired_alternative(alt).port, paired_alternative(alt).security) == (465, Security.SSL)
    assert paired_alternative(s.with_(port=25, security=Security.STARTTLS)).port == 465
    assert paired_alternative(s.with_(security=Security.NONE)) is None


def test_is_definitive():
    assert is_definitive(diagnose(Code.AUTH_FAILED))
    assert is_definitive(diagnose(Code.CERT_UNTRUSTED))
    assert is_definitive(diagnose(Code.DNS_FAILED))  # the name does not exist
    assert not is_definitive(diagnose(Code.DNS_FAILED, "temporary"))
    for code in (Code.GREETING_TIMEOUT, Code.CONNECT_TIMEOUT, Code.CONNECT_REFUSED, Code.TLS_HANDSHAKE_FAILED):
        assert not is_definitive(diagnose(code))


async def test_silent_server_confirmed_and_alternative_offered(mail_lab):
    lab = mail_lab
    events = []
    settings = _settings(lab, lab.silent_port, "starttls", username=lab.username)
    alt = _settings(lab, lab.tls_port, "ssl", username=lab.username)
    r = await check_with_fallback(settings, lab.password, on_event=events.append, alternative=alt)
    assert not r.ok
    assert r.check.diagnosis.code is Code.GREETING_TIMEOUT
    assert r.confirmation is not None and r.confirmation.agrees and not r.confirmation.ok
    assert "no answer" in r.confirmation.detail and r.confirmation.stage == "greeting"
    assert r.alternative_works and r.alternative.auth_verified
    assert any(n.startswith("Confirmed by a second client") for n in r.notes)
    assert any(f"{lab.tls_port} with SSL/TLS works: switch?" == n for n in r.notes)
    switch = [a for a in r.diagnosis.actions if a.kind == "switch_settings"]
    assert switch[0].params["port"] == lab.tls_port and switch[0].params["security"] == "ssl"
    assert switch[0].to_dict()["label"] == f"{lab.tls_port} with SSL/TLS works: switch?"
    logged = [e.text for e in events if isinstance(e, LogLine)]
    assert any("Confirmed by a second client" in t for t in logged)
    assert lab.password not in json.dumps(r.to_dict())


async def test_refused_port_alternative_fails_too(mail_lab):
    lab = mail_lab
    settings = _settings(lab, lab.closed_port, "ssl")
    r = await check_with_fallback(settings, None, alternative=_settings(lab, lab.silent_port, "starttls"))
    assert r.check.diagnosis.code is Code.CONNECT_REFUSED
    assert r.confirmation.agrees and "refused" in r.confirmation.detail
    assert r.alternative is not None and not r.alternative.ok
    assert any("does not work either" in n for n in r.notes)
    assert not any(a.kind == "switch_settings" and "works" in a.label for a in r.diagnosis.actions)


async def test_definitive_535_is_never_retried(smtp_server):
    server = smtp_server("auth_535", implicit_tls=True)
    other = smtp_server("auth_535", implicit_tls=True)
    settings = server.settings()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    r = await check_with_fallback(settings, "Wr0ng-pw", alternative=other.settings())
    assert not r.ok and r.diagnosis.code is Code.AUTH_FAILED
    assert r.confirmation is None and r.alternative is None and r.notes == ()
    assert [ln for ln in server.lines if ln.upper().startswith("AUTH")] and other.connections == 0
    assert server.connections == 1  # no second client either
    assert loop.time() - t0 < settings.timeouts.total


async def test_success_needs_no_fallback(mail_lab):
    lab = mail_lab
    r = await check_with_fallback(_settings(lab, lab.starttls_port, "starttls", username=lab.username), lab.password)
    assert r.ok and r.check.auth_verified and r.confirmation is None


async def test_second_client_directly(mail_lab, socks5_proxy):
    lab = mail_lab
    ok = await confirm_with_stdlib(_settings(lab, lab.tls_port, "ssl", username=lab.username), lab.password)
    assert ok.ok and not ok.agrees and ok.stage == "done"
    via = _settings(lab, lab.starttls_port, "starttls", username=lab.username, proxy=socks5_proxy.url)
    c = await asyncio.to_thread(stdlib_check, via, lab.password)
    assert c.ok and ("127.0.0.1", lab.starttls_port) in socks5_proxy.targets
    bad = await confirm_with_stdlib(_settings(lab, lab.tls_port, "ssl", username=lab.username), "nope")
    assert not bad.ok and bad.stage == "auth" and "535" in bad.detail
    untrusted = _settings(lab, lab.tls_port, "ssl").with_(tls=lab.tls_options().__class__())
    c = await confirm_with_stdlib(untrusted, None)
    assert not c.ok and "certificate" in c.detail


async def test_second_client_reports_proxy_failure_without_secret(mail_lab, socks5_auth_proxy):
    url = socks5_auth_proxy.url_with("proxyuser", "Wr0ng-proxy-secret")
    c = await confirm_with_stdlib(_settings(mail_lab, mail_lab.tls_port, "ssl", proxy=url), None)
    assert not c.ok and c.detail.startswith("proxy:") and "login" in c.detail
    assert "Wr0ng-proxy-secret" not in json.dumps(c.to_dict())


async def test_implicit_tls_timeout_suggests_starttls(mail_lab):
    lab = mail_lab
    settings = _settings(lab, lab.silent_port, "ssl", username=lab.username)
    alt = _settings(lab, lab.starttls_port, "starttls", username=lab.username)
    r = await check_with_fallback(settings, lab.password, alternative=alt)
    assert not r.ok and r.check.diagnosis.code in (Code.TLS_HANDSHAKE_FAILED, Code.GREETING_TIMEOUT)
    assert r.confirmation.agrees
    assert f"{lab.starttls_port} with STARTTLS works: switch?" in r.notes
    (switch,) = [a for a in r.diagnosis.actions if a.kind == "switch_settings"][:1]
    assert (switch.params["port"], switch.params["security"]) == (lab.starttls_port, "starttls")
