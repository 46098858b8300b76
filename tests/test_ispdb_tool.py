"""tools/ispdb_snapshot.py: the facts it keeps from ISPDB XML and Delta Chat front matter; CLI shows them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from app.cli.commands.providers import format_provider
from app.core.catalog import load_catalogue

TOOL = Path(__file__).resolve().parents[1] / "tools" / "ispdb_snapshot.py"


def _tool():
    spec = importlib.util.spec_from_file_location("ispdb_snapshot", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


XML = """<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.net">
  <domain>example.net</domain><domain>Example.ORG</domain><domain>mail.protection.outlook.com</domain>
  <outgoingServer type="smtp"><hostname>SMTP.example.net</hostname><port>465</port><socketType>SSL</socketType>
    <authentication>OAuth2</authentication><authentication>password-cleartext</authentication>
    <username>%EMAILADDRESS%</username></outgoingServer>
  <incomingServer type="imap"><hostname>imap.example.net</hostname><port>993</port></incomingServer>
</emailProvider></clientConfig>"""


def test_read_file_keeps_domains_mx_names_and_smtp():
    data = _tool().read_file(XML)
    assert data["domains"] == ["example.net", "example.org"]
    assert data["mx_names"] == ["mail.protection.outlook.com"]
    assert data["smtp"] == [
        {
            "host": "smtp.example.net",
            "port": 465,
            "socket": "SSL",
            "auth": ["OAuth2", "password-cleartext"],
            "username": "%EMAILADDRESS%",
        }
    ]


def test_read_deltachat_front_matter():
    text = "---\nname: X\ndomains:\n# from the site\n- a.example\n  - B.example\nserver:\n  - type: smtp\n---\nbody"
    assert _tool().read_deltachat(text) == {"domains": ["a.example", "b.example"]}


def test_cli_show_lists_regions_and_sources():
    cat = load_catalogue()
    text = format_provider(cat.by_id("zoho"), "en")
    assert "Regions:" in text and "eu: Europe (zoho.eu) — smtp.zoho.eu ssl 465, starttls 587" in text
    assert "Sources:" in text and "https://www.zoho.com/mail/help/zoho-smtp.html" in text
    ses = format_provider(cat.by_id("amazon_ses"), "ru")
    assert "Регионы:" in ses and "Европа (Франкфурт) — eu-central-1 — email-smtp.eu-central-1.amazonaws.com" in ses
