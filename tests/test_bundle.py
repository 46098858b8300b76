"""Rollout bundles (app.core.store.bundle, ``profiles export-bundle`` / ``import-bundle``): no secret by
construction, hostile bundles refused with exact messages, each entry validated, check-then-save decided in
core, and an end-to-end move through a real server and the real keyring."""

from __future__ import annotations

import asyncio
import io
import json
import os
import unicodedata

import pytest

from app.cli.main import main
from app.core.diagnosis import Code, Diagnosis
from app.core.model import IncomingProtocol, IncomingServer, Security, SmtpSettings, TlsOptions
from app.core.store import (
    MAX_BUNDLE_BYTES,
    AccountStore,
    BundleError,
    ImportStatus,
    Profile,
    ProfileStore,
    SecretStore,
    bundle_entry,
    import_bundle,
    parse_bundle,
    render_bundle,
)
from app.core.store.bundle import MAX_BUNDLE_ENTRIES

USER = "alice@example.test"
PASSWORD = "p@ss w'o\"rd $HOME\\ 😀"
PROXY_PASSWORD = "proxy-Secret-77"
TOKEN = "ya29.refresh-TOKEN-value"


def profile(name: str = "Office", **kw) -> Profile:
    settings = SmtpSettings(
        host="smtp.example.test",
        port=587,
        security=Security.STARTTLS,
        username=USER,
        proxy=f"socks5://proxyuser:{PROXY_PASSWORD}@10.0.0.1:1080",
        tls=TlsOptions(cafile="/etc/ssl/company-ca.pem"),
    )
    return Profile(name=name, settings=settings, from_addr=USER, provider_id="custom", **kw)


def doc(*entries: dict, version=1) -> str:
    return json.dumps({"format": "mailsetup-profile-bundle", "version": version, "profiles": list(entries)})


def entry(name: str = "Office", **over) -> dict:
    e = {
        "name": name,
        "settings": {"host": "smtp.example.test", "port": 587, "security": "starttls", "username": USER},
        "from_addr": USER,
        "needs_password": True,
    }
    e.update(over)
    return e


# -- no secret by construction -------------------------------------------------------------------


def test_bundle_carries_no_secret_whatever_the_profile_holds():
    hostile = profile(
        has_secret=True,
        has_proxy_secret=True,
        secret_backend="Secret Service",
        incoming=IncomingServer(IncomingProtocol.IMAP, "imap.example.test", 993, Security.SSL),
        extra={"oauth_token": TOKEN, "password": PASSWORD, "notes": PASSWORD},
    )
    text = render_bundle([hostile], app_version="9.9")
    for secret in (PASSWORD, PROXY_PASSWORD, TOKEN, "proxyuser", "socks5", "Secret Service"):
        assert secret not in text
    data = json.loads(text)
    assert (data["format"], data["version"], data["app_version"]) == ("mailsetup-profile-bundle", 1, "9.9")
    (e,) = data["profiles"]
    assert set(e) == {
        "name",
        "settings",
        "from_addr",
        "from_name",
        "provider_id",
        "incoming",
        "oauth",
        "needs_password",
    }
    assert "proxy" not in e["settings"] and e["settings"]["tls"]["cafile"] == "/etc/ssl/company-ca.pem"
    assert e["incoming"] == {"protocol": "imap", "host": "imap.example.test", "port": 993, "security": "ssl"}
    assert e["needs_password"] is True and e["oauth"] is None


def test_oauth_profile_carries_only_the_public_half_of_the_sign_in():
    p = profile(
        extra={
            "oauth": {
                "provider": "outlook",
                "client_id": "abc-123",
                "tenant": "contoso.com",
                "protocols": ["smtp"],
                "refresh_token": TOKEN,
                "client_secret": "cs-42",
            }
        }
    )
    e = bundle_entry(p)
    assert e["oauth"] == {"provider": "outlook", "client_id": "abc-123", "tenant": "contoso.com", "protocols": ["smtp"]}
    assert e["needs_password"] is False
    assert TOKEN not in json.dumps(e) and "cs-42" not in json.dumps(e)


@pytest.mark.parametrize(
    ("p", "message"),
    [
        (profile("a/b"), "The profile name 'a/b' contains a path separator ('/' or '\\'); rename it first."),
        (profile(sandbox=True), "'Office' is the local sandbox of this machine; it is not exported."),
    ],
)
def test_export_refuses_local_only_profiles(p, message):
    with pytest.raises(BundleError) as info:
        render_bundle([p])
    assert info.value.message == message


# -- hostile and corrupt bundles -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (doc(entry(), version=2), "The bundle has format version 2; this MailSetup reads version 1. "),
        (doc(entry(), version=True), "The bundle has format version True; this MailSetup reads version 1. "),
        (json.dumps({"format": "other", "version": 1, "profiles": []}), "This file is not a MailSetup profile bundle"),
        ("{not json", "The bundle is not valid JSON"),
        (b"\xff\xfe{}", "The bundle is not UTF-8 text"),
        ("[" * 5000 + "]" * 5000, "The bundle is nested too deeply"),
        (b" " * (MAX_BUNDLE_BYTES + 1), f"The bundle is larger than {MAX_BUNDLE_BYTES} bytes"),
        (doc(entry("../etc/passwd")), "The profile name '../etc/passwd' contains a path separator"),
        (doc(entry("a\\b")), "The profile name 'a\\b' contains a path separator"),
        (doc(entry("evil\x1b[2Jname")), "The profile name 'evil\\x1b[2Jname' in the bundle is refused: "),
        (doc(entry("line\u2028break")), "The profile name 'line\\u2028break' in the bundle is refused: "),
        (doc(entry(), entry()), "The profile 'Office' appears twice in the bundle; nothing was imported."),
        (
            doc(entry(unicodedata.normalize("NFC", "Café")), entry(unicodedata.normalize("NFD", "Café "))),
            "The profile 'Café' appears twice in the bundle",
        ),
        (doc(*[entry(f"n{i}") for i in range(MAX_BUNDLE_ENTRIES + 1)]), "The bundle lists 201 profiles; at most 200"),
        (doc({"settings": {}}), "Profile 1 of the bundle has no name."),
        (json.dumps({"format": "mailsetup-profile-bundle", "version": 1, "profiles": {}}), "The bundle has no list"),
    ],
)
def test_hostile_bundles_are_refused_whole(data, message):
    with pytest.raises(BundleError) as info:
        parse_bundle(data)
    assert info.value.message.startswith(message), info.value.message


def test_each_entry_is_validated_as_a_saved_profile():
    entries = parse_bundle(
        doc(
            entry("Good", password=PASSWORD, has_secret=True, secret_backend="x"),
            entry("BadPort", settings={"host": "smtp.example.test", "port": 70000, "security": "starttls"}),
            entry("BadSecurity", settings={"host": "smtp.example.test", "port": 587, "security": "tls1"}),
            entry("BadHost", settings={"host": "smtp example", "port": 587, "security": "ssl"}),
            entry("NoSettings", settings=[1]),
            entry("Relay", settings={"host": "relay.example.test", "port": 25, "security": "none"}),
        )
    )
    by = {e.name: e for e in entries}
    good = by["Good"].profile
    assert good is not None and not good.has_secret and good.secret_backend is None and by["Good"].needs_password
    assert "password" not in good.extra and "has_secret" not in good.extra
    assert by["BadPort"].profile is None and "port" in by["BadPort"].problem
    assert by["BadSecurity"].profile is None and "security" in by["BadSecurity"].problem
    assert by["BadHost"].profile is None and "not a valid server name" in by["BadHost"].problem
    assert by["NoSettings"].profile is None and by["NoSettings"].problem
    assert by["Relay"].profile is not None and not by["Relay"].needs_password


# -- the import's decisions (core) ---------------------------------------------------------------


class FakeCheck:
    def __init__(self, ok_hosts: set[str]):
        self.ok_hosts = ok_hosts
        self.calls: list[tuple[str, str | None]] = []

    async def __call__(self, p: Profile, secret: str | None):
        self.calls.append((p.name, secret))
        if p.settings.host in self.ok_hosts:
            return True, None
        return False, Diagnosis(Code.AUTH_FAILED, params={"host": p.settings.host, "user": p.settings.username})


def run_import(accounts, text, check, secrets=None, **kw):
    asked: list[str] = []

    def secret_for(e):
        asked.append(e.name)
        return (secrets or {}).get(e.name)

    return asyncio.run(import_bundle(parse_bundle(text), accounts, secret_for=secret_for, check=check, **kw)), asked


def relay(name: str, host: str) -> dict:
    return entry(name, settings={"host": host, "port": 25, "security": "none"}, needs_password=False)


def test_import_checks_then_saves_only_what_passed(tmp_path):
    accounts = AccountStore(ProfileStore(tmp_path / "profiles.json"))
    accounts.save(
        Profile(name="Taken", settings=SmtpSettings(host="old.example.test", port=25, security=Security.NONE))
    )
    text = doc(
        relay("Passes", "good.example.test"),
        relay("Fails", "bad.example.test"),
        relay("Taken", "good.example.test"),
        entry("NoPassword"),
        entry("Cloud", oauth={"provider": "outlook", "client_id": "abc-123", "tenant": "contoso.com"}),
        entry("Broken", settings={"host": "x", "port": "587x", "security": "ssl"}),
    )
    check = FakeCheck({"good.example.test"})
    outcomes, asked = run_import(accounts, text, check)
    got = {o.name: o.status for o in outcomes}
    assert got == {
        "Passes": ImportStatus.SAVED,
        "Fails": ImportStatus.CHECK_FAILED,
        "Taken": ImportStatus.EXISTS,
        "NoPassword": ImportStatus.NO_SECRET,
        "Cloud": ImportStatus.NEEDS_SIGN_IN,
        "Broken": ImportStatus.INVALID,
    }
    assert asked == ["NoPassword"]  # never for a taken name, an OAuth or a relay entry
    assert [c[0] for c in check.calls] == ["Passes", "Fails"]
    cloud = next(o for o in outcomes if o.name == "Cloud")
    assert cloud.message == "mailsetup oauth login Cloud --provider outlook --client-id abc-123 --tenant contoso.com"
    fails = next(o for o in outcomes if o.name == "Fails")
    assert fails.diagnosis.code is Code.AUTH_FAILED and not fails.saved
    assert sorted(p.name for p in accounts.list()) == ["Passes", "Taken"]
    assert accounts.get("Taken").settings.host == "old.example.test"


def test_replace_and_save_failed(tmp_path):
    accounts = AccountStore(ProfileStore(tmp_path / "profiles.json"))
    accounts.save(
        Profile(name="Taken", settings=SmtpSettings(host="old.example.test", port=25, security=Security.NONE))
    )
    text = doc(relay("Taken", "good.example.test"), relay("Fails", "bad.example.test"))
    outcomes, _ = run_import(accounts, text, FakeCheck({"good.example.test"}), replace_existing=True, save_failed=True)
    assert [(o.name, o.status, o.replaced) for o in outcomes] == [
        ("Taken", ImportStatus.SAVED, True),
        ("Fails", ImportStatus.SAVED_FAILED_CHECK, False),
    ]
    assert accounts.get("Taken").settings.host == "good.example.test"
    assert accounts.get("Fails") is not None


# -- the commands, end to end ------------------------------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_move_an_account_through_a_bundle(secret_service, smtp_server, capsys, tmp_path, monkeypatch):
    server = smtp_server("starttls", username=USER, password=PASSWORD)
    monkeypatch.setenv("MS_TEST_PW", PASSWORD)
    conn = ["--host", "127.0.0.1", "--port", str(server.port), "--security", "starttls", "--cafile", server.ca_file]
    conn += ["--timeout", "8", "--user", USER, "--password-env", "MS_TEST_PW"]
    assert run(capsys, "profiles", "add", "Work", *conn)[0] == 0
    bundle = tmp_path / "rollout.json"
    code, out, err = run(capsys, "profiles", "export-bundle", "Work", "--output", str(bundle))
    assert code == 0, out + err
    assert out == f"Wrote 1 profile(s) to {bundle} (settings only; no password, token or proxy).\n"
    text = bundle.read_text()
    assert PASSWORD not in text and (bundle.stat().st_mode & 0o777) == 0o600

    # the colleague's machine: no such profile yet; the wrong password first, then the right one
    assert run(capsys, "profiles", "delete", "Work")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-password\n"))
    code, out, err = run(capsys, "profiles", "import-bundle", str(bundle), "--passwords-stdin", "--json")
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert code == 1 and lines[0]["status"] == "check_failed" and lines[0]["diagnosis"]["code"] == "auth_failed"
    assert lines[-1] == {"event": "summary", "saved": 0, "not_saved": 1, "total": 1}
    assert AccountStore().get("Work") is None

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(capsys, "profiles", "import-bundle", str(bundle), "--passwords-stdin")
    assert code == 0, out + err
    assert out.splitlines() == ["✓ Work: checked and saved", "1 of 1 account(s) saved."]
    assert PASSWORD not in out + err
    assert SecretStore().get("Work") == PASSWORD
    assert AccountStore().get("Work").settings.port == server.port

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, _ = run(capsys, "profiles", "import-bundle", str(bundle), "--passwords-stdin")
    assert code == 1 and out.splitlines()[0] == (
        "✗ Work: not imported: a profile of that name exists (--replace overwrites it)"
    )


def test_command_errors(capsys, tmp_path):
    code, out, err = run(capsys, "profiles", "export-bundle", "Nope", "--output", str(tmp_path / "b.json"))
    assert code == 1 and "There is no saved profile called 'Nope'" in err
    assert not (tmp_path / "b.json").exists()
    code, out, err = run(capsys, "profiles", "export-bundle", "Nope", "--output", str(tmp_path / "b.json"), "--json")
    result = json.loads(out)
    assert code == 1 and (result["event"], result["ok"], result["code"]) == ("result", False, "profile_not_found")
    bad = tmp_path / "bad.json"
    bad.write_text(doc(entry(), version=7))
    code, out, err = run(capsys, "profiles", "import-bundle", str(bad))
    assert code == 2 and err.startswith("Nothing imported: The bundle has format version 7;")
    code, out, err = run(capsys, "profiles", "import-bundle", str(tmp_path / "missing.json"))
    assert code == 2 and err.startswith("Cannot read ")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    ProfileStore().save(
        Profile(name="R", settings=SmtpSettings(host="relay.example.test", port=25, security=Security.NONE))
    )
    code, out, err = run(capsys, "profiles", "export-bundle", "R", "--output", str(fifo))
    assert code == 2 and out == "" and err.startswith("Not written: ")


def test_terminal_import_prompts_for_each_password_without_echo(capsys, tmp_path, monkeypatch):
    from tests.fixtures.smtp_servers import free_port

    port = free_port()  # nothing listens: the check fails at once (loopback only)
    settings = {"host": "127.0.0.1", "port": port, "security": "ssl", "username": USER, "timeouts": {"total": 5}}
    bundle = tmp_path / "b.json"
    other = {"host": "127.0.0.1", "port": free_port(), "security": "none", "timeouts": {"total": 5}}
    bundle.write_text(doc(entry("Tty", settings=settings), entry("Other", settings=other)))
    prompts: list[str] = []

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or PASSWORD)
    code, out, err = run(capsys, "profiles", "import-bundle", str(bundle), "--json")
    assert prompts == [f"Password for {USER} (Tty): "]
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert [(ln.get("profile"), ln.get("status")) for ln in lines[:2]] == [
        ("Tty", "check_failed"),
        ("Other", "check_failed"),
    ]
    assert code == 1 and PASSWORD not in out + err


class SignedFor:
    """What app.core.oauth.sign_in_profile hands back: the token to check with and how to save."""

    def __init__(self, entry, saves: list[str]):
        self.entry, self.saves, self.secret = entry, saves, "at-" + entry.name

    def save(self, accounts):
        self.saves.append(self.entry.name)
        return accounts.save(self.entry.profile).profile


def test_oauth_entries_sign_in_then_check_then_save(tmp_path):
    accounts = AccountStore(ProfileStore(tmp_path / "profiles.json"))
    cloud = {"provider": "outlook", "client_id": "abc-123"}
    text = doc(
        entry("Good", settings={"host": "good.example.test", "port": 587, "security": "starttls"}, oauth=cloud),
        entry("Bad", settings={"host": "bad.example.test", "port": 587, "security": "starttls"}, oauth=cloud),
        entry("Refused", settings={"host": "good.example.test", "port": 587, "security": "starttls"}, oauth=cloud),
    )
    saves: list[str] = []

    async def sign_in(e):
        return "access denied by the user" if e.name == "Refused" else SignedFor(e, saves)

    check = FakeCheck({"good.example.test"})
    outcomes, asked = run_import(accounts, text, check, sign_in=sign_in)
    assert {o.name: o.status for o in outcomes} == {
        "Good": ImportStatus.SAVED,
        "Bad": ImportStatus.CHECK_FAILED,
        "Refused": ImportStatus.SIGN_IN_FAILED,
    }
    assert check.calls == [("Good", "at-Good"), ("Bad", "at-Bad")]  # checked with the token, before saving
    assert saves == ["Good"] and [p.name for p in accounts.list()] == ["Good"]
    assert asked == []  # an OAuth account is never asked for a password
    assert next(o for o in outcomes if o.name == "Refused").message == "access denied by the user"
