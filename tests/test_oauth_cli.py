"""``mailsetup oauth login|logout``, ``check/send --profile`` and ``profiles check`` for OAuth profiles.

End to end on loopback: a Microsoft-style provider (tenant, localhost redirect, device code, no secret)
and a Google-style one (127.0.0.1 redirect, client secret) are added as provider files without code;
they sign in against the real authorization server (https, trustme), check and send through an aiosmtpd
XOAUTH2 server that accepts only issued tokens, save, and re-test from the keyring.
"""

from __future__ import annotations

import asyncio
import json
import webbrowser

import pytest

from app.cli.main import main
from app.core.catalog import default_catalogue, user_providers_dir
from app.core.store import ProfileStore, SecretStore, default_profiles_path
from tests.fixtures.oauth_server import USER, browse

CID = "00001111-aaaa-2222-bbbb-3333cccc4444"
GOOGLE_CID = "1234567890-abc.apps.googleusercontent.com"

PROVIDER = """
id = "{pid}"
[name]
ru = "{pid}"
en = "{pid}"
[[smtp]]
host = "127.0.0.1"
port = {smtp_port}
security = "ssl"
[guide.ru]
steps = [{{text = "шаг"}}]
[guide.en]
steps = [{{text = "step"}}]

[oauth]
authorization_endpoint = "{url}{tpath}/authorize"
token_endpoint = "{url}{tpath}/token"
{extra}
sasl = ["XOAUTH2"]
[oauth.scopes]
smtp = ["https://mail.test/SMTP.Send"]
[oauth.guide.ru]
steps = [{{text = "зарегистрируйте приложение"}}]
[oauth.guide.en]
steps = [{{text = "register an app"}}]
"""

MS_EXTRA = """device_endpoint = "{url}/{{tenant}}/devicecode"
revocation_endpoint = "{url}/{{tenant}}/revoke"
admin_consent_url = "{url}/{{tenant}}/adminconsent?client_id={{client_id}}"
default_tenant = "common"
extra_scopes = ["offline_access"]
redirect = "http://localhost/"
client_secret = "none"
"""
GOOGLE_EXTRA = """revocation_endpoint = "{url}/revoke"
redirect = "http://127.0.0.1/"
client_secret = "required"
"""


@pytest.fixture
def world(oauth_server_tls, xoauth2_smtp, secret_service, monkeypatch):
    """Auth server (https), XOAUTH2 SMTP server, keyring, both providers as user files, a test browser."""
    auth = oauth_server_tls
    smtp, handler = xoauth2_smtp(auth)
    folder = user_providers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for pid, extra, tpath in (("msstyle", MS_EXTRA, "/{tenant}"), ("gstyle", GOOGLE_EXTRA, "")):
        text = PROVIDER.format(
            pid=pid, smtp_port=smtp.port, url=auth.url, tpath=tpath, extra=extra.format(url=auth.url)
        )
        (folder / f"{pid}.toml").write_text(text, encoding="utf-8")
    default_catalogue.cache_clear()
    assert not default_catalogue().errors
    opened: list[str] = []

    def fake_open(url: str) -> bool:  # runs in the CLI's browser thread, like a real browser would
        opened.append(url)
        asyncio.run(browse(url))
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    yield auth, smtp, handler, opened
    default_catalogue.cache_clear()


def run(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return code, (lines[-1] if lines else {}), err


def smtp_args(smtp) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(smtp.port), "--security", "ssl", "--cafile", smtp.ca_file]


def test_microsoft_style_sign_in_check_send_save_retest(world, capsys):
    auth, smtp, handler, opened = world
    auth.register(CID, loopback_host="localhost")
    code, result, err = run(
        capsys, "oauth", "login", "work", "--provider", "msstyle", "--client-id", CID, "--tenant",
        "contoso.example", "--user", USER, "--timeout", "10", "--cafile", smtp.ca_file, "--json",
    )  # fmt: skip
    assert code == 0, (result, err)
    assert result["ok"] and result["profile"] == "work" and result["keyring"]
    assert "/contoso.example/authorize" in opened[0] and "redirect_uri=http%3A%2F%2Flocalhost%3A" in opened[0]
    saved = default_profiles_path().read_text(encoding="utf-8")
    assert CID in saved and "contoso.example" in saved
    assert "rt-" not in saved and "at-" not in saved  # no token ever reaches the file
    assert json.loads(SecretStore().get("work", service="MailSetup OAuth"))["refresh_token"].startswith("rt-")

    code, result, _ = run(capsys, "check", *smtp_args(smtp), "--profile", "work", "--json")
    assert code == 0 and result["auth_mechanism"] == "XOAUTH2" and result["auth_verified"], result
    code, result, _ = run(
        capsys, "send", *smtp_args(smtp), "--profile", "work", "--from", USER, "--to", "bob@example.test",
        "--subject", "OAuth", "--body", "hello", "--json",
    )  # fmt: skip
    assert code == 0 and len(smtp.messages) == 1 and handler.seen_users == [USER, USER]

    auth.expire_access_tokens()  # re-test from the keyring: the stored grant is refreshed
    code, result, _ = run(capsys, "profiles", "check", "work", "--json")
    assert code == 0 and result["auth_mechanism"] == "XOAUTH2"

    code, result, _ = run(capsys, "oauth", "logout", "work", "--json")
    assert code == 0 and result["revoked"] and result["removed"]
    code, result, _ = run(capsys, "profiles", "check", "work", "--json")
    assert code == 1 and result["code"] == "oauth_not_signed_in"


def test_device_code_login_on_the_command_line(world, capsys):
    auth, smtp, _, opened = world
    auth.register(CID)
    auth.auto_approve = USER
    login = ["oauth", "login", "dev", "--provider", "msstyle", "--client-id", CID, "--user", USER, "--device"]
    code, result, err = run(capsys, *login, "--cafile", smtp.ca_file, "--json")
    assert code == 0 and result["ok"], err
    assert f"open {auth.url}/device" in err and "enter the code" in err and opened == []
    code, result, _ = run(capsys, "profiles", "check", "dev", "--json")
    assert code == 0 and result["auth_mechanism"] == "XOAUTH2"


def test_google_style_with_client_secret(world, capsys, monkeypatch):
    auth, smtp, _, _ = world
    auth.register(GOOGLE_CID, secret="gsecret-123")
    code, _, err = run(capsys, "oauth", "login", "g", "--provider", "gstyle", "--client-id", GOOGLE_CID, "--user", USER)
    assert code == 2 and "client secret" in err
    monkeypatch.setenv("GSECRET", "gsecret-123")
    code, result, err = run(
        capsys, "oauth", "login", "g", "--provider", "gstyle", "--client-id", GOOGLE_CID, "--user", USER,
        "--client-secret-env", "GSECRET", "--cafile", smtp.ca_file, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert "gsecret" not in default_profiles_path().read_text(encoding="utf-8")
    auth.expire_access_tokens()
    code, result, _ = run(capsys, "profiles", "check", "g", "--json")
    assert code == 0 and result["auth_verified"]  # the refresh sent the secret kept in the keyring
    auth.revoke_all()  # e.g. the user revoked the app's access in their account
    code, result, _ = run(capsys, "check", *smtp_args(smtp), "--profile", "g", "--json")
    assert code == 1 and result["code"] == "oauth_sign_in_again"
    assert [a["kind"] for a in result["actions"]] == ["oauth_sign_in"]
    code, result, err = run(capsys, "oauth", "login", "g", "--timeout", "10", "--json")
    assert code == 0 and result["saved"], err  # signing in again reuses the stored client id and secret
    code, _, _ = run(capsys, "profiles", "delete", "g", "--json")
    assert code == 0 and SecretStore().get("g", service="MailSetup OAuth") is None


def test_organisation_preset_client_id(world, capsys):
    auth, _, _, _ = world
    auth.register(CID, loopback_host="localhost")
    (user_providers_dir().parent / "oauth_clients.toml").write_text(
        f'[msstyle]\nclient_id = "{CID}"\ntenant = "contoso.example"\n', encoding="utf-8"
    )
    code, _result, err = run(capsys, "oauth", "login", "p", "--provider", "msstyle", "--user", USER, "--json")
    assert code == 0, err
    profile = ProfileStore().get("p")
    assert profile.extra["oauth"] == {
        "provider": "msstyle",
        "client_id": CID,
        "tenant": "contoso.example",
        "protocols": ["smtp"],
    }


def test_sign_in_failures_on_the_command_line(world, capsys):
    auth, smtp, _, _ = world
    code, _, err = run(capsys, "oauth", "login", "x", "--provider", "msstyle", "--user", USER)
    assert code == 2 and "oauth guide --provider msstyle" in err
    code, _, err = run(capsys, "oauth", "login", "x", "--provider", "yahoo", "--client-id", CID, "--user", USER)
    assert code == 2 and "offers no OAuth" in err
    code, _, err = run(capsys, "oauth", "login", "x", "--provider", "msstyle", "--client-id", "bad id", "--user", USER)
    assert code == 2 and "not a client id" in err
    auth.register(CID, loopback_host="localhost")
    auth.token_mode, auth.token_error = "error", ("invalid_grant", "AADSTS65001: consent needed")
    code, result, _ = run(
        capsys,
        "oauth",
        "login",
        "x",
        "--provider",
        "msstyle",
        "--client-id",
        CID,
        "--user",
        USER,
        "--timeout",
        "10",
        "--json",
    )
    assert code == 1 and result["code"] == "oauth_consent_required" and result["saved"] is False
    assert f"{auth.url}/common/adminconsent?client_id={CID}" in json.dumps(result["actions"])
    assert ProfileStore().get("x") is None
    code, _, err = run(capsys, "check", *smtp_args(smtp), "--profile", "nobody-here", "--json")
    assert code == 2 and "nobody-here" in err
    code, _, err = run(capsys, "check", *smtp_args(smtp), "--profile", "x", "--auth", "plain")
    assert code == 2 and "--auth xoauth2" in err


def test_guide_in_both_languages(capsys):
    code = main(["oauth", "guide", "--provider", "gmail"])
    out = capsys.readouterr().out
    assert code == 0 and "Desktop app" in out and "https://console.cloud.google.com/apis/credentials" in out
    code = main(["oauth", "guide", "--provider", "outlook", "--lang", "ru"])
    out = capsys.readouterr().out
    assert code == 0 and "Регистрация приложений" in out and "http://localhost" in out
    assert main(["oauth", "guide", "--provider", "yahoo"]) == 2


def test_exports_of_an_oauth_profile(world, capsys, tmp_path):
    auth, _, _, _ = world
    auth.register(CID, loopback_host="localhost")
    code, _, err = run(
        capsys, "oauth", "login", "e", "--provider", "msstyle", "--client-id", CID, "--user", USER, "--timeout", "10"
    )
    assert code == 0, err
    refresh = json.loads(SecretStore().get("e", service="MailSetup OAuth"))["refresh_token"]
    assert main(["profiles", "export", "e", "--format", "nodemailer"]) == 0
    js = capsys.readouterr().out
    assert 'type: "OAuth2"' in js and f'clientId: "{CID}"' in js and "process.env.SMTP_OAUTH_REFRESH_TOKEN" in js
    assert f'accessUrl: "{auth.url}/common/token"' in js and "pass:" not in js and refresh not in js
    assert main(["profiles", "export", "e", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["auth"] == "xoauth2" and data["oauth"]["client_id"] == CID and data["oauth"]["refresh_token"] is None
    code = main(["profiles", "export", "e", "--format", "env"])
    assert code == 1 and "signs in with OAuth 2.0" in capsys.readouterr().err
    out = tmp_path / "mailer.js"
    assert main(["profiles", "export", "e", "--format", "nodemailer", "--include-password", "-o", str(out)]) == 0
    assert refresh in out.read_text(encoding="utf-8") and "refresh token" in capsys.readouterr().err


def test_bundle_import_signs_in_checks_then_saves(world, capsys, tmp_path):
    """A rolled-out OAuth account: import-bundle --sign-in signs in, checks with the token, saves what passed."""
    auth, smtp, handler, opened = world
    auth.register(CID, loopback_host="localhost")
    code, result, err = run(
        capsys, "oauth", "login", "work", "--provider", "msstyle", "--client-id", CID, "--user", USER,
        "--timeout", "10", "--cafile", smtp.ca_file, "--json",
    )  # fmt: skip
    assert code == 0, (result, err)
    bundle = tmp_path / "team.json"
    code, result, _ = run(capsys, "profiles", "export-bundle", "work", "--output", str(bundle), "--json")
    assert code == 0 and "rt-" not in bundle.read_text(encoding="utf-8")
    code, _result, _ = run(capsys, "profiles", "delete", "work", "--json")
    assert code == 0 and SecretStore().get("work", service="MailSetup OAuth") is None

    main(["profiles", "import-bundle", str(bundle), "--json"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    entries = [x for x in lines if x.get("event") == "entry"]
    assert [(e["profile"], e["status"], e["saved"]) for e in entries] == [("work", "needs_sign_in", False)]
    assert "mailsetup oauth login work --provider msstyle --client-id " + CID in entries[0]["message"]
    assert SecretStore().get("work", service="MailSetup OAuth") is None  # without --sign-in nothing is saved

    opened.clear()
    main(["profiles", "import-bundle", str(bundle), "--sign-in", "--sign-in-timeout", "10", "--json"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    entries = [x for x in lines if x.get("event") == "entry"]
    assert [(e["profile"], e["status"], e["saved"]) for e in entries] == [("work", "saved", True)], lines
    assert len(opened) == 1 and "client_id=" + CID in opened[0]
    assert json.loads(SecretStore().get("work", service="MailSetup OAuth"))["refresh_token"].startswith("rt-")
    code, result, _ = run(capsys, "profiles", "check", "work", "--json")
    assert code == 0 and result["auth_mechanism"] == "XOAUTH2" and result["auth_verified"], result
    assert handler.seen_users == [USER, USER]  # the import's check, then profiles check: both as the user
