"""Discovery against a real local DNS server (MX, SRV, A/AAAA, NXDOMAIN, silence)."""

from __future__ import annotations

import asyncio

import pytest

from app.core.detect.discovery import (
    AddressError,
    discover,
    host_exists,
    lookup_mx,
    lookup_srv,
    modes_for_port,
    split_email,
)
from app.core.model.events import LogLine
from app.core.model.settings import Security


@pytest.fixture(scope="module")
def catalogue():
    from app.core.catalog.loader import default_catalogue

    cat = default_catalogue()
    if not cat.providers:
        pytest.skip("the provider catalogue is empty")
    return cat


@pytest.fixture
def no_presets():
    """A real, empty catalogue: nothing matches by domain or MX."""
    from app.core.catalog.loader import Catalogue

    return Catalogue()


def test_split_email():
    assert split_email(" Ivan@Example.COM ") == ("Ivan", "example.com")
    assert split_email("a@почта.рф")[1] == "xn--80a1acny.xn--p1ai"
    for bad in ("", "no-at-sign", "@example.com", "a@", "a b@example.com"):
        with pytest.raises(AddressError):
            split_email(bad)


def test_modes_for_port():
    assert modes_for_port(465) == (Security.SSL,)
    assert modes_for_port(587) == (Security.STARTTLS,)
    assert modes_for_port(25) == (Security.STARTTLS,)
    assert modes_for_port(10465) == (Security.SSL, Security.STARTTLS)


async def test_known_domain_needs_no_dns(catalogue, dns_server, dns_resolver):
    some = next(p for p in catalogue.providers if p.domains and p.smtp)
    d = await discover(f"user@{some.domains[0]}", catalogue=catalogue, resolver=dns_resolver)
    assert (d.via, d.provider_id) == ("provider", some.id)
    assert d.endpoints == tuple(some.smtp)
    assert dns_server.queries == []


@pytest.mark.parametrize("mx_host", ["mx.yandex.net", "aspmx.l.google.com", "emx.mail.ru"])
async def test_mx_maps_custom_domain_to_provider(catalogue, dns_server, dns_resolver, mx_host):
    expected = catalogue.by_mx(mx_host)
    assert expected is not None, f"catalogue has no MX pattern for {mx_host}"
    dns_server.zone["firma.test"] = {"MX": ["20 backup.firma.test.", f"10 {mx_host}."]}
    events = []
    d = await discover("boss@firma.test", catalogue=catalogue, resolver=dns_resolver, on_event=events.append)
    assert d.via == "mx"
    assert d.provider_id == expected.id
    assert d.mx_hosts == (mx_host, "backup.firma.test")
    assert d.endpoints == tuple(expected.smtp)
    assert any(isinstance(e, LogLine) and mx_host in e.text for e in events)


async def test_mx_microsoft(catalogue, dns_server, dns_resolver):
    host = "firma-test.mail.protection.outlook.com"
    expected = catalogue.by_mx(host)
    if expected is None:
        pytest.skip("catalogue has no Microsoft 365 MX pattern")
    dns_server.zone["firma.test"] = {"MX": [f"0 {host}."]}
    d = await discover("a@firma.test", catalogue=catalogue, resolver=dns_resolver)
    assert d.provider_id == expected.id


async def test_srv_records_give_endpoints_ssl_first(no_presets, dns_server, dns_resolver):
    dns_server.zone.update(
        {
            "corp.test": {"MX": ["10 mx.corp.test."]},
            "_submission._tcp.corp.test": {"SRV": ["0 1 587 smtp.corp.test."]},
            "_submissions._tcp.corp.test": {"SRV": ["5 0 465 b.corp.test.", "0 0 465 a.corp.test."]},
        }
    )
    d = await discover("x@corp.test", catalogue=no_presets, resolver=dns_resolver)
    assert d.via == "srv" and d.provider is None
    assert [(e.host, e.port, e.security) for e in d.endpoints] == [
        ("a.corp.test", 465, "ssl"),
        ("b.corp.test", 465, "ssl"),
        ("smtp.corp.test", 587, "starttls"),
    ]


async def test_srv_dot_target_means_not_offered(dns_server, dns_resolver):
    dns_server.zone["_submissions._tcp.corp.test"] = {"SRV": ["0 0 0 ."]}
    dns_server.zone["_submission._tcp.corp.test"] = {"SRV": ["0 0 587 smtp.corp.test."]}
    eps = await lookup_srv("corp.test", dns_resolver)
    assert [(e.host, e.security) for e in eps] == [("smtp.corp.test", "starttls")]


async def test_guesses_only_existing_hosts(no_presets, dns_server, dns_resolver):
    dns_server.zone.update(
        {
            "small.test": {"MX": ["10 small.test."], "A": ["127.0.0.1"]},
            "mail.small.test": {"AAAA": ["::1"]},
        }
    )
    d = await discover("me@small.test", catalogue=no_presets, resolver=dns_resolver)
    assert d.via == "guess"
    assert d.hosts == ("mail.small.test", "small.test")  # smtp.small.test is NXDOMAIN
    assert d.mx_hosts == ("small.test",)


async def test_mx_host_is_the_last_resort(no_presets, dns_server, dns_resolver):
    dns_server.zone["tiny.test"] = {"MX": ["10 mx1.hoster.test.", "20 mx2.hoster.test.", "30 mx3.hoster.test."]}
    d = await discover("a@tiny.test", catalogue=no_presets, resolver=dns_resolver)
    assert d.via == "mx_host" and d.hosts == ("mx1.hoster.test", "mx2.hoster.test")


async def test_nothing_found(no_presets, dns_server, dns_resolver):
    dns_server.zone["bare.test"] = {"TXT": ['"v=spf1 -all"']}
    d = await discover("a@bare.test", catalogue=no_presets, resolver=dns_resolver)
    assert d.via == "none" and not d.nxdomain and d.hosts == () and d.endpoints == ()


async def test_nxdomain_is_definitive(no_presets, dns_server, dns_resolver):
    d = await discover("who@nowhere.test", catalogue=no_presets, resolver=dns_resolver)
    assert d.nxdomain and d.via == "none"
    assert d.endpoints == () and d.hosts == ()
    assert "does not exist" in d.notes[0]


async def test_silent_dns_is_bounded(no_presets, dns_server):
    dns_server.zone["slow.test"] = {"A": ["127.0.0.1"]}
    dns_server.silent.update(
        {"slow.test", "smtp.slow.test", "mail.slow.test", "_submissions._tcp.slow.test", "_submission._tcp.slow.test"}
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    d = await discover("a@slow.test", catalogue=no_presets, resolver=dns_server.resolver(0.3), timeout=0.3)
    assert loop.time() - start < 1.5
    assert not d.nxdomain
    assert d.via == "guess" and "slow.test" in d.hosts  # unknown names are still worth a probe
    assert any("MX lookup" in n or "did not answer" in n for n in d.notes)


async def test_lookup_helpers(dns_server, dns_resolver):
    dns_server.zone["h.test"] = {"A": ["127.0.0.1"], "MX": ["0 ."]}
    assert await host_exists("h.test", dns_resolver) is True
    assert await host_exists("nope.h.test", dns_resolver) is False
    mx = await lookup_mx("h.test", dns_resolver)
    assert mx.hosts == () and not mx.nxdomain  # null MX
    assert (await lookup_mx("nope.test", dns_resolver)).nxdomain
