"""Autoconfig discovery against a real local HTTPS/HTTP server (trustme certificates) and the local DNS server.

The server answers by Host header and path from a routing table; names resolve through the test DNS zone to
127.0.0.1, so nothing reaches a real host. Cases: good, well-known, ISPDB by domain and by MX, malformed,
huge (declared and streamed), entity bombs, redirects (other domain, HTTPS to HTTP, loops), slow, HTTP only,
wrong certificate, and an end-to-end detect that verifies the found settings against a local SMTP server.
"""

from __future__ import annotations

import asyncio
import ssl

import pytest

from app.core.catalog.loader import Catalogue
from app.core.detect.autoconfig import (
    AutoconfigError,
    base_domain,
    lookup_autoconfig,
    parse_config,
)
from app.core.detect.discovery import discover
from app.core.detect.probe import detect
from app.core.model.settings import Timeouts
from tests.fixtures.autoconfig_server import NAMES, AutoconfigServer, Route, config


@pytest.fixture
def ac_ca():
    import trustme

    return trustme.CA()


@pytest.fixture
def ac_server(tmp_path, ac_ca):
    server = AutoconfigServer(tmp_path, ac_ca)
    yield server
    server.close()


@pytest.fixture
def zone(dns_server):
    for name in NAMES:
        dns_server.zone[name] = {"A": ["127.0.0.1"]}
    dns_server.zone["smtp.acme.test"] = {"A": ["127.0.0.1"]}
    return dns_server


@pytest.fixture
def options(ac_server, ac_ca):
    ctx = ssl.create_default_context()
    ac_ca.configure_trust(ctx)
    return {"ssl_context": ctx, "port_override": dict(ac_server.ports), "timeout": 2.0}


AUTOCONFIG_PATH = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"


async def _lookup(zone, options, email="jane@acme.test", **kw):
    domain = email.rpartition("@")[2]
    return await lookup_autoconfig(email, domain, zone.resolver(1.0), **{**options, **kw})


# --- the sources ---------------------------------------------------------------------------------------


async def test_domain_autoconfig_over_https(ac_server, zone, options):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(body=config())
    result, _notes = await _lookup(zone, options)
    assert result is not None and result.source == "autoconfig" and result.trusted
    assert [(e.host, e.port, e.security) for e in result.endpoints] == [("smtp.acme.test", 465, "ssl")]
    assert result.login == "jane" and result.provider_name == "Acme Mail"
    assert ("https", "autoconfig.acme.test", AUTOCONFIG_PATH + "?emailaddress=jane@acme.test") in ac_server.requests


async def test_well_known_when_no_autoconfig_host(ac_server, zone, options):
    del zone.zone["autoconfig.acme.test"]
    ac_server.routes[("acme.test", WELL_KNOWN_PATH)] = Route(body=config(port=587, socket="STARTTLS"))
    result, notes = await _lookup(zone, options)
    assert result.source == "well-known" and result.endpoints[0].security == "starttls"
    assert any("autoconfig.acme.test does not exist" in n for n in notes)


async def test_ispdb_for_the_domain(ac_server, zone, options):
    ac_server.routes[("autoconfig.thunderbird.net", "/v1.1/acme.test")] = Route(body=config(host="smtp.isp.test"))
    result, _ = await _lookup(zone, options)
    assert result.source == "ispdb" and result.endpoints[0].host == "smtp.isp.test"


async def test_ispdb_for_the_mx_base_domain(ac_server, zone, options):
    ac_server.routes[("autoconfig.thunderbird.net", "/v1.1/bighost.test")] = Route(
        body=config(host="smtp.bighost.test")
    )
    result, _ = await _lookup(zone, options, mx_hosts=("mx1.eu.bighost.test",))
    assert result.source == "ispdb-mx" and result.endpoints[0].host == "smtp.bighost.test"
    assert ("https", "autoconfig.thunderbird.net", "/v1.1/bighost.test") in ac_server.requests


async def test_domain_answer_wins_over_ispdb(ac_server, zone, options):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(body=config(host="own.acme.test"))
    ac_server.routes[("autoconfig.thunderbird.net", "/v1.1/acme.test")] = Route(body=config(host="smtp.isp.test"))
    result, _ = await _lookup(zone, options)
    assert result.source == "autoconfig" and result.endpoints[0].host == "own.acme.test"


def test_base_domain():
    assert base_domain("mx1.mail.example.co.uk") == "example.co.uk"
    assert base_domain("mta5.am0.yahoodns.net.") == "yahoodns.net"


# --- hostile and broken answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "note"),
    [
        (Route(body=b"<clientConfig><emailProvider>"), "not a valid config file"),
        (Route(body=b"<html>hello</html>"), "not a config-v1.1 file"),
        (Route(body=config(socket="plain")), "names no usable SMTP server"),
        (Route(body=config(host="bad host!")), "names no usable SMTP server"),
        (Route(status=500), "answered HTTP 500"),
        (Route(body=b"x", headers={"Content-Length": "10000000"}), "limit"),
        (Route(stream_bytes=1024 * 1024), "sent more than"),
    ],
)
async def test_bad_answers_are_notes_not_results(ac_server, zone, options, route, note):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = route
    result, notes = await _lookup(zone, options, allow_http=False)
    assert result is None
    assert any(n.startswith("autoconfig (autoconfig):") and note in n for n in notes), notes


def test_entity_bomb_and_external_entities_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<clientConfig><emailProvider><outgoingServer type='smtp'><hostname>&lol2;</hostname>"
        b"</outgoingServer></emailProvider></clientConfig>"
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><clientConfig>&e;</clientConfig>'
    )
    for data in (bomb, external):
        with pytest.raises(AutoconfigError, match="not a valid config file"):
            parse_config(data, "a@acme.test", "acme.test")


def test_placeholders_and_oauth_only_note():
    oauth = config(host="smtp.%EMAILDOMAIN%", username="%EMAILADDRESS%").replace(b"password-cleartext", b"OAuth2")
    endpoints, login, _name, notes = parse_config(oauth, "a@acme.test", "acme.test")
    assert endpoints[0].host == "smtp.acme.test" and login == "a@acme.test"
    assert any("only OAuth2" in n for n in notes)


async def test_redirect_to_another_domain_is_untrusted(ac_server, zone, options):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(
        status=302, headers={"Location": "https://elsewhere.test/cfg.xml"}
    )
    ac_server.routes[("elsewhere.test", "/cfg.xml")] = Route(body=config(host="smtp.elsewhere.test"))
    result, _ = await _lookup(zone, options, allow_http=False)
    assert result is not None and result.trusted is False
    assert result.url == "https://elsewhere.test/cfg.xml"
    assert "another domain" in result.notes[0]


async def test_same_domain_redirect_stays_trusted(ac_server, zone, options):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(
        status=301, headers={"Location": "https://acme.test/real.xml"}
    )
    ac_server.routes[("acme.test", "/real.xml")] = Route(body=config())
    result, _ = await _lookup(zone, options, allow_http=False)
    assert result.trusted and result.url == "https://acme.test/real.xml"


async def test_https_to_http_redirect_is_not_followed(ac_server, zone, options):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(
        status=302, headers={"Location": "http://autoconfig.acme.test/mail/config-v1.1.xml"}
    )
    result, notes = await _lookup(zone, options, allow_http=False)
    assert result is None and any("from HTTPS to" in n for n in notes)
    assert not any(r[0] == "http" for r in ac_server.requests)


async def test_redirect_loop_is_bounded(ac_server, zone, options):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(
        status=302, headers={"Location": AUTOCONFIG_PATH}
    )
    result, notes = await _lookup(zone, options, allow_http=False)
    assert result is None and any("more than 3 redirects" in n for n in notes)
    assert sum(1 for r in ac_server.requests if r[1] == "autoconfig.acme.test") == 4


async def test_slow_server_is_bounded(ac_server, zone, options):
    for host, path in (("autoconfig.acme.test", AUTOCONFIG_PATH), ("acme.test", WELL_KNOWN_PATH)):
        ac_server.routes[(host, path)] = Route(hang=True)
    loop = asyncio.get_running_loop()
    start = loop.time()
    result, _notes = await _lookup(zone, options, timeout=0.5, allow_http=False)
    assert result is None and loop.time() - start < 1.5


async def test_http_only_answer_is_used_but_untrusted_and_without_the_address(ac_server, zone, options):
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(body=config())
    ac_server.stop_https()  # nobody answers HTTPS now
    result, _ = await _lookup(zone, options)
    assert result is not None and result.trusted is False and result.url.startswith("http://")
    http = [r for r in ac_server.requests if r[0] == "http"]
    assert http and all("emailaddress" not in r[2] and "jane" not in r[2] for r in http)


async def test_certificate_for_another_name_is_refused(ac_server, zone, options, tmp_path):
    import trustme

    other = trustme.CA()  # the server's certificate is not from a CA the client trusts
    ctx = ssl.create_default_context()
    other.configure_trust(ctx)
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(body=config())
    result, notes = await _lookup(zone, {**options, "ssl_context": ctx}, allow_http=False)
    assert result is None and any("certificate" in n for n in notes)


# --- discovery and detect ------------------------------------------------------------------------------


async def test_discover_reports_the_autoconfig_source(ac_server, zone, options):
    zone.zone["acme.test"]["MX"] = ["10 mx.acme.test."]
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(body=config())
    d = await discover(
        "jane@acme.test", catalogue=Catalogue(), resolver=zone.resolver(1.0), autoconfig=options, timeout=2.0
    )
    assert d.via == "autoconfig" and d.source == "autoconfig" and d.trusted and d.login == "jane"
    assert d.source_url.startswith("https://autoconfig.acme.test/")
    assert d.to_dict()["source"] == "autoconfig"


async def test_catalogue_and_mx_still_come_first(ac_server, zone, options):
    from app.core.catalog import load_catalogue

    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(body=config())
    zone.zone["acme.test"]["MX"] = ["10 contoso-com.d-v1.mx.microsoft."]
    d = await discover("jane@acme.test", catalogue=load_catalogue(), resolver=zone.resolver(1.0), autoconfig=options)
    assert d.via == "mx" and d.provider.id == "outlook"


async def test_detect_verifies_settings_found_only_by_autoconfig(ac_server, zone, options, mail_lab):
    zone.zone["acme.test"]["MX"] = ["10 mx.acme.test."]
    body = config(host="localhost", port=mail_lab.tls_port, username=mail_lab.username)
    ac_server.routes[("acme.test", WELL_KNOWN_PATH)] = Route(body=body)
    del zone.zone["autoconfig.acme.test"]
    result = await detect(
        "jane@acme.test",
        password=mail_lab.password,
        catalogue=Catalogue(),
        resolver=zone.resolver(1.0),
        timeouts=Timeouts(connect=2.0, greeting=2.0, command=2.0, total=6.0),
        tls=mail_lab.tls_options(),
        autoconfig=options,
    )
    assert result.ok and result.auth_verified
    assert (result.settings.host, result.settings.port) == ("localhost", mail_lab.tls_port)
    assert result.discovery.via == "autoconfig" and result.discovery.source == "well-known"
    assert any("autoconfig" in r for r in result.reasons)


@pytest.mark.parametrize("confirmed", [False, True])
async def test_untrusted_source_gets_no_password_unless_confirmed(ac_server, zone, options, mail_lab, confirmed):
    body = config(host="localhost", port=mail_lab.tls_port, username=mail_lab.username)
    ac_server.routes[("autoconfig.acme.test", AUTOCONFIG_PATH)] = Route(body=body)
    ac_server.stop_https()  # only the plain-HTTP autoconfig answers
    result = await detect(
        "jane@acme.test",
        password=mail_lab.password,
        catalogue=Catalogue(),
        resolver=zone.resolver(1.0),
        timeouts=Timeouts(connect=2.0, greeting=2.0, command=2.0, total=6.0),
        tls=mail_lab.tls_options(),
        autoconfig=options,
        trust_source=confirmed,
    )
    assert result.discovery.via == "autoconfig" and result.discovery.trusted is False
    assert result.settings is not None and result.settings.port == mail_lab.tls_port
    assert result.auth_verified is confirmed
    assert any("the password was not sent" in r for r in result.reasons) is not confirmed


# --- Exchange Autodiscover (POX) -----------------------------------------------------------------------

AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"


def autodiscover_answer(server="smtp.acme.test", port=587, encryption="TLS", action="settings") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
 <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
  <Account><AccountType>email</AccountType><Action>{action}</Action>
   <Protocol><Type>IMAP</Type><Server>imap.acme.test</Server><Port>993</Port><SSL>on</SSL></Protocol>
   <Protocol><Type>SMTP</Type><Server>{server}</Server><Port>{port}</Port><SSL>on</SSL>
     <Encryption>{encryption}</Encryption><LoginName>jane@acme.test</LoginName></Protocol>
  </Account>
 </Response>
</Autodiscover>""".encode()


async def test_autodiscover_pox(ac_server, zone, options):
    ac_server.routes[("autodiscover.acme.test", AUTODISCOVER_PATH)] = Route(body=autodiscover_answer())
    result, _ = await _lookup(zone, options, allow_http=False)
    assert result.source == "autodiscover" and result.trusted and result.login == "jane@acme.test"
    assert [(e.host, e.port, e.security) for e in result.endpoints] == [("smtp.acme.test", 587, "starttls")]
    content_type, body = ac_server.posts[0]
    assert content_type.startswith("text/xml") and b"<EMailAddress>jane@acme.test</EMailAddress>" in body


async def test_autoconfig_beats_autodiscover(ac_server, zone, options):
    ac_server.routes[("autodiscover.acme.test", AUTODISCOVER_PATH)] = Route(body=autodiscover_answer())
    ac_server.routes[("acme.test", WELL_KNOWN_PATH)] = Route(body=config(host="own.acme.test"))
    result, _ = await _lookup(zone, options, allow_http=False)
    assert result.source == "well-known" and result.endpoints[0].host == "own.acme.test"


@pytest.mark.parametrize(
    ("route", "note"),
    [
        (Route(status=401), "answered HTTP 401"),
        (Route(body=autodiscover_answer(action="redirectAddr")), "start over elsewhere"),
        (Route(body=autodiscover_answer(encryption="None")), "no usable SMTP server"),
        (
            Route(body=b"<Autodiscover><Response><Error><Message>nope</Message></Error></Response></Autodiscover>"),
            "nope",
        ),
    ],
)
async def test_autodiscover_without_settings_is_a_note(ac_server, zone, options, route, note):
    ac_server.routes[("autodiscover.acme.test", AUTODISCOVER_PATH)] = route
    result, notes = await _lookup(zone, options, allow_http=False)
    assert result is None and any(n.startswith("autoconfig (autodiscover):") and note in n for n in notes), notes


async def test_autodiscover_srv_outside_the_domain_is_untrusted(ac_server, zone, options):
    zone.zone["_autodiscover._tcp.acme.test"] = {"SRV": ["0 0 443 exch.hoster.test."]}
    zone.zone["exch.hoster.test"] = {"A": ["127.0.0.1"]}
    ac_server.routes[("exch.hoster.test", AUTODISCOVER_PATH)] = Route(
        body=autodiscover_answer(port=465, encryption="SSL")
    )
    result, _ = await _lookup(zone, options, allow_http=False)
    assert result.source == "autodiscover-srv" and result.trusted is False
    assert (result.endpoints[0].port, result.endpoints[0].security) == (465, "ssl")
