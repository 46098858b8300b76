"""The incoming server in saved profiles: stored, exported where the format has a place, re-checked."""

from __future__ import annotations

import json

import pytest

from app.cli.main import main
from app.core.model import IncomingProtocol, IncomingServer, Security, SmtpSettings
from app.core.store import Profile, ProfileStore, ProfileStoreError, render_export
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER

SMTP = SmtpSettings(host="smtp.example.test", port=465, security=Security.SSL, username="me@example.test")
IMAP = IncomingServer(IncomingProtocol.IMAP, "imap.example.test", 993, Security.SSL)


def test_profile_keeps_the_incoming_server():
    profile = Profile(name="work", settings=SMTP, incoming=IMAP)
    data = profile.to_dict()
    assert data["incoming"] == {"protocol": "imap", "host": "imap.example.test", "port": 993, "security": "ssl"}
    assert Profile.from_dict(data).incoming == IMAP
    assert Profile.from_dict({**data, "incoming": None}).incoming is None


@pytest.mark.parametrize(
    "bad",
    [
        {"protocol": "nntp", "host": "x.test", "port": 119, "security": "ssl"},
        {"protocol": "imap", "host": "bad host\r\nX: y", "port": 993, "security": "ssl"},
        {"protocol": "imap", "host": "x.test", "port": 70000, "security": "ssl"},
        "imap.example.test",
    ],
)
def test_a_corrupt_incoming_entry_is_a_clear_profile_error(bad):
    data = {**Profile(name="work", settings=SMTP).to_dict(), "incoming": bad}
    with pytest.raises(ProfileStoreError, match="incoming"):
        Profile.from_dict(data)


def test_exports_carry_the_incoming_server_where_the_format_has_a_place():
    profile = Profile(name="work", settings=SMTP, incoming=IMAP)
    env = render_export(profile, "env", password="s3cret")
    assert "IMAP_HOST=imap.example.test\nIMAP_PORT=993\nIMAP_SECURITY=ssl\nIMAP_USER=me@example.test\n" in env
    assert env.count("s3cret") == 1  # only SMTP_PASS; the incoming side says it is the same
    data = json.loads(render_export(profile, "json"))
    assert data["incoming"]["host"] == "imap.example.test" and data["host"] == "smtp.example.test"
    assert "IMAP" not in render_export(profile, "smtplib")
    pop = Profile(
        name="p", settings=SMTP, incoming=IncomingServer(IncomingProtocol.POP3, "pop.example.test", 995, Security.SSL)
    )
    assert "POP3_HOST=pop.example.test" in render_export(pop, "env")


def test_profiles_check_checks_the_incoming_side_too(dovecot, dovecot_mta, capsys, monkeypatch):
    monkeypatch.setenv("MS_TEST_PW", TEST_PASSWORD)
    settings = dovecot_mta.settings(username=TEST_USER)
    incoming = IncomingServer(IncomingProtocol.IMAP, dovecot.host, dovecot.port("imap", "ssl"), Security.SSL)
    ProfileStore().save(Profile(name="local", settings=settings, incoming=incoming))
    assert main(["profiles", "check", "local", "--password-env", "MS_TEST_PW", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["ok"] is True and result["incoming"]["ok"] is True and result["incoming"]["protocol"] == "imap"
    # the incoming side failing fails the whole check, with its diagnosis
    wrong = IncomingServer(IncomingProtocol.POP3, dovecot.host, dovecot.port("imap", "ssl"), Security.SSL)
    ProfileStore().save(Profile(name="local", settings=settings, incoming=wrong))
    assert main(["profiles", "check", "local", "--password-env", "MS_TEST_PW", "--json"]) == 1
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["code"] == "protocol_error" and result["incoming"]["diagnosis"]["variant"] == "wrong_protocol"


def test_the_incoming_server_is_the_providers_only_for_its_own_smtp_server():
    from app.core.catalog import load_catalogue
    from app.core.incoming import incoming_server_for

    yandex = load_catalogue().by_id("yandex")
    own = SmtpSettings(host="smtp.yandex.ru", port=465, security=Security.SSL, username="me@yandex.ru")
    assert incoming_server_for(yandex, own) == IncomingServer(
        IncomingProtocol.IMAP, "imap.yandex.ru", 993, Security.SSL
    )
    assert incoming_server_for(yandex, own.with_(host="127.0.0.1")) is None  # a server typed by hand
    assert incoming_server_for(None, own) is None
    sandbox = next(p for p in load_catalogue().providers if p.dynamic_ports)
    assert incoming_server_for(sandbox, own) is None
