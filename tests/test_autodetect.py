"""Autodetect against real local SMTP servers, a real DNS server and real proxies."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.core.catalog.loader import Catalogue
from app.core.catalog.model import Endpoint, Provider, ProviderKind
from app.core.detect.probe import detect, detect_mode
from app.core.diagnosis.table import Code
from app.core.model.events import ProbeFinished, ProbeStarted, Stage, StageStarted, event_to_dict
from app.core.model.settings import Timeouts

FAST = Timeouts(connect=1.0, greeting=1.0, command=1.0, total=3.0)
PATIENT = Timeouts(connect=5.0, greeting=5.0, command=2.0, total=10.0)  # a silent port would cost 5 s


def _lab_catalogue(lab, order=("starttls", "ssl")) -> Catalogue:
    ports = {"starttls": lab.starttls_port, "ssl": lab.tls_port}
    p = Provider(
        id="labmail",
        kind=ProviderKind.PRESET,
        name={"en": "Lab Mail", "ru": "Лаб-почта"},
        domains=("labmail.test",),
        mx_patterns=("*.mx.labmail.test",),
        smtp=tuple(Endpoint("127.0.0.1", ports[sec], sec) for sec in order),
    )
    return Catalogue(providers=(p,))


def _finished(events):
    return [e for e in events if isinstance(e, ProbeFinished)]


async def _detect(lab, ports, **kw):
    kw.setdefault("timeouts", FAST)
    kw.setdefault("tls", lab.tls_options())
    return await detect(None, host="127.0.0.1", ports=ports, **kw)


# ---------------------------------------------------------------- preference
async def test_implicit_tls_beats_starttls_beats_plain(mail_lab):
    lab = mail_lab
    r = await _detect(lab, (lab.plain_port, lab.starttls_port, lab.tls_port), allow_plain=True)
    assert r.ok and r.settings.summary() == {"host": "127.0.0.1", "port": lab.tls_port, "security": "ssl"}
    assert r.reasons[0].startswith(f"Chosen 127.0.0.1:{lab.tls_port} (SSL/TLS)")
    assert not r.warnings

    r = await _detect(lab, (lab.plain_port, lab.starttls_port), allow_plain=True)
    assert r.ok and (r.settings.port, r.settings.security.value) == (lab.starttls_port, "starttls")
    assert any("only without encryption" in x for x in r.reasons)

    r = await _detect(lab, (lab.plain_port,), allow_plain=True)
    assert r.ok and (r.settings.port, r.settings.security.value) == (lab.plain_port, "none")
    assert r.settings.allow_plain_auth is True
    assert r.warnings and "not encrypted" in r.warnings[0]


async def test_plain_refused_without_allow_plain(smtp_server):
    plain = smtp_server("no_starttls")  # greets and offers AUTH, but no STARTTLS
    r = await detect(
        None,
        host="127.0.0.1",
        ports=(plain.port,),
        password="Secr3t-pw",
        username="u@example.com",
        timeouts=FAST,
        tls=plain.settings().tls,
    )
    assert not r.ok and r.settings is None
    assert r.diagnosis.code is Code.STARTTLS_UNSUPPORTED
    assert "allow_plain" in [a.kind for a in r.diagnosis.actions]
    assert any("plain connections were not allowed" in x for x in r.reasons)
    assert not [ln for ln in plain.lines if ln.upper().startswith("AUTH")]  # never sent in clear text
    assert [p.plain_only for p in r.probes if p.security == "starttls"] == [True]


async def test_preset_order_comes_first(mail_lab):
    r = await detect("me@labmail.test", catalogue=_lab_catalogue(mail_lab), timeouts=FAST, tls=mail_lab.tls_options())
    assert r.ok and r.provider == "labmail"
    assert (r.settings.port, r.settings.security.value) == (mail_lab.starttls_port, "starttls")
    assert "Lab Mail" in r.reasons[0]
    assert r.settings.username == "me@labmail.test"


# ---------------------------------------------------------------- silence does not cost the timeout
async def test_silent_lower_priority_port_does_not_delay(mail_lab):
    lab = mail_lab
    events = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    r = await _detect(lab, (lab.tls_port, lab.silent_port), timeouts=PATIENT, on_event=events.append)
    took = loop.time() - start
    assert r.ok and r.settings.port == lab.tls_port
    assert took < PATIENT.greeting / 2
    fin = _finished(events)
    ok_i = next(i for i, e in enumerate(fin) if e.port == lab.tls_port and e.outcome == "ok")
    silent = [(i, e) for i, e in enumerate(fin) if e.port == lab.silent_port]
    assert silent and all(e.outcome in ("cancelled", "skipped") and i > ok_i for i, e in silent)


async def test_silent_better_port_gets_only_a_bounded_grace(mail_lab):
    lab = mail_lab
    events = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    # the silent port is probed with implicit TLS too, which outranks STARTTLS on the answering port
    r = await _detect(lab, (lab.silent_port, lab.starttls_port), timeouts=PATIENT, on_event=events.append)
    took = loop.time() - start
    assert r.ok and (r.settings.port, r.settings.security.value) == (lab.starttls_port, "starttls")
    assert took < PATIENT.greeting / 2
    assert any("not waited for" in x for x in r.reasons)
    assert {e.outcome for e in _finished(events) if e.port == lab.silent_port} == {"cancelled"}


async def test_strict_waits_for_the_better_port(mail_lab):
    lab = mail_lab
    t = Timeouts(connect=0.6, greeting=0.6, command=1.0, total=3.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    r = await _detect(lab, (lab.silent_port, lab.starttls_port), timeouts=t, strict=True)
    assert r.ok and r.settings.port == lab.starttls_port
    assert loop.time() - start >= 0.55  # it did wait for the silent port's timeout
    silent = [p for p in r.probes if p.port == lab.silent_port]
    assert all(p.outcome == "failed" for p in silent)


async def test_every_probe_is_an_event_pair(mail_lab):
    lab = mail_lab
    events = []
    r = await _detect(lab, (lab.tls_port, lab.starttls_port, lab.closed_port), on_event=events.append, stagger=0)
    started = [(e.host, e.port, e.security) for e in events if isinstance(e, ProbeStarted)]
    finished = [(e.host, e.port, e.security) for e in _finished(events)]
    assert sorted(started) == sorted(finished) == sorted((p.host, p.port, p.security) for p in r.probes)
    assert len(started) == 6  # ports outside the standard set are probed both ways
    for e in events:
        json.dumps(event_to_dict(e))
    closed = [p for p in r.probes if p.port == lab.closed_port and p.outcome == "failed"]
    assert closed and closed[0].code == "connect_refused"


async def test_top_answer_needs_no_other_probe(mail_lab):
    lab = mail_lab
    events = []
    r = await _detect(lab, (lab.tls_port, lab.starttls_port), on_event=events.append, stagger=5.0)
    assert r.ok and r.settings.port == lab.tls_port
    assert [(e.port, e.security) for e in events if isinstance(e, ProbeStarted)] == [(lab.tls_port, "ssl")]
    skipped = [e for e in _finished(events) if e.outcome == "skipped"]
    assert len(skipped) == 3 and {p.outcome for p in r.probes} == {"ok", "skipped"}


async def test_top_failure_starts_the_others_at_once(mail_lab):
    lab = mail_lab
    loop = asyncio.get_running_loop()
    start = loop.time()
    r = await _detect(lab, (lab.closed_port, lab.starttls_port), stagger=5.0)
    assert r.ok and (r.settings.port, r.settings.security.value) == (lab.starttls_port, "starttls")
    assert loop.time() - start < 2.0


# ---------------------------------------------------------------- login
def _auth_stages(events):
    return [e for e in events if isinstance(e, StageStarted) and e.stage is Stage.AUTH]


async def test_login_verified_with_one_attempt(mail_lab):
    lab = mail_lab
    events = []
    r = await _detect(
        lab, (lab.tls_port, lab.starttls_port), password=lab.password, username=lab.username, on_event=events.append
    )
    assert r.ok and r.auth_verified and r.settings.port == lab.tls_port
    assert len(_auth_stages(events)) == 1
    assert r.check is not None and r.check.auth_verified
    assert any("verified" in x for x in r.reasons)


async def test_definitive_535_is_not_retried_on_other_ports(smtp_server):
    first = smtp_server("auth_535", implicit_tls=True)
    second = smtp_server("auth_535", implicit_tls=True)
    wrong = "Wr0ng-passw0rd-xyz"
    events = []
    r = await detect(
        None,
        host="127.0.0.1",
        ports=(first.port, second.port),
        password=wrong,
        username="u@example.com",
        timeouts=FAST,
        tls=first.settings().tls,
        on_event=events.append,
    )
    assert not r.ok and r.diagnosis.code is Code.AUTH_FAILED
    assert r.settings is not None and r.settings.port == first.port  # the connection setting is still right
    auth_lines = [ln for ln in first.lines + second.lines if ln.upper().startswith("AUTH")]
    assert len(auth_lines) == 1
    assert any("other ports were not tried" in x for x in r.reasons)
    blob = json.dumps(r.to_dict()) + json.dumps([event_to_dict(e) for e in events], default=str)
    assert wrong not in blob


async def test_winner_verified_after_top_candidate_failed(mail_lab):
    lab = mail_lab
    events = []
    r = await _detect(
        lab, (lab.closed_port, lab.starttls_port), password=lab.password, username=lab.username, on_event=events.append
    )
    assert r.ok and r.auth_verified and r.settings.port == lab.starttls_port
    assert len(_auth_stages(events)) == 1


# ---------------------------------------------------------------- discovery paths
async def test_mx_lookup_maps_custom_domain_to_provider(mail_lab, dns_server, dns_resolver):
    dns_server.zone["firma.test"] = {"MX": ["10 in1.mx.labmail.test."]}
    events = []
    r = await detect(
        "boss@firma.test",
        catalogue=_lab_catalogue(mail_lab, ("ssl", "starttls")),
        resolver=dns_resolver,
        timeouts=FAST,
        tls=mail_lab.tls_options(),
        on_event=events.append,
    )
    assert r.ok and r.provider == "labmail"
    assert r.discovery.via == "mx" and r.discovery.mx_hosts == ("in1.mx.labmail.test",)
    assert (r.settings.port, r.settings.security.value) == (mail_lab.tls_port, "ssl")
    assert ("firma.test", "MX") in dns_server.queries


async def test_srv_discovery(mail_lab, dns_server, dns_resolver):
    dns_server.zone.update(
        {
            "corp.test": {"MX": ["10 mx.corp.test."]},
            "_submissions._tcp.corp.test": {"SRV": [f"0 0 {mail_lab.tls_port} localhost."]},
            "_submission._tcp.corp.test": {"SRV": [f"0 0 {mail_lab.starttls_port} localhost."]},
        }
    )
    r = await detect(
        "x@corp.test", catalogue=Catalogue(), resolver=dns_resolver, timeouts=FAST, tls=mail_lab.tls_options()
    )
    assert r.ok and r.discovery.via == "srv" and r.provider is None
    assert r.settings.summary() == {"host": "localhost", "port": mail_lab.tls_port, "security": "ssl"}


async def test_usual_host_names(mail_lab, dns_server, dns_resolver):
    dns_server.zone["localhost"] = {"A": ["127.0.0.1"]}
    r = await detect(
        "me@localhost",
        catalogue=Catalogue(),
        resolver=dns_resolver,
        ports=(mail_lab.tls_port,),
        timeouts=FAST,
        tls=mail_lab.tls_options(),
    )
    assert r.discovery.via == "guess" and r.discovery.hosts == ("localhost",)
    assert r.ok and r.settings.host == "localhost"


async def test_nxdomain_is_definitive(dns_server, dns_resolver):
    r = await detect("who@nowhere.test", catalogue=Catalogue(), resolver=dns_resolver, timeouts=FAST)
    assert not r.ok and r.diagnosis.code is Code.DNS_FAILED
    assert r.probes == []


# ---------------------------------------------------------------- proxies
@pytest.mark.parametrize("fixture", ["socks5_proxy", "http_proxy"])
async def test_detect_through_proxy(fixture, request, mail_lab):
    proxy = request.getfixturevalue(fixture)
    r = await _detect(
        mail_lab,
        (mail_lab.tls_port, mail_lab.starttls_port),
        proxy=proxy.url,
        password=mail_lab.password,
        username=mail_lab.username,
    )
    assert r.ok and r.auth_verified and r.settings.proxy == proxy.url
    assert ("127.0.0.1", mail_lab.tls_port) in proxy.targets


async def test_proxy_auth_failure(socks5_auth_proxy, mail_lab):
    secret = "Not-the-proxy-pw-42"
    url = socks5_auth_proxy.url_with("proxyuser", secret)
    events = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    r = await _detect(
        mail_lab, (mail_lab.tls_port, mail_lab.starttls_port, 2525), proxy=url, timeouts=PATIENT, on_event=events.append
    )
    assert loop.time() - start < 2.0
    assert not r.ok and (r.diagnosis.code, r.diagnosis.variant) == (Code.PROXY_FAILED, "auth_failed")
    blob = json.dumps(r.to_dict()) + json.dumps([event_to_dict(e) for e in events], default=str)
    assert secret not in blob


# ---------------------------------------------------------------- inputs and mode detection
async def test_bad_inputs():
    r = await detect("not-an-address")
    assert r.diagnosis.code is Code.INVALID_INPUT
    r = await detect(None, host="127.0.0.1", proxy="ftp://u:Secr3t@h:1")
    assert (r.diagnosis.code, r.diagnosis.variant) == (Code.PROXY_FAILED, "invalid_url")
    assert "Secr3t" not in json.dumps(r.to_dict())
    r = await detect(None, host="127.0.0.1", ports=(0,))
    assert r.diagnosis.code is Code.INVALID_INPUT


async def test_detect_mode_on_a_port(mail_lab):
    r = await detect_mode("127.0.0.1", mail_lab.tls_port, timeouts=FAST, tls=mail_lab.tls_options())
    assert r.ok and r.settings.security.value == "ssl"
    r = await detect_mode(
        "127.0.0.1",
        mail_lab.starttls_port,
        timeouts=FAST,
        tls=mail_lab.tls_options(),
        password=mail_lab.password,
        username=mail_lab.username,
    )
    assert r.ok and r.settings.security.value == "starttls" and r.auth_verified


async def test_cancel_closes_probes_promptly(mail_lab):
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    def on_event(e):
        if isinstance(e, ProbeStarted):
            started.set()

    task = asyncio.ensure_future(_detect(mail_lab, (mail_lab.silent_port,), timeouts=PATIENT, on_event=on_event))
    await started.wait()
    t0 = loop.time()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert loop.time() - t0 < 2.5  # promptly: far below the 5 s a silent port would cost
