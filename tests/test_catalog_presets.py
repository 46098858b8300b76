"""The presets beyond the first seven: each loads with ru/en guides, sources, limits or hints, and is found by
its domains and MX hosts; regional servers (Zoho, SES, Mailgun, GMX) are chosen by domain, MX or region id."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.core.catalog import load_catalogue
from app.core.catalog.model import ProviderKind

NEW = {
    # id: (a domain or None, an MX host or None, first SMTP host, audience)
    "aol": ("aol.com", "mx-aol.mail.gm0.yahoodns.net", "smtp.aol.com", "personal"),
    "icloud": ("icloud.com", "mx01.mail.icloud.com", "smtp.mail.me.com", "personal"),
    "zoho": ("zohomail.com", "mx.zoho.com", "smtp.zoho.com", "business"),
    "gmx": ("gmx.de", "mx00.gmx.net", "mail.gmx.net", "personal"),
    "webde": ("web.de", "mx-ha03.web.de", "smtp.web.de", "personal"),
    "fastmail": ("fastmail.com", "in1-smtp.messagingengine.com", "smtp.fastmail.com", "personal"),
    "rambler": ("rambler.ru", "mx.rambler.ru", "smtp.rambler.ru", "personal"),
    "tonline": ("t-online.de", "mx00.t-online.de", "securesmtp.t-online.de", "personal"),
    "mailgun": (None, "mxa.mailgun.org", "smtp.mailgun.org", "developer"),
    "amazon_ses": (None, "inbound-smtp.us-east-1.amazonaws.com", "email-smtp.us-east-1.amazonaws.com", "developer"),
    "brevo": (None, None, "smtp-relay.brevo.com", "developer"),
    "postmark": (None, None, "smtp.postmarkapp.com", "developer"),
}


@pytest.fixture(scope="module")
def cat():
    c = load_catalogue()
    assert c.errors == []
    return c


def _https(url):
    parts = urlsplit(url or "")
    return parts.scheme == "https" and bool(parts.hostname)


@pytest.mark.parametrize("pid", sorted(NEW))
def test_new_preset_loads_complete(cat, pid):
    domain, mx, host, audience = NEW[pid]
    p = cat.by_id(pid)
    assert p is not None and p.kind is ProviderKind.PRESET and Path(p.source_file).name == f"{pid}.toml"
    assert p.smtp[0].host == host and p.audience == audience
    assert p.sources and (p.error_hints or p.limits)
    for lang in ("ru", "en"):
        guide = p.guide[lang]
        assert len(guide.steps) >= 3 and guide.result_hint and guide.prerequisites
        assert any(s.link for s in guide.steps) and all(_https(s.link) for s in guide.steps if s.link)
        assert p.tips_for(lang)
    for hint in p.error_hints:
        assert set(hint.fix) >= {"ru", "en"}
    if domain:
        assert cat.by_domain(domain).id == pid
    if mx:
        assert cat.by_mx(mx).id == pid


def test_first_page_groups_are_visible(cat):
    audiences = {p.audience for p in cat.presets}
    assert audiences == {"personal", "business", "developer"}
    assert len(cat.presets) >= 19


@pytest.mark.parametrize(
    ("how", "value", "host"),
    [
        ("domain", "zoho.eu", "smtp.zoho.eu"),
        ("domain", "zohomail.in", "smtp.zoho.in"),
        ("domain", "zohocloud.ca", "smtp.zohocloud.ca"),
        ("mx", "mx2.zoho.eu", "smtp.zoho.eu"),
        ("mx", "mx.zoho.com.au", "smtp.zoho.com.au"),
        ("domain", "gmx.co.uk", "mail.gmx.com"),
        ("domain", "gmx.at", "mail.gmx.net"),
        ("mx", "mxa.eu.mailgun.org", "smtp.eu.mailgun.org"),
        ("mx", "mxb.mailgun.org", "smtp.mailgun.org"),
        ("mx", "inbound-smtp.eu-west-1.amazonaws.com", "email-smtp.eu-west-1.amazonaws.com"),
    ],
)
def test_region_chosen_by_domain_or_mx(cat, how, value, host):
    p = cat.by_domain(value) if how == "domain" else cat.by_mx(value)
    assert p is not None and p.smtp[0].host == host and p.region


def test_region_chosen_by_id(cat):
    ses = cat.by_id("amazon_ses")
    assert len(ses.regions) >= 20
    frankfurt = ses.in_region("EU-CENTRAL-1")
    assert frankfurt.region == "eu-central-1" and frankfurt.id == "amazon_ses"
    assert {e.host for e in frankfurt.smtp} == {"email-smtp.eu-central-1.amazonaws.com"}
    assert {(e.port, e.security) for e in frankfurt.smtp} >= {(587, "starttls"), (465, "ssl")}
    assert ses.in_region("mars-north-1") is None
    assert cat.by_id("mailgun").in_region("eu").smtp[0].host == "smtp.eu.mailgun.org"


def test_ses_sandbox_error_names_the_region_fix(cat):
    from app.core.catalog import match_error_hint

    reply = (
        "554 Message rejected: Email address is not verified. The following identities failed the check in "
        "region EU-WEST-1: app@example.com"
    )
    hint = match_error_hint(cat.by_id("amazon_ses"), reply)
    assert hint is not None and hint.code == "sender_rejected" and "region" in hint.fix["en"]


BASE = """
id = "acme"
kind = "preset"
[name]
ru = "Акме"
en = "Acme"
[[smtp]]
host = "smtp.acme.example"
port = 465
security = "ssl"
[guide.ru]
[[guide.ru.steps]]
text = "шаг"
[guide.en]
[[guide.en.steps]]
text = "step"
"""


def _errors(tmp_path, tail):
    (tmp_path / "acme.toml").write_text(BASE + tail, encoding="utf-8")
    return [str(e) for e in load_catalogue(base_dir=tmp_path).errors]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (
            '[[regions]]\nid = "eu"\nname.ru = "Е"\nname.en = "E"\n'
            'smtp = [{ host = "smtp.eu.acme.example", port = 0, security = "ssl" }]\n',
            "acme.toml: regions[0].smtp[0].port: must be 1..65535",
        ),
        ('[[regions]]\nid = "eu"\nname.ru = "Е"\nname.en = "E"\n', "acme.toml: regions[0].smtp: is required"),
        (
            '[[regions]]\nid = "EU West!"\nname.ru = "Е"\nname.en = "E"\n'
            'smtp = [{ host = "smtp.eu.acme.example", port = 465, security = "ssl" }]\n',
            "acme.toml: regions[0].id: must be lowercase letters",
        ),
        (
            '[[regions]]\nid = "eu"\nname.en = "E"\nsmtp = [{ host = "h.example", port = 465, security = "ssl" }]\n',
            "acme.toml: regions[0].name.ru: is required",
        ),
        (
            '[[regions]]\nid = "eu"\nname.ru = "Е"\nname.en = "E"\ndomains = ["not a domain"]\n'
            'smtp = [{ host = "h.example", port = 465, security = "ssl" }]\n',
            "acme.toml: regions[0].domains[0]: 'not a domain' is not a domain name",
        ),
        (
            '[[regions]]\nid = "eu"\nname.ru = "Е"\nname.en = "E"\nispdb = ["gmx.net"]\nflavour = 1\n'
            'smtp = [{ host = "h.example", port = 465, security = "ssl" }]\n',
            "acme.toml: regions[0].flavour: unknown field (typo?)",
        ),
        (
            '[[regions]]\nid = "eu"\nname.ru = "Е"\nname.en = "E"\nispdb = ["nope.example"]\n'
            'smtp = [{ host = "h.example", port = 465, security = "ssl" }]\n',
            "acme.toml: regions[0].ispdb[0]: 'nope.example' is not in the bundled ISPDB snapshot",
        ),
        ('provider_db = ["nope"]\n', "acme.toml: provider_db[0]: 'nope' is not in the bundled Delta Chat"),
    ],
)
def test_bad_regions_are_reported(tmp_path, tail, expected):
    if tail.startswith("provider_db"):
        (tmp_path / "acme.toml").write_text(BASE.replace('kind = "preset"\n', 'kind = "preset"\n' + tail), "utf-8")
        errors = [str(e) for e in load_catalogue(base_dir=tmp_path).errors]
    else:
        errors = _errors(tmp_path, tail)
    assert any(e.startswith(expected) for e in errors), errors


def test_region_domain_clash_with_another_file_is_reported(tmp_path):
    region = (
        '[[regions]]\nid = "eu"\nname.ru = "Е"\nname.en = "E"\ndomains = ["acme.example"]\n'
        'smtp = [{ host = "h.example", port = 465, security = "ssl" }]\n'
    )
    (tmp_path / "a.toml").write_text(BASE + region, encoding="utf-8")
    (tmp_path / "b.toml").write_text(BASE.replace('id = "acme"', 'id = "acme2"') + region, encoding="utf-8")
    errors = [str(e) for e in load_catalogue(base_dir=tmp_path).errors]
    assert errors == ["b.toml: regions[0].domains[0]: 'acme.example' already belongs to provider 'acme'"]
