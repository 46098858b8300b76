"""The run pipeline: engine check, then (non-definitive failures only) a second client (aiosmtplib) and
alternatives, all within one deadline; one verdict rule."""

from __future__ import annotations

import asyncio
import json

from app.core.detect import (
    SecondOpinion,
    alternatives_for,
    decide,
    is_definitive,
    paired_alternative,
    run_pipeline,
    second_opinion,
)
from app.core.diagnosis import Code, diagnose
from app.core.model import LogLine, Security, SmtpSettings, Timeouts

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


def test_alternatives_use_the_users_port_when_it_answered():
    s = SmtpSettings(host="smtp.example.com", port=10465, security=Security.STARTTLS)
    alts = alternatives_for(s, diagnose(Code.GREETING_TIMEOUT))
    assert [(a.port, a.security) for a in alts] == [(10465, Security.SSL), (465, Security.SSL)]
    refused = alternatives_for(s, diagnose(Code.CONNECT_REFUSED))
    assert [(a.port, a.security) for a in refused] == [(465, Security.SSL)]


def test_is_definitive():
    assert is_definitive(diagnose(Code.AUTH_FAILED))
    assert is_definitive(diagnose(Code.CERT_UNTRUSTED))
    assert is_definitive(diagnose(Code.DNS_FAILED))  # the name does not exist
    assert not is_definitive(diagnose(Code.DNS_FAILED, "temporary"))
    for code in (Code.GREETING_TIMEOUT, Code.CONNECT_TIMEOUT, Code.CONNECT_REFUSED, Code.TLS_HANDSHAKE_FAILED):
        assert not is_definitive(diagnose(code))


class _Check:
    def __init__(self, ok, verified=False):
        self.ok, self.auth_verified = ok, verified


def test_the_only_second_opinion_rule():
    def op(ok, wanted, verified):
        return SecondOpinion(ok, "done", "", 1.0, login_wanted=wanted, login_verified=verified)

    assert decide(_Check(True, True), None) == (True, "engine", True)
    assert decide(_Check(True, False), op(False, False, False)) == (True, "engine", False)
    assert decide(_Check(False), None) == (False, "", False)
    assert decide(_Check(False), op(False, True, False)) == (False, "", False)
    # only the second client succeeded: it counts only with every step done, the login verified when asked
    assert decide(_Check(False), op(True, False, False)) == (True, "second_client", False)
    assert decide(_Check(False), op(True, True, True)) == (True, "second_client", True)
    # a login it could not try is never a verified login
    assert decide(_Check(False), op(True, True, False)) == (False, "", False)


async def test_silent_server_confirmed_and_alternative_offered(mail_lab):
    lab = mail_lab
    events = []
    settings = _settings(lab, lab.silent_port, "starttls", username=lab.username)
    alt = _settings(lab, lab.tls_port, "ssl", username=lab.username)
    r = await run_pipeline(settings, lab.password, on_event=events.append, alternatives=(alt,))
    assert not r.ok and r.by == ""
    assert r.check.diagnosis.code is Code.GREETING_TIMEOUT
    assert r.second_opinion is not None and r.second_opinion.agrees and not r.second_opinion.ok
    assert r.second_opinion.client == "aiosmtplib"
    assert r.working_alternative == alt and r.alternatives[0].auth_verified
    assert any(n.startswith("Confirmed by a second client") for n in r.notes)
    assert f"{lab.tls_port} with SSL/TLS works: switch?" in r.notes
    switch = [a for a in r.diagnosis.actions if a.kind == "switch_settings"]
    assert switch[0].params["port"] == lab.tls_port and switch[0].params["security"] == "ssl"
    assert switch[0].to_dict()["label"] == f"{lab.tls_port} with SSL/TLS works: switch?"
    logged = [e.text for e in events if isinstance(e, LogLine)]
    assert any("Confirmed by a second client" in t for t in logged)
    assert lab.password not in json.dumps(r.to_dict())


async def test_refused_port_alternative_fails_too_and_its_switch_is_dropped(mail_lab):
    lab = mail_lab
    settings = _settings(lab, lab.closed_port, "ssl")
    tried = _settings(lab, lab.silent_port, "starttls")
    r = await run_pipeline(settings, None, alternatives=(tried,))
    assert r.check.diagnosis.code is Code.CONNECT_REFUSED
    assert r.second_opinion.agrees and "refused" in r.second_opinion.detail
    assert len(r.alternatives) == 1 and not r.alternatives[0].ok
    assert any("does not work either" in n for n in r.notes)
    assert not any(a.kind == "switch_settings" and "works" in a.label for a in r.diagnosis.actions)
    assert not any(
        a.kind == "switch_settings"
        and (a.params.get("port"), a.params.get("security")) == (lab.silent_port, "starttls")
        for a in r.diagnosis.actions
    )


async def test_definitive_535_is_never_retried(smtp_server):
    server = smtp_server("auth_535", implicit_tls=True)
    other = smtp_server("auth_535", implicit_tls=True)
    settings = server.settings()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    r = await run_pipeline(settings, "Wr0ng-pw", alternatives=(other.settings(),))
    assert not r.ok and r.diagnosis.code is Code.AUTH_FAILED
    assert r.second_opinion is None and r.alternatives == () and r.notes == ()
    assert [ln for ln in server.lines if ln.upper().startswith("AUTH")] and other.connections == 0
    assert server.connections == 1  # no second client either
    assert loop.time() - t0 < settings.timeouts.total


async def test_success_needs_no_second_opinion(mail_lab):
    lab = mail_lab
    r = await run_pipeline(_settings(lab, lab.starttls_port, "starttls", username=lab.username), lab.password)
    assert r.ok and r.by == "engine" and r.auth_verified and r.second_opinion is None


async def test_second_client_directly(mail_lab, socks5_proxy):
    lab = mail_lab
    ok = await second_opinion(_settings(lab, lab.tls_port, "ssl", username=lab.username), lab.password, limit=2)
    assert ok.ok and not ok.agrees and ok.stage == "done" and ok.login_verified
    via = _settings(lab, lab.starttls_port, "starttls", username=lab.username, proxy=socks5_proxy.url)
    c = await second_opinion(via, lab.password, limit=2)
    assert c.ok and c.login_verified and ("127.0.0.1", lab.starttls_port) in socks5_proxy.targets
    bad = await second_opinion(_settings(lab, lab.tls_port, "ssl", username=lab.username), "nope", limit=2)
    assert not bad.ok and bad.stage == "auth" and "535" in bad.detail and not bad.login_verified
    untrusted = _settings(lab, lab.tls_port, "ssl").with_(tls=lab.tls_options().__class__())
    c = await second_opinion(untrusted, None, limit=2)
    assert not c.ok and "certificate" in c.detail


async def test_second_client_sends_a_utf8_password(smtp_server):
    """The login is really tried with a non-ASCII password (smtplib would have skipped it)."""
    server = smtp_server("auth_535")
    s = server.settings(security=Security.NONE, allow_plain_auth=True, username="user")
    r = await second_opinion(s, "пароль с пробелом", limit=2)
    assert not r.ok and r.stage == "auth" and r.login_wanted and not r.login_verified
    assert any(ln.upper().startswith("AUTH") for ln in server.lines)


async def test_second_client_is_bounded_by_its_limit_and_closes_its_socket(smtp_server):
    server = smtp_server("slow_drip")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    slow = server.settings().with_(timeouts=Timeouts(connect=2.0, greeting=5.0, command=5.0, total=10.0))
    r = await second_opinion(slow, None, limit=0.6)
    assert not r.ok and "no result within" in r.detail
    assert loop.time() - t0 < 3.0
    assert await asyncio.to_thread(server.client_closed.wait, 5)  # the server saw the socket close


async def test_second_client_reports_proxy_failure_without_secret(mail_lab, socks5_auth_proxy):
    url = socks5_auth_proxy.url_with("proxyuser", "Wr0ng-proxy-secret")
    c = await second_opinion(_settings(mail_lab, mail_lab.tls_port, "ssl", proxy=url), None, limit=2)
    assert not c.ok and c.detail.startswith("proxy:") and "login" in c.detail
    assert "Wr0ng-proxy-secret" not in json.dumps(c.to_dict())


async def test_implicit_tls_timeout_suggests_starttls(mail_lab):
    lab = mail_lab
    settings = _settings(lab, lab.silent_port, "ssl", username=lab.username)
    alt = _settings(lab, lab.starttls_port, "starttls", username=lab.username)
    r = await run_pipeline(settings, lab.password, alternatives=(alt,))
    assert not r.ok and r.check.diagnosis.code in (Code.TLS_HANDSHAKE_FAILED, Code.GREETING_TIMEOUT)
    assert r.second_opinion.agrees
    assert f"{lab.starttls_port} with STARTTLS works: switch?" in r.notes
    (switch,) = [a for a in r.diagnosis.actions if a.kind == "switch_settings"][:1]
    assert (switch.params["port"], switch.params["security"]) == (lab.starttls_port, "starttls")


async def test_the_whole_run_keeps_one_deadline(smtp_server):
    """A silent port: engine, second client and alternatives together stay within timeouts.total."""
    server = smtp_server("silent")
    settings = server.settings(security=Security.STARTTLS).with_(
        timeouts=Timeouts(connect=1.0, greeting=5.0, command=5.0, total=1.5)
    )
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    r = await run_pipeline(settings, None)
    took = loop.time() - t0
    assert not r.ok and took < 1.5 + 0.5


async def test_a_login_nobody_verified_is_never_a_success(smtp_server):
    """A non-ASCII password and a server that stalls in AUTH: both clients fail the login; the verdict fails."""
    server = smtp_server("stall_auth")
    settings = server.settings(security=Security.NONE, allow_plain_auth=True, username="user").with_(
        timeouts=Timeouts(connect=1.0, greeting=1.0, command=0.5, total=2.5)
    )
    r = await run_pipeline(settings, "пароль с пробелом")
    assert not r.ok and r.by == "" and not r.auth_verified
    assert r.second_opinion is not None and r.second_opinion.login_wanted and not r.second_opinion.login_verified
    assert r.second_opinion.stage == "auth"
    assert sum(1 for ln in server.lines if ln.upper().startswith("AUTH")) >= 2  # both clients really tried
