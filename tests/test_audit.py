"""Sender-domain audit (app.core.audit) against the real local DNS server (tests/fixtures/network.py).

Every query goes to 127.0.0.1 on the fixture's port; exact statuses, titles and records are asserted.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from app.core.audit import AuditRequest, Status, run_audit
from app.core.catalog import load_catalogue

D = "example.org"
CATALOG_BASE = """id = "acme"
kind = "preset"
sources = ["https://acme.example/help"]

[name]
ru = "Acme"
en = "Acme"

[[smtp]]
host = "smtp.acme.example"
port = 587
security = "starttls"

[guide.ru]
[[guide.ru.steps]]
text = "шаг"

[guide.en]
[[guide.en.steps]]
text = "step"
"""


def good_zone() -> dict[str, dict[str, list[str]]]:
    """A domain with everything right: the SMTP server smtp.prov.test is covered by the include."""
    return {
        D: {
            "MX": ["10 mx.example.org."],
            "TXT": ['"v=spf1 include:_spf.prov.test -all"', '"google-site-verification=abc"'],
            "SOA": ["ns.example.org. hostmaster.example.org. 1 7200 3600 1209600 300"],
        },
        "mx.example.org": {"A": ["192.0.2.25"]},
        "_spf.prov.test": {"TXT": ['"v=spf1 ip4:203.0.113.0/24 ~all"']},
        "smtp.prov.test": {"A": ["203.0.113.10"]},
        "sel1._domainkey.example.org": {"TXT": ['"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC"']},
        "_dmarc.example.org": {"TXT": ['"v=DMARC1; p=reject; rua=mailto:dmarc@example.org"']},
        "_mta-sts.example.org": {"TXT": ['"v=STSv1; id=20250101T000000"']},
        "_smtp._tls.example.org": {"TXT": ['"v=TLSRPTv1; rua=mailto:tls@example.org"']},
    }


def audit(dns_server, **kw):
    req = AuditRequest(domain=kw.pop("domain", D), timeout=kw.pop("timeout", 5.0), **kw)
    return run_audit(req, nameservers=[dns_server.address])


def by_check(report):
    return {f.check: f for f in report.findings}


def statuses(report):
    return {f.check: f.status.value for f in report.findings}


async def test_good_domain_every_check_ok(dns_server):
    dns_server.zone = good_zone()
    dns_server.authenticated = True
    report = await audit(dns_server, smtp_host="smtp.prov.test", dkim_selectors=("sel1",))
    assert statuses(report) == {
        "mx": "ok",
        "spf": "ok",
        "spf_authorised": "ok",
        "dkim": "ok",
        "dmarc": "ok",
        "dmarc_alignment": "ok",
        "mta_sts": "ok",
        "tls_rpt": "ok",
        "dnssec": "ok",
    }
    assert report.ok and not report.timed_out
    f = by_check(report)
    assert str(f["spf_authorised"].title) == "SPF allows smtp.prov.test to send for example.org"
    assert "203.0.113.10" in str(f["spf_authorised"].explanation)
    assert str(f["dmarc"].title) == "DMARC policy: reject"
    assert str(f["dmarc_alignment"].title) == "DMARC can pass through SPF + DKIM"
    assert all(x.record_to_publish == "" for x in report.findings)
    # every question went to the loopback server, none twice through a cache of another run
    assert ("_dmarc.example.org", "TXT") in dns_server.queries


async def test_missing_records_say_what_to_publish(dns_server):
    dns_server.zone = {D: {"A": ["192.0.2.1"]}}
    report = await audit(dns_server)
    assert statuses(report) == {
        "mx": "warn",
        "spf": "fail",
        "dkim": "info",
        "dmarc": "fail",
        "mta_sts": "info",
        "tls_rpt": "info",
        "dnssec": "info",
    }
    f = by_check(report)
    assert f["spf"].record_to_publish == 'example.org. IN TXT "v=spf1 mx ~all"'
    assert f["dmarc"].record_to_publish == (
        '_dmarc.example.org. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.org"'
    )
    assert f["tls_rpt"].record_to_publish == (
        '_smtp._tls.example.org. IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.org"'
    )
    assert str(f["spf"].title) == "No SPF record for example.org"
    assert not report.ok
    assert report.to_dict()["counts"] == {"ok": 0, "warn": 1, "fail": 2, "info": 4}


async def test_missing_spf_suggests_the_providers_include(dns_server):
    dns_server.zone = {D: {"A": ["192.0.2.1"]}}
    report = await audit(dns_server, provider_id="gmail")
    assert by_check(report)["spf"].record_to_publish == 'example.org. IN TXT "v=spf1 include:_spf.google.com ~all"'
    # Gmail's known selector was tried even though none was given
    assert ("google._domainkey.example.org", "TXT") in dns_server.queries
    assert by_check(report)["dkim"].status is Status.WARN


async def test_broken_spf_and_dmarc_syntax(dns_server):
    zone = good_zone()
    zone[D]["TXT"] = ['"v=spf1 ip4:192.0.2.300 -all"']
    zone["_dmarc.example.org"]["TXT"] = ['"v=DMARC1; p=bogus"']
    dns_server.zone = zone
    report = await audit(dns_server)
    f = by_check(report)
    assert f["spf"].status is Status.FAIL
    assert str(f["spf"].title) == "The SPF record of example.org is invalid"
    assert "192.0.2.300" in f["spf"].details["error"]
    assert f["dmarc"].status is Status.FAIL
    assert str(f["dmarc"].title) == "The DMARC record of example.org is invalid"
    assert "dmarc_alignment" not in f  # no policy to align with


async def test_two_spf_records_fail(dns_server):
    zone = good_zone()
    zone[D]["TXT"] = ['"v=spf1 -all"', '"v=spf1 mx -all"']
    dns_server.zone = zone
    report = await audit(dns_server)
    assert str(by_check(report)["spf"].title) == "More than one SPF record for example.org"


async def test_spf_over_the_ten_lookup_limit(dns_server):
    zone = good_zone()
    includes = " ".join(f"include:_s{i}.prov.test" for i in range(11))
    zone[D]["TXT"] = [f'"v=spf1 {includes} -all"']
    for i in range(11):
        zone[f"_s{i}.prov.test"] = {"TXT": [f'"v=spf1 ip4:198.51.100.{i}/32 -all"']}
    dns_server.zone = zone
    report = await audit(dns_server)
    f = by_check(report)["spf"]
    assert f.status is Status.FAIL
    assert str(f.title) == "SPF needs too many DNS lookups (11 of 10)"
    assert f.details["dns_lookups"] == 11


async def test_plus_all_lets_anyone_send(dns_server):
    zone = good_zone()
    zone[D]["TXT"] = ['"v=spf1 mx +all"']
    dns_server.zone = zone
    f = by_check(await audit(dns_server))["spf"]
    assert f.status is Status.FAIL
    assert f.record_to_publish == 'example.org. IN TXT "v=spf1 mx ~all"'


async def test_smtp_server_not_authorised(dns_server):
    zone = good_zone()
    zone["smtp.other.test"] = {"A": ["198.51.100.99"]}
    dns_server.zone = zone
    report = await audit(dns_server, smtp_host="smtp.other.test")
    f = by_check(report)["spf_authorised"]
    assert f.status is Status.FAIL
    assert str(f.title) == "SPF does not list smtp.other.test for example.org"
    assert f.record_to_publish == 'example.org. IN TXT "v=spf1 include:_spf.prov.test a:smtp.other.test -all"'
    assert f.details["addresses"] == ["198.51.100.99"]
    # SPF does not pass and no DKIM selector is known: DMARC fails
    assert by_check(report)["dmarc_alignment"].status is Status.FAIL


async def test_provider_include_authorises_its_server(dns_server):
    zone = good_zone()
    zone[D]["TXT"] = ['"v=spf1 include:_spf.google.com ~all"']
    zone["_spf.google.com"] = {"TXT": ['"v=spf1 ip4:172.217.0.0/19 ~all"']}
    zone["smtp.gmail.com"] = {"A": ["192.0.2.200"]}  # not in the ranges: the include is what counts
    dns_server.zone = zone
    report = await audit(dns_server, smtp_host="smtp.gmail.com")
    f = by_check(report)["spf_authorised"]
    assert f.status is Status.OK
    assert "_spf.google.com" in str(f.explanation)


async def test_misaligned_dmarc_strict_spf(dns_server):
    zone = good_zone()
    zone["_dmarc.example.org"]["TXT"] = ['"v=DMARC1; p=quarantine; aspf=s"']
    dns_server.zone = zone
    report = await audit(dns_server, smtp_host="smtp.prov.test", mail_from="bounce@mail.example.org")
    f = by_check(report)["dmarc_alignment"]
    assert f.status is Status.FAIL
    assert str(f.title) == "Mail from example.org will fail DMARC"
    assert "mail.example.org" in str(f.explanation) and "strict" in str(f.explanation)
    assert f.details["spf_aligned"] is False


async def test_relaxed_alignment_accepts_a_subdomain(dns_server):
    zone = good_zone()
    zone["_dmarc.example.org"]["TXT"] = ['"v=DMARC1; p=quarantine"']
    dns_server.zone = zone
    report = await audit(dns_server, smtp_host="smtp.prov.test", mail_from="bounce@mail.example.org")
    f = by_check(report)["dmarc_alignment"]
    assert f.status is Status.OK
    assert str(f.title) == "DMARC can pass through SPF"


async def test_dmarc_none_policy_warns_with_the_stricter_record(dns_server):
    zone = good_zone()
    zone["_dmarc.example.org"]["TXT"] = ['"v=DMARC1; p=none; rua=mailto:d@example.org"']
    dns_server.zone = zone
    f = by_check(await audit(dns_server))["dmarc"]
    assert f.status is Status.WARN
    assert f.record_to_publish == '_dmarc.example.org. IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@example.org"'


async def test_revoked_dkim_key_fails(dns_server):
    zone = good_zone()
    zone["sel1._domainkey.example.org"] = {"TXT": ['"v=DKIM1; p="']}
    dns_server.zone = zone
    f = by_check(await audit(dns_server, dkim_selectors=("sel1",)))["dkim"]
    assert f.status is Status.FAIL
    assert f.details["revoked"] == ["sel1"]


async def test_hostile_selector_is_not_asked(dns_server):
    dns_server.zone = good_zone()
    report = await audit(dns_server, dkim_selectors=("../../x", "a b", "ok-sel"))
    asked = [n for n, t in dns_server.queries if "_domainkey" in n]
    assert asked == ["ok-sel._domainkey.example.org"]
    assert by_check(report)["dkim"].details["selectors"] == ["ok-sel"]


@pytest.mark.parametrize(
    ("provider", "status", "title"),
    [
        ("gmail", Status.WARN, "Gmail rewrites the From address to the login"),
        ("mailru", Status.FAIL, "Mail.ru refuses a From address other than the login"),
        ("", Status.INFO, "The From address differs from the login"),
    ],
)
async def test_from_differs_from_login(dns_server, provider, status, title):
    dns_server.zone = good_zone()
    report = await audit(dns_server, from_address="news@example.org", login="me@example.org", provider_id=provider)
    f = by_check(report)["from_login"]
    assert (f.status, str(f.title)) == (status, title)


async def test_same_from_and_login_has_no_from_finding(dns_server):
    dns_server.zone = good_zone()
    report = await audit(dns_server, from_address="Me <ME@example.org>", login="me@example.org", provider_id="gmail")
    assert "from_login" not in by_check(report)


async def test_silent_dns_server_hits_the_deadline(net_loop):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        started = time.monotonic()
        report = await run_audit(
            AuditRequest(domain=D, smtp_host="smtp.prov.test", timeout=1.0), nameservers=[silent.getsockname()]
        )
        elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert report.timed_out and not report.ok
    last = report.findings[-1]
    assert (last.check, last.status) == ("dns", Status.FAIL)
    assert str(last.title) == "The audit ran out of time (1 s)"
    assert by_check(report)["mx"].status is Status.WARN
    assert str(by_check(report)["mx"].title) == "No DNS answer in time for example.org"


async def test_fixed_record_is_seen_at_once_no_stale_cache(dns_server):
    dns_server.zone = {D: {"A": ["192.0.2.1"]}}
    first = await audit(dns_server)
    dns_server.zone = good_zone()
    second = await audit(dns_server)
    assert by_check(first)["spf"].status is Status.FAIL
    assert by_check(second)["spf"].status is Status.OK


@pytest.mark.parametrize("bad", ["", "no spaces allowed.com", "example", "a@b@c", "-x-.org\x1b[31m"])
async def test_bad_domain_is_a_value_error(dns_server, bad):
    with pytest.raises(ValueError):
        await audit(dns_server, domain=bad)
    assert dns_server.queries == []


async def test_address_and_idn_domains_are_normalised(dns_server):
    dns_server.zone = {"xn--e1afmkfd.xn--p1ai": {"A": ["192.0.2.1"]}}
    report = await audit(dns_server, domain="Админ@Пример.РФ")
    assert report.domain == "xn--e1afmkfd.xn--p1ai"
    assert by_check(report)["mx"].status is Status.WARN


async def test_to_dict_has_the_report_keys(dns_server):
    dns_server.zone = {D: {"A": ["192.0.2.1"]}}
    data = (await audit(dns_server)).to_dict()
    assert data["domain"] == D and data["ok"] is False
    assert set(data["findings"][0]) == {"check", "status", "title", "explanation", "record_to_publish", "details"}


# --------------------------------------------------------------------------- catalogue data
def test_known_providers_carry_sending_data():
    cat = load_catalogue()
    assert cat.by_id("gmail").sending.dkim_selectors == ("google",)
    assert cat.by_id("outlook").sending.dkim_selectors == ("selector1", "selector2")
    assert cat.by_id("yandex").sending.spf_include == "_spf.yandex.net"
    assert cat.by_id("mailru").sending.foreign_from == "reject"


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ("[sending]\nfoo = 1\n", "acme.toml: sending.foo: unknown field (typo?)"),
        ('[sending]\nforeign_from = "maybe"\n', "acme.toml: sending.foreign_from: must be one of rewrite, reject"),
        (
            '[sending]\ndkim_selectors = ["bad selector"]\n',
            "acme.toml: sending.dkim_selectors[0]: must be a DNS label such as selector1",
        ),
    ],
)
def test_sending_table_is_validated(tmp_path: Path, table, error):
    (tmp_path / "acme.toml").write_text(CATALOG_BASE + "\n" + table, encoding="utf-8")
    assert [str(e) for e in load_catalogue(base_dir=tmp_path).errors] == [error]


async def test_the_report_renders_a_real_audit(dns_server, smtp_server):
    from app.core.detect import Verdict
    from app.core.report import build_report
    from app.core.smtp import CheckResult

    dns_server.zone = {D: {"A": ["192.0.2.1"]}}
    result = await audit(dns_server)
    settings = smtp_server("plain").settings(username="")
    section = build_report(Verdict(True, "engine", None, CheckResult(True, None, settings, 1.0)), audit=result).section(
        "audit"
    )
    assert section.title == "Sender domain audit: example.org" and section.status == "failed"
    assert section.table[2] == (
        "spf",
        "fail",
        str(by_check(result)["spf"].explanation),
        'example.org. IN TXT "v=spf1 mx ~all"',
    )


def test_round_trip_reads_the_dkim_selector_of_the_passing_signature():
    from app.core.incoming import parse_authentication_results

    header = (
        "mx.receiver.test; spf=pass smtp.mailfrom=example.org; "
        "dkim=fail header.d=other.test header.s=bad; dkim=pass header.d=example.org header.s=sel1 header.b=AbC; "
        "dmarc=pass header.from=example.org"
    )
    auth = parse_authentication_results([header])
    assert (auth.dkim, auth.dkim_selector) == ("pass", "sel1")
    assert auth.to_dict()["dkim_selector"] == "sel1"
    hostile = parse_authentication_results(["mx.receiver.test; dkim=pass header.s=../../etc;x"])
    assert hostile.dkim_selector is None and "dkim_selector" not in hostile.to_dict()


@pytest.mark.parametrize("selector", ["mail\n", "mail\r\n", "\nmail", "ma il", "a..b", ""])
def test_a_selector_with_a_line_break_or_space_is_not_valid(selector):
    from app.core.audit import valid_selector

    assert valid_selector("mail") and valid_selector("s1._mx")
    assert not valid_selector(selector)


@pytest.mark.parametrize(("front_end", "says", "never"), [("cli", "--dkim-selector", "field"), ("gui", "field", "--")])
async def test_the_no_selector_advice_fits_the_front_end(dns_server, front_end, says, never):
    dns_server.zone = good_zone()
    report = await audit(dns_server, domain="example.org", front_end=front_end)
    text = by_check(report)["dkim"].explanation.render()
    assert says in text and never not in text
