"""OAuth as catalogue data: the shipped [oauth] tables, validation of hostile ones, organisation presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.catalog import (
    ClientSecretUse,
    load_catalogue,
    load_client_presets,
    provider_to_dict,
)

MS = "https://outlook.office.com/"


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def test_shipped_oauth_facts(cat):
    ms = cat.by_id("outlook").oauth
    assert ms.scopes_for(("smtp",)) == (MS + "SMTP.Send", "offline_access")
    assert ms.scopes_for(("smtp", "imap", "pop3")) == (
        MS + "SMTP.Send",
        MS + "IMAP.AccessAsUser.All",
        MS + "POP.AccessAsUser.All",
        "offline_access",
    )
    assert ms.needs_tenant and ms.default_tenant == "common"
    assert ms.device_endpoint == "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode"
    assert (ms.redirect_uri, ms.redirect_any_port, ms.sasl) == ("http://localhost/", True, ("XOAUTH2",))
    assert ms.client_secret is ClientSecretUse.NONE
    g = cat.by_id("gmail").oauth
    assert g.scopes_for() == ("https://mail.google.com/",)
    assert g.token_endpoint == "https://oauth2.googleapis.com/token" and g.device_endpoint is None
    assert g.redirect_uri == "http://127.0.0.1/" and g.sasl == ("XOAUTH2", "OAUTHBEARER")
    assert g.client_secret is ClientSecretUse.REQUIRED
    y = cat.by_id("yandex").oauth
    assert y.scopes_for(("smtp", "imap")) == ("mail:smtp", "mail:imap_full")
    assert y.device_endpoint == "https://oauth.yandex.ru/device/code" and not y.redirect_any_port
    assert cat.by_id("mailru").oauth.scopes_for() == ("mail.imap", "userinfo")
    assert cat.by_id("yahoo").oauth is None  # Yahoo closed its mail scope to new clients
    for pid in ("outlook", "gmail", "yandex", "mailru"):
        spec = cat.by_id(pid).oauth
        assert spec.pkce and set(spec.guide) >= {"ru", "en"}, pid
    d = provider_to_dict(cat.by_id("outlook"))
    assert d["oauth"]["scopes"]["smtp"] == [MS + "SMTP.Send"] and "client_id" not in d["oauth"]
    assert provider_to_dict(cat.by_id("yahoo"))["oauth"] is None


BASE = """
id = "acme"
[name]
ru = "Акме"
en = "Acme"
[[smtp]]
host = "smtp.acme.test"
port = 587
security = "starttls"
[guide.ru]
steps = [{text = "шаг"}]
[guide.en]
steps = [{text = "step"}]
"""

GOOD_OAUTH = """
[oauth]
authorization_endpoint = "https://id.acme.test/{tenant}/authorize"
token_endpoint = "https://id.acme.test/{tenant}/token"
default_tenant = "common"
redirect = "http://127.0.0.1/"
sasl = ["oauthbearer", "XOAUTH2"]
auth_params = {prompt = "consent"}
[oauth.scopes]
smtp = ["mail.send"]
[oauth.guide.ru]
steps = [{text = "зарегистрируйте"}]
[oauth.guide.en]
steps = [{text = "register"}]
"""


def _load(tmp_path: Path, text: str):
    folder = tmp_path / "p"
    folder.mkdir(exist_ok=True)
    (folder / "acme.toml").write_text(BASE + text, encoding="utf-8")
    cat = load_catalogue(base_dir=folder)
    return cat, {e.field: e.message for e in cat.errors}


def test_a_provider_file_adds_oauth_without_code(tmp_path):
    cat, errors = _load(tmp_path, GOOD_OAUTH)
    assert errors == {}
    spec = cat.by_id("acme").oauth
    assert spec.sasl == ("OAUTHBEARER", "XOAUTH2") and spec.auth_params == {"prompt": "consent"}
    assert spec.scopes_for() == ("mail.send",) and spec.needs_tenant


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ('"https://id.acme.test/{tenant}/token"', '"http://id.acme.test/token"', "oauth.token_endpoint", "https"),
        (
            '"https://id.acme.test/{tenant}/token"',
            '"https://id.acme.test/{user}/t"',
            "oauth.token_endpoint",
            "placeholder",
        ),
        ('default_tenant = "common"', 'default_tenant = "a b"', "oauth.default_tenant", "not a tenant"),
        ('default_tenant = "common"', "", "oauth.default_tenant", "required"),
        ('"http://127.0.0.1/"', '"http://evil.example/"', "oauth.redirect", "loopback"),
        ('"http://127.0.0.1/"', '"https://127.0.0.1/"', "oauth.redirect", "loopback"),
        ('"http://127.0.0.1/"', '"http://127.0.0.1:99999/"', "oauth.redirect", "loopback"),
        ('"http://127.0.0.1/"', '"http://127.0.0.1:8080/"', "oauth.redirect", "no port"),
        ('smtp = ["mail.send"]', 'smtp = ["mail send"]', "oauth.scopes.smtp[0]", "not an OAuth scope"),
        ('smtp = ["mail.send"]', 'imap = ["x"]', "oauth.scopes.smtp", "required"),
        ('smtp = ["mail.send"]', 'smtp = ["x"]\nftp = ["y"]', "oauth.scopes.ftp", "must be one of"),
        ('sasl = ["oauthbearer", "XOAUTH2"]', 'sasl = ["PLAIN"]', "oauth.sasl[0]", "must be one of"),
        ('{prompt = "consent"}', '{state = "x"}', "oauth.auth_params.state", "set by MailSetup"),
        ("[oauth.guide.en]", "[oauth.guide.de]", "oauth.guide.en", "required"),
        ("redirect =", "rediret =", "oauth.rediret", "unknown field"),
    ],
)
def test_hostile_oauth_tables_are_reported_and_skipped(tmp_path, old, new, field, words):
    assert old in GOOD_OAUTH
    cat, errors = _load(tmp_path, GOOD_OAUTH.replace(old, new, 1))
    assert cat.by_id("acme") is None
    assert field in errors, errors
    assert words in errors[field]


def test_fixed_port_redirect_needs_the_port(tmp_path):
    text = GOOD_OAUTH.replace(
        'redirect = "http://127.0.0.1/"', 'redirect = "http://127.0.0.1/"\nredirect_any_port = false'
    )
    _, errors = _load(tmp_path, text)
    assert "registered port" in errors["oauth.redirect"]
    cat, errors = _load(tmp_path, text.replace('"http://127.0.0.1/"', '"http://127.0.0.1:8400/"'))
    assert errors == {} and cat.by_id("acme").oauth.redirect_uri == "http://127.0.0.1:8400/"


def test_organisation_presets(tmp_path):
    f = tmp_path / "oauth_clients.toml"
    assert load_client_presets(f).presets == {}  # a missing file is no error
    f.write_text(
        '[outlook]\nclient_id = "00001111-aaaa-2222-bbbb-3333cccc4444"\ntenant = "contoso.onmicrosoft.com"\n'
        '[gmail]\nclient_id = "123-abc.apps.googleusercontent.com"\nclient_secret = "GOCSPX-x"\n'
        '[yandex]\nclient_id = "bad id with spaces"\n'
        '[mailru]\nclient_id = "ok"\ntenant = "-bad-"\n',
        encoding="utf-8",
    )
    presets = load_client_presets(f)
    assert presets.get("outlook").tenant == "contoso.onmicrosoft.com"
    assert set(presets.presets) == {"outlook"}
    errors = {e.field: e.message for e in presets.errors}
    assert "keyring" in errors["gmail.client_secret"]
    assert "not a client id" in errors["yandex.client_id"]
    assert "not a tenant" in errors["mailru.tenant"]
    f.write_bytes(b"\xff[[[")
    assert load_client_presets(f).errors and load_client_presets(f).presets == {}
