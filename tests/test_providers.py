"""The provider catalogue: shipped files, validation of broken files, lookups and error hints."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.core.catalog.checker import CatalogueError
from app.core.catalog.loader import (
    Catalogue,
    default_catalogue,
    load_catalogue,
    match_error_hint,
    user_providers_dir,
)
from app.core.catalog.model import PasswordKind, ProviderKind, UsernameRule
from app.core.catalog.serialize import provider_to_dict
from app.core.diagnosis.model import Action, Code, diagnose
from app.core.resources import resource_path

SHIPPED = resource_path("providers")
PRESETS = ("yandex", "gmail", "mailru", "outlook", "yahoo", "sendgrid", "mailtrap")


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture(autouse=True)
def fresh_default_catalogue():
    default_catalogue.cache_clear()
    yield
    default_catalogue.cache_clear()


def _is_https(url: str | None) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme == "https" and bool(parts.hostname)


# --- shipped catalogue -------------------------------------------------------------------------------


def test_every_shipped_file_validates(cat):
    assert cat.errors == []
    files = sorted(p.name for p in SHIPPED.glob("*.toml"))
    assert sorted(Path(p.source_file).name for p in cat.providers) == files
    assert len(files) >= 9


def test_required_providers_present_in_order(cat):
    ids = [p.id for p in cat.providers]
    for pid in (*PRESETS, "custom", "sandbox"):
        assert pid in ids
    kinds = [p.kind for p in cat.providers]
    # presets first, then custom, then sandbox
    assert kinds == sorted(kinds, key=[ProviderKind.PRESET, ProviderKind.CUSTOM, ProviderKind.SANDBOX].index)
    assert ids[-2:] == ["custom", "sandbox"]
    assert cat.by_id("custom").kind is ProviderKind.CUSTOM and cat.by_id("custom").smtp == ()


@pytest.mark.parametrize("pid", PRESETS)
def test_preset_has_endpoints_and_bilingual_guide(cat, pid):
    p = cat.by_id(pid)
    assert p is not None and p.kind is ProviderKind.PRESET
    assert p.smtp, "a preset needs at least one SMTP endpoint"
    for e in (*p.smtp, *p.imap, *p.pop3):
        assert 1 <= e.port <= 65535 and e.security in ("ssl", "starttls") and e.host
    assert set(p.name) >= {"ru", "en"}
    for lang in ("ru", "en"):
        guide = p.guide[lang]
        assert len(guide.steps) >= 3
        assert guide.result_hint
        assert all(step.text for step in guide.steps)
        assert any(step.link for step in guide.steps), "the guide links to the page where the secret is made"
        assert all(_is_https(step.link) for step in guide.steps if step.link)
        assert p.tips.get(lang)
    assert p.links and all(_is_https(url) for url in p.links.values())
    assert p.error_hints
    for hint in p.error_hints:
        assert Code(hint.code) and set(hint.fix) >= {"ru", "en"}
        assert hint.link is None or _is_https(hint.link)


def test_sandbox_entry_is_local_and_dynamic(cat):
    sb = cat.by_id("sandbox")
    assert sb.kind is ProviderKind.SANDBOX and sb.dynamic_ports
    assert sb.display_name("en") == "Local sandbox"
    assert {e.security for e in sb.smtp} == {"ssl", "starttls"}
    assert all(e.host == "127.0.0.1" and e.port == 0 for e in sb.smtp)
    assert sb.username_rule is UsernameRule.GENERATED


def test_provider_specific_rules(cat):
    assert cat.by_id("sendgrid").username_for("me@example.com") == "apikey"
    assert cat.by_id("sendgrid").password_kind is PasswordKind.API_KEY
    assert cat.by_id("gmail").strip_password_spaces is True
    assert cat.by_id("gmail").username_for("a@gmail.com") == "a@gmail.com"
    assert cat.by_id("mailtrap").username_for("a@b.c") == ""
    assert all(e.port != 465 or e.security == "starttls" for e in cat.by_id("mailtrap").smtp)
    yandex_smtp = [(e.host, e.port, e.security) for e in cat.by_id("yandex").smtp]
    assert yandex_smtp[0] == ("smtp.yandex.ru", 465, "ssl")
    assert "yandex.kz" in cat.by_id("yandex").domains and "narod.ru" in cat.by_id("yandex").domains


# --- lookups -----------------------------------------------------------------------------------------


def test_every_listed_domain_finds_its_provider(cat):
    checked = 0
    for p in cat.providers:
        for d in p.domains:
            assert cat.by_domain(d) is p, d
            assert cat.by_domain(d.upper() + ".") is p, d
            assert cat.by_email(f"Some.User@{d.upper()}") is p, d
            checked += 1
    assert checked > 60


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ivan@Yandex.RU", "yandex"),
        ("Ivan <ivan@ya.ru>", "yandex"),
        ("x@bk.ru", "mailru"),
        ("x@googlemail.com", "gmail"),
        ("x@hotmail.co.uk", "outlook"),
        ("x@ymail.com", "yahoo"),
        ("x@mail.yandex.ru", "yandex"),  # a subdomain of a listed domain
        ("x@notgmail.com", None),  # no dot boundary
        ("x@gmail.com.evil.example", None),
        ("x@example.com", None),
        ("no-at-sign", None),
        ("@gmail.com", None),
        ("x@", None),
    ],
)
def test_by_email(cat, address, expected):
    found = cat.by_email(address)
    assert (found.id if found else None) == expected


@pytest.mark.parametrize(
    ("mx", "expected"),
    [
        ("mx.yandex.net", "yandex"),
        ("mx.yandex.net.", "yandex"),
        ("MX.YANDEX.RU", "yandex"),
        ("aspmx.l.google.com", "gmail"),
        ("alt1.aspmx.l.google.com", "gmail"),
        ("smtp.google.com", "gmail"),
        ("aspmx2.googlemail.com", "gmail"),
        ("emx.mail.ru", "mailru"),
        ("mxs.mail.ru", "mailru"),
        ("contoso-com.mail.protection.outlook.com", "outlook"),
        ("hotmail-com.olc.protection.outlook.com", "outlook"),
        ("mta5.am0.yahoodns.net", "yahoo"),
        ("evilgoogle.com", None),
        ("mail.example.com", None),
        ("", None),
    ],
)
def test_by_mx(cat, mx, expected):
    found = cat.by_mx(mx)
    assert (found.id if found else None) == expected


def test_by_id_and_unknown(cat):
    assert cat.by_id("GMAIL").id == "gmail"
    assert cat.by_id("nope") is None
    assert cat.by_domain("") is None and cat.by_domain("com") is None


# --- broken and extra files ------------------------------------------------------------------------------

GOOD_EXTRA = """
id = "acme"
order = 5
domains = ["acme-mail.example"]
mx_patterns = ["*.mx.acme-mail.example"]
[name]
ru = "Акме"
en = "Acme"
[[smtp]]
host = "smtp.acme-mail.example"
port = 587
security = "starttls"
[links]
app = "https://acme-mail.example/app-passwords"
[guide.ru]
[[guide.ru.steps]]
text = "Откройте страницу"
link = "app"
[guide.en]
[[guide.en.steps]]
text = "Open the page"
link = "app"
[[errors]]
pattern = 'ACME-42'
code = "app_password_required"
fix.ru = "Нужен пароль приложения"
fix.en = "An app password is needed"
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_provider_needs_no_code_change(tmp_path):
    _write(tmp_path / "extra", "acme.toml", GOOD_EXTRA)
    cat = load_catalogue([tmp_path / "extra"])
    assert cat.errors == []
    acme = cat.by_email("boss@ACME-mail.example")
    assert acme is not None and acme.id == "acme" and acme.display_name("ru") == "Акме"
    assert cat.by_mx("in1.mx.acme-mail.example") is acme
    assert acme.guide["en"].steps[0].link == "https://acme-mail.example/app-passwords"
    assert match_error_hint(acme, "535 ACME-42 nope").code == "app_password_required"
    ids = [p.id for p in cat.providers]
    assert ids.index("acme") < ids.index("custom")  # extra presets still come before custom and sandbox
    assert cat.by_id("gmail") is not None  # shipped ones still there


def _errors_for(cat: Catalogue, file: str) -> dict[str, str]:
    return {e.field: e.message for e in cat.errors if e.file == file}


def test_broken_files_are_reported_and_skipped(tmp_path):
    extra = tmp_path / "extra"
    _write(extra, "acme.toml", GOOD_EXTRA)
    bad = GOOD_EXTRA.replace('"acme"', '"bad"').replace("acme-mail.example", "bad.example")
    _write(extra, "bad_port.toml", bad.replace("port = 587", "port = 70000"))
    _write(
        extra,
        "bad_many.toml",
        'colour = "blue"\n'
        + bad.replace('"bad"', '"bad2"')
        .replace("bad.example", "bad2.example")
        .replace('security = "starttls"', 'security = "tls"')
        .replace("https://", "http://")
        .replace("pattern = 'ACME-42'", "pattern = 'ACME-(42'")
        .replace('code = "app_password_required"', 'code = "no_such_code"')
        .replace('ru = "Акме"\n', ""),
    )
    _write(extra, "bad_toml.toml", "id = 'x'\n[name\n")
    _write(extra, "bad_types.toml", 'id = "types"\nname = "Types"\nsmtp = "smtp.example.com"\ndomains = [1]\n')
    _write(extra, "dup.toml", GOOD_EXTRA.replace("acme-mail.example", "other.example"))  # same id "acme"
    _write(
        extra, "dup_domain.toml", GOOD_EXTRA.replace('"acme"', '"acme2"').replace('"acme-mail.example"', '"gmail.com"')
    )
    _write(extra, "notes.txt", "not a provider")

    cat = load_catalogue([extra])  # must not raise

    assert all(isinstance(e, CatalogueError) for e in cat.errors)
    assert _errors_for(cat, "bad_port.toml") == {"smtp[0].port": "must be 1..65535"}
    assert (
        str(next(e for e in cat.errors if e.file == "bad_port.toml")) == "bad_port.toml: smtp[0].port: must be 1..65535"
    )
    many = _errors_for(cat, "bad_many.toml")
    assert set(many) >= {
        "smtp[0].security",
        "links.app",
        "errors[0].pattern",
        "errors[0].code",
        "name.ru",
        "colour",
    }
    assert "https" in many["links.app"] and "regular expression" in many["errors[0].pattern"]
    assert list(_errors_for(cat, "bad_toml.toml")) == [""]
    assert "not valid TOML" in _errors_for(cat, "bad_toml.toml")[""]
    types = _errors_for(cat, "bad_types.toml")
    assert set(types) >= {"name", "smtp", "domains[0]", "guide"}
    assert "duplicate id" in _errors_for(cat, "dup.toml")["id"]
    assert "gmail" in _errors_for(cat, "dup_domain.toml")["domains[0]"]

    ids = {p.id for p in cat.providers}
    assert "acme" in ids and not ids & {"bad", "bad2", "x", "types", "acme2"}
    assert set(PRESETS) <= ids  # the shipped ones still load
    assert cat.by_domain("other.example") is None  # the later duplicate was skipped, not merged
    assert cat.by_domain("gmail.com").id == "gmail"


def test_missing_extra_folder_is_reported(tmp_path):
    cat = load_catalogue([tmp_path / "nowhere"])
    assert [e.message for e in cat.errors if "not found" in e.message]
    assert cat.by_id("gmail") is not None


def test_base_dir_replaces_shipped_folder(tmp_path):
    _write(tmp_path / "only", "acme.toml", GOOD_EXTRA)
    cat = load_catalogue(base_dir=tmp_path / "only")
    assert [p.id for p in cat.providers] == ["acme"] and cat.errors == []


def test_preset_without_guide_or_smtp_is_rejected(tmp_path):
    _write(tmp_path / "x", "thin.toml", 'id = "thin"\n[name]\nru = "Т"\nen = "T"\n')
    cat = load_catalogue(base_dir=tmp_path / "x")
    errors = _errors_for(cat, "thin.toml")
    assert set(errors) == {"smtp", "guide"} and cat.providers == ()


def test_dynamic_ports_only_when_declared(tmp_path):
    text = GOOD_EXTRA.replace("port = 587", "port = 0")
    _write(tmp_path / "a", "acme.toml", text)
    assert "smtp[0].port" in _errors_for(load_catalogue(base_dir=tmp_path / "a"), "acme.toml")
    _write(tmp_path / "b", "acme.toml", "dynamic_ports = true\n" + text)
    cat = load_catalogue(base_dir=tmp_path / "b")
    assert cat.errors == [] and cat.by_id("acme").smtp[0].port == 0


def test_shipped_file_copy_with_one_error_names_file_and_field(tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    text = (SHIPPED / "gmail.toml").read_text(encoding="utf-8").replace("port = 465", "port = 0", 1)
    (folder / "gmail.toml").write_text(text, encoding="utf-8")
    shutil.copy(SHIPPED / "yandex.toml", folder / "yandex.toml")
    cat = load_catalogue(base_dir=folder)
    assert [str(e) for e in cat.errors] == ["gmail.toml: smtp[1].port: must be 1..65535"]
    assert [p.id for p in cat.providers] == ["yandex"]


# --- default catalogue -------------------------------------------------------------------------------------


def test_default_catalogue_is_cached_and_reads_user_folder():
    first = default_catalogue()
    assert default_catalogue() is first and first.errors == []
    _write(user_providers_dir(), "acme.toml", GOOD_EXTRA)
    default_catalogue.cache_clear()
    assert default_catalogue().by_domain("acme-mail.example").id == "acme"


# --- error hints ---------------------------------------------------------------------------------------------

REPLIES = [
    (
        "yandex",
        "535 5.7.8 Error: authentication failed: This user does not have access rights to this service",
        "auth_failed",
    ),
    ("yandex", "535 5.7.8 Error: authentication failed: Invalid user or password!", "auth_failed"),
    ("yandex", "553 5.7.1 Sender address rejected: not owned by auth user.", "sender_rejected"),
    (
        "gmail",
        "534-5.7.9 Application-specific password required. For more information, go to\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp",
        "app_password_required",
    ),
    (
        "gmail",
        "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp",
        "auth_failed",
    ),
    (
        "outlook",
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
        "auth_failed",
    ),
    (
        "outlook",
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [LO2P265CA0482.GBRP265.PROD.OUTLOOK.COM]",
        "auth_failed",
    ),
    (
        "outlook",
        "554 5.2.252 SendAsDenied; sender@contoso.com not allowed to send as other@contoso.com",
        "sender_rejected",
    ),
    (
        "mailru",
        "535 5.7.0 NEOBHODIM parol prilozheniya https://help.mail.ru/mail/security/protection/external / Application password is REQUIRED",
        "app_password_required",
    ),
    ("mailru", "550 not local sender over smtp", "sender_rejected"),
    ("yahoo", "535 5.7.0 (#AUTH005) Too many bad auth attempts.", "auth_failed"),
    ("sendgrid", "535 Authentication failed: Bad username / password", "auth_failed"),
    (
        "sendgrid",
        "550 The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.",
        "sender_rejected",
    ),
    ("mailtrap", "535 5.7.0 Invalid login or password", "auth_failed"),
]


@pytest.mark.parametrize(("pid", "reply", "code"), REPLIES)
def test_error_hints_match_real_replies(cat, pid, reply, code):
    hint = match_error_hint(cat.by_id(pid), reply)
    assert hint is not None and hint.code == code
    assert hint.fix["ru"] and hint.fix["en"]


def test_specific_hint_wins_and_unrelated_reply_has_none(cat):
    outlook = cat.by_id("outlook")
    tenant = match_error_hint(
        outlook, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
    )
    creds = match_error_hint(outlook, "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.")
    assert tenant is not creds and "Authenticated SMTP" in tenant.fix["en"]
    assert match_error_hint(cat.by_id("gmail"), "250 2.0.0 OK") is None
    assert match_error_hint(None, "535 anything") is None
    assert match_error_hint(cat.by_id("custom"), "535 anything") is None
    assert match_error_hint(cat.by_id("gmail"), "") is None


def test_provider_hints_refine_diagnosis(cat):
    from app.core.diagnosis import classify

    reply = "535 5.7.0 NEOBHODIM parol prilozheniya https://help.mail.ru/mail/security/protection/external / Application password is REQUIRED"
    base = diagnose(Code.AUTH_FAILED, "wrong_password", server_reply=reply, host="smtp.mail.ru")
    refined = classify.apply_provider_hints(base, cat.by_id("mailru"))
    assert refined.code is Code.APP_PASSWORD_REQUIRED and refined.variant == ""
    assert refined.params == {**base.params, "provider": "Mail.ru"} and refined.server_reply == reply
    assert "Mail.ru" in refined.render(lang="en")[2][0]
    assert "Mail.ru" in refined.render(lang="ru")[2][0]
    assert (
        Action("open_url", "Open the provider's page", {"url": cat.by_id("mailru").links["app_passwords"]})
        in refined.actions
    )
    unchanged = diagnose(Code.AUTH_FAILED, server_reply="535 something else")
    assert classify.apply_provider_hints(unchanged, cat.by_id("mailru")) is unchanged


def test_provider_to_dict_is_json_ready(cat):
    import json

    d = provider_to_dict(cat.by_id("gmail"), "ru", full=True)
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert d["smtp"][0] == {"host": "smtp.gmail.com", "port": 587, "security": "starttls"}
    assert len(d["guide"]["ru"]["steps"]) >= 3 and d["errors"]
