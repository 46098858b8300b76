"""``mailsetup providers`` and ``mailsetup providers show ID``."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from app.cli.commands import providers as providers_cmd
from app.core.catalog.loader import default_catalogue, user_providers_dir


@pytest.fixture(autouse=True)
def fresh_default_catalogue():
    default_catalogue.cache_clear()
    yield
    default_catalogue.cache_clear()


def run_cli(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="mailsetup")
    sub = parser.add_subparsers(dest="command")
    providers_cmd.register(sub)
    args = parser.parse_args(["providers", *argv])
    out, err = io.StringIO(), io.StringIO()
    rc = args.func(args, out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def test_list_json_parses_with_all_fields():
    rc, out, err = run_cli("--json", "--lang", "en")
    assert rc == 0 and err == ""
    data = json.loads(out)
    ids = [p["id"] for p in data]
    assert ids[:1] == ["yandex"] and ids[-2:] == ["custom", "sandbox"]
    assert {"gmail", "mailru", "outlook", "yahoo", "sendgrid", "mailtrap"} <= set(ids)
    gmail = next(p for p in data if p["id"] == "gmail")
    for key in ("name", "domains", "smtp", "imap", "pop3", "username_rule", "password_kind", "links"):
        assert key in gmail
    assert gmail["smtp"][0] == {"host": "smtp.gmail.com", "port": 587, "security": "starttls"}
    assert gmail["links"]["app_passwords"].startswith("https://")
    assert next(p for p in data if p["id"] == "sendgrid")["username_literal"] == "apikey"


def test_list_json_in_russian():
    rc, out, _ = run_cli("--json", "--lang", "ru")
    names = {p["id"]: p["name"] for p in json.loads(out)}
    assert rc == 0 and names["yandex"] == "Яндекс Почта" and names["sandbox"] == "Локальная песочница"


def test_list_human_table_shows_endpoints():
    rc, out, _ = run_cli("--lang", "en")
    lines = out.splitlines()
    assert rc == 0 and lines[0].split()[:3] == ["ID", "NAME", "SMTP"]
    yandex = next(line for line in lines if line.startswith("yandex "))
    assert "smtp.yandex.ru ssl 465, starttls 587" in yandex and "app password" in yandex
    assert "literally apikey" in next(line for line in lines if line.startswith("sendgrid "))
    assert len(lines) == 1 + len(default_catalogue().providers) and len(lines) >= 1 + 10


def test_show_json_includes_guide():
    rc, out, _ = run_cli("show", "gmail", "--json")
    d = json.loads(out)
    assert rc == 0 and d["id"] == "gmail"
    assert len(d["guide"]["en"]["steps"]) >= 3 and len(d["guide"]["ru"]["steps"]) >= 3
    assert d["errors"] and d["tips"]["en"]


def test_parent_json_flag_applies_to_show():
    rc, out, _ = run_cli("--json", "show", "yandex")
    assert rc == 0 and json.loads(out)["id"] == "yandex"


def test_show_human_guide_in_russian():
    rc, out, _ = run_cli("show", "yandex", "--lang", "ru")
    assert rc == 0
    assert out.startswith("Яндекс Почта (yandex)")
    assert "  1. " in out and "  3. " in out
    assert "https://id.yandex.ru/security/app-passwords" in out
    assert "smtp.yandex.ru:465 ssl" in out


def test_show_unknown_id_is_usage_error():
    rc, out, err = run_cli("show", "nosuch")
    assert rc == 2 and out == ""
    assert "nosuch" in err and "gmail" in err


def test_catalogue_errors_go_to_stderr_as_warnings():
    folder = user_providers_dir()
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text(
        'id = "broken"\n[[smtp]]\nhost = "x.example"\nport = 99999\nsecurity = "ssl"\n', encoding="utf-8"
    )
    rc, out, err = run_cli("--json")
    assert rc == 0
    assert "warning" in err and "broken.toml: smtp[0].port: must be 1..65535" in err
    assert "gmail" in {p["id"] for p in json.loads(out)}  # the rest still listed


def test_through_main_entry_point(capsys):
    from app.cli.main import main

    rc = main(["providers", "--json"])
    out = capsys.readouterr().out
    assert rc == 0 and len(json.loads(out)) >= 9
