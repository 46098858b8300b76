"""Dated, sourced catalogue facts: ISPDB domains, MX patterns, limits with numbers, date-dependent notices,
and the loader's checks of every new field (file: field: problem)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from app.core.catalog import load_catalogue, match_error_hint, provider_to_dict
from app.core.catalog.facts import ispdb_snapshot
from app.core.catalog.model import LimitKind, ProviderKind
from app.core.resources import resource_path


@pytest.fixture(scope="module")
def cat():
    c = load_catalogue()
    assert c.errors == []
    return c


# --- data fixes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mx", "pid"),
    [
        ("mx-aol.mail.gm0.yahoodns.net", "aol"),
        ("MX-AOL.MAIL.GM0.YAHOODNS.NET.", "aol"),
        ("mta5.am0.yahoodns.net", "yahoo"),
        ("mta7.am0.yahoodns.net", "yahoo"),
        ("contoso-com.d-v1.mx.microsoft", "outlook"),
        ("contoso-com.mail.protection.outlook.com", "outlook"),
        ("eur.olc.protection.outlook.com", "outlook"),
    ],
)
def test_mx_patterns_pick_the_right_provider(cat, mx, pid):
    assert cat.by_mx(mx).id == pid


def test_mx_microsoft_needs_the_dot_boundary(cat):
    assert cat.by_mx("evil-mx.microsoft.example.com") is None
    assert cat.by_mx("mx.microsoft") is None


@pytest.mark.parametrize(
    ("domain", "pid"),
    [
        ("aol.com", "aol"),
        ("aim.com", "aol"),
        ("aol.co.uk", "aol"),
        ("myyahoo.com", "yahoo"),
        ("cox.net", "yahoo"),
        ("yahoo.co.uk", "yahoo"),
        ("contoso.onmicrosoft.com", "outlook"),
        ("office365.com", "outlook"),
        ("livemail.tw", "outlook"),
        ("passport.com", "outlook"),
        ("yandex.net", "yandex"),
        ("yandex.com.tr", "yandex"),
        ("googlemail.com", "gmail"),
    ],
)
def test_domains(cat, domain, pid):
    assert cat.by_domain(domain).id == pid


def test_aol_is_its_own_preset_on_smtp_aol_com(cat):
    aol = cat.by_id("aol")
    assert aol.kind is ProviderKind.PRESET
    assert (aol.smtp[0].host, aol.smtp[0].port, aol.smtp[0].security) == ("smtp.aol.com", 465, "ssl")
    assert all(e.host != "smtp.mail.yahoo.com" for e in aol.smtp)
    assert "aol.com" not in cat.by_id("yahoo").domains


# ISPDB names smtp.yandex.com; Yandex Help (our source) names smtp.yandex.ru: the same Yandex service.
SAME_HOST = {"smtp.yandex.com": "smtp.yandex.ru"}


def test_every_ispdb_domain_is_known_with_ispdb_smtp_host(cat):
    files = ispdb_snapshot()["files"]
    seen_files = set()
    for p in cat.providers:
        for name in p.ispdb:
            seen_files.add(name)
            entry = files[name]
            for d in entry["domains"]:
                assert cat.by_domain(d) is p, (name, d)
            hosts = {e.host for e in p.smtp}
            assert {SAME_HOST.get(s["host"], s["host"]) for s in entry["smtp"]} & hosts, (p.id, name, hosts)
    assert {"hotmail.com", "office365.com", "yahoo.com", "aol.com", "yandex.ru", "googlemail.com"} <= seen_files


def test_outlook_has_every_ispdb_consumer_domain(cat):
    outlook = cat.by_id("outlook")
    hotmail = ispdb_snapshot()["files"]["hotmail.com"]["domains"]
    assert len(hotmail) >= 100
    assert set(hotmail) <= set(outlook.domains)
    assert {"onmicrosoft.com", "office365.com"} <= set(outlook.domains)
    assert "olc.protection.outlook.com" not in outlook.domains  # an MX name, not a mail domain


def test_snapshot_is_dated_and_names_its_commit():
    data = json.loads((resource_path("ispdb") / "snapshot.json").read_text(encoding="utf-8"))
    assert len(data["commit"]) == 40 and data["generated"][:2] == "20"
    assert data["source"].startswith("https://github.com/thunderbird/autoconfig")


def test_5_7_30_reply_gets_the_outlook_hint(cat):
    reply = "550 5.7.30 Basic authentication is not supported for Client Submission."
    hint = match_error_hint(cat.by_id("outlook"), reply)
    assert hint is not None and hint.code == "auth_failed"
    assert "OAuth" in hint.fix["en"] and "OAuth" in hint.fix["ru"]


@pytest.mark.parametrize(
    ("day", "expect", "absent"),
    [
        (date(2026, 12, 5), "Until the end of December 2026", "Since the end of December 2026"),
        (date(2026, 12, 31), "Until the end of December 2026", "Since the end of December 2026"),
        (date(2027, 1, 1), "Since the end of December 2026", "Until the end of December 2026"),
        (date(2030, 6, 1), "Since the end of December 2026", "Until the end of December 2026"),
    ],
)
def test_outlook_basic_auth_advice_depends_on_the_date(cat, day, expect, absent):
    tips = cat.by_id("outlook").tips_for("en", day)
    assert any(t.startswith(expect) for t in tips)
    assert not any(t.startswith(absent) for t in tips)
    assert any("created after December 2026" in t for t in tips)


def test_russian_notice_follows_the_date_too(cat):
    before = cat.by_id("outlook").tips_for("ru", date(2026, 12, 31))
    after = cat.by_id("outlook").tips_for("ru", date(2027, 1, 1))
    assert any(t.startswith("До конца декабря 2026") for t in before)
    assert any(t.startswith("С конца декабря 2026") for t in after)


def _limit(p, kind):
    return next(lim for lim in p.limits if lim.kind is kind)


def test_limits_carry_numbers_dates_and_sources(cat):
    yandex, gmail = cat.by_id("yandex"), cat.by_id("gmail")
    assert _limit(yandex, LimitKind.MESSAGES_PER_DAY).value == 500
    assert _limit(yandex, LimitKind.RECIPIENTS_PER_MESSAGE).value == 35
    assert _limit(gmail, LimitKind.RECIPIENTS_PER_MESSAGE).value == 100
    workspace = _limit(gmail, LimitKind.MESSAGES_PER_DAY)
    assert workspace.value == 2000 and workspace.scope == "Google Workspace"
    for p in cat.providers:
        for lim in p.limits:
            assert lim.source and lim.checked <= date.today()
            assert set(lim.text) >= {"ru", "en"}


def test_limits_are_shown_as_tips(cat):
    tips = cat.by_id("yandex").tips_for("en")
    assert any("500" in t for t in tips) and any("35" in t for t in tips)


def test_yandex_app_password_reset_tip(cat):
    tips = cat.by_id("yandex").tips_for("en")
    assert any("deletes app passwords" in t and "password changes" in t for t in tips)
    assert any("удаляет пароли приложений" in t for t in cat.by_id("yandex").tips_for("ru"))


def test_mailtrap_names_the_bulk_host(cat):
    for lang in ("ru", "en"):
        assert any("bulk.smtp.mailtrap.io" in t for t in cat.by_id("mailtrap").tips_for(lang))


def test_every_preset_cites_sources(cat):
    for p in cat.presets:
        assert p.sources, p.id
        assert p.audience in ("personal", "business", "developer"), p.id


def test_full_dict_has_the_facts(cat):
    d = provider_to_dict(cat.by_id("outlook"), full=True)
    assert d["notices"][0]["valid_until"] == "2026-12-31" and d["notices"][1]["since"] == "2027-01-01"
    assert d["limits"][0]["checked"] and d["sources"] and d["ispdb"] == ["hotmail.com", "office365.com"]
    json.dumps(d)  # JSON-ready


# --- validation of the new fields -----------------------------------------------------------------------

BASE = """
id = "acme"
kind = "preset"
sources = ["https://acme.example/docs"]
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


def _errors(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "acme.toml").write_text(text, encoding="utf-8")
    return [str(e) for e in load_catalogue(base_dir=tmp_path).errors]


def test_base_file_is_valid(tmp_path):
    assert _errors(tmp_path, BASE) == []


@pytest.mark.parametrize(
    ("top", "tail", "expected"),
    [
        ("", "", None),
        ('audience = "everyone"\n', "", "acme.toml: audience: must be one of personal, business, developer"),
        ('ispdb = ["nosuch.example"]\n', "", "acme.toml: ispdb[0]: 'nosuch.example' is not in the bundled ISPDB"),
        (
            "",
            '[[notices]]\nvalid_until = "2026-12-31"\nsource = "x"\ntext.ru = "a"\ntext.en = "b"\n',
            "acme.toml: notices[0].valid_until: must be a TOML date such as 2026-12-31",
        ),
        (
            "",
            '[[notices]]\nsince = 2027-01-01\nvalid_until = 2026-12-31\nsource = "x"\ntext.ru = "a"\ntext.en = "b"\n',
            "acme.toml: notices[0].valid_until: 2026-12-31 is before since (2027-01-01)",
        ),
        (
            "",
            '[[notices]]\nsource = "x"\ntext.ru = "a"\ntext.en = "b"\n',
            "acme.toml: notices[0]: needs since or valid_until",
        ),
        (
            "",
            '[[notices]]\nsince = 2027-01-01\nsource = "x"\ntext.en = "b"\n',
            "acme.toml: notices[0].text.ru: is required",
        ),
        (
            "",
            '[[notices]]\nsince = 2027-01-01T10:00:00\nsource = "x"\ntext.ru = "a"\ntext.en = "b"\n',
            "acme.toml: notices[0].since: must be a TOML date",
        ),
        (
            "",
            '[[limits]]\nkind = "messages_per_day"\nvalue = 500\nsource = "x"\nchecked = 2026-12-05\n'
            'text.ru = "до 500 писем"\ntext.en = "about five hundred"\n',
            "acme.toml: limits[0].text.en: does not state the value 500",
        ),
        (
            "",
            '[[limits]]\nkind = "per_fortnight"\nvalue = 5\nsource = "x"\nchecked = 2026-12-05\n'
            'text.ru = "5"\ntext.en = "5"\n',
            "acme.toml: limits[0].kind: must be one of messages_per_day",
        ),
        (
            "",
            '[[limits]]\nkind = "messages_per_day"\nvalue = -5\nsource = "x"\nchecked = 2026-12-05\n'
            'text.ru = "5"\ntext.en = "5"\n',
            "acme.toml: limits[0].value: must be a positive number",
        ),
        (
            "",
            '[[limits]]\nkind = "messages_per_day"\nvalue = 5\nsource = "x"\ntext.ru = "5"\ntext.en = "5"\n',
            "acme.toml: limits[0].checked: is required",
        ),
        (
            "",
            '[[limits]]\nkind = "messages_per_day"\nvalue = 5\nchecked = 2026-12-05\ntext.ru = "5"\ntext.en = "5"\n'
            "colour = 1\n",
            "acme.toml: limits[0].colour: unknown field (typo?)",
        ),
        (
            "",
            '[[limits]]\nkind = "messages_per_day"\nvalue = 5\nsource = "http://acme.example/limits"\n'
            'checked = 2026-12-05\ntext.ru = "5"\ntext.en = "5"\n',
            "acme.toml: limits[0].source: must be an https URL",
        ),
    ],
)
def test_bad_fact_fields_are_reported(tmp_path, top, tail, expected):
    text = BASE.replace('kind = "preset"\n', 'kind = "preset"\n' + top, 1) + tail
    errors = _errors(tmp_path, text)
    if expected is None:
        assert errors == []
    else:
        assert any(e.startswith(expected) for e in errors), errors


def test_sources_are_optional_for_own_files_but_never_empty(tmp_path):
    assert _errors(tmp_path, BASE.replace('sources = ["https://acme.example/docs"]\n', "")) == []
    errors = _errors(tmp_path, BASE.replace('sources = ["https://acme.example/docs"]', "sources = []"))
    assert errors == ["acme.toml: sources: needs at least one source"]


def test_source_url_must_be_https(tmp_path):
    errors = _errors(tmp_path, BASE.replace("https://acme.example/docs", "http://acme.example/docs"))
    assert any(e.startswith("acme.toml: sources[0]: must be an https URL") for e in errors), errors


def test_ispdb_domain_taken_twice_is_reported(tmp_path):
    first = BASE.replace('kind = "preset"\n', 'kind = "preset"\nispdb = ["aol.com"]\n', 1)
    (tmp_path / "a.toml").write_text(first, encoding="utf-8")
    second = first.replace('id = "acme"', 'id = "acme2"')
    (tmp_path / "b.toml").write_text(second, encoding="utf-8")
    errors = [str(e) for e in load_catalogue(base_dir=tmp_path).errors]
    assert any(e.startswith("b.toml: domains[") and "already belongs to provider 'acme'" in e for e in errors)


def test_limit_numbers_with_separators_count(tmp_path):
    tail = (
        '[[limits]]\nkind = "recipients_per_day"\nvalue = 10000\nsource = "x"\nchecked = 2026-12-05\n'
        'text.ru = "до 10 000 получателей"\ntext.en = "up to 10,000 recipients"\n'
    )
    assert _errors(tmp_path, BASE + tail) == []


def test_every_snapshot_file_is_used_and_region_domains_get_region_hosts(cat):
    files = ispdb_snapshot()["files"]
    used = set()
    for p in cat.providers:
        used.update(p.ispdb)
        for region in p.regions:
            used.update(region.ispdb)
            for name in region.ispdb:
                for d in files[name]["domains"]:
                    found = cat.by_domain(d)
                    assert found.id == p.id and found.region == region.id, (name, d)
                hosts = {e.host for e in region.smtp}
                assert {s["host"] for s in files[name]["smtp"]} <= hosts, (p.id, region.id, hosts)
    assert set(files) - used == {"messagingengine.com"}  # Fastmail's MX domain: its pattern is in fastmail.toml
