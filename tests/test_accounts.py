"""AccountStore: save / replace / rename / load / delete as one unit, against the real gnome-keyring.

Also the attacker's cases: parallel writers (20 processes), corrupt entries, a keyring that fails
half-way, a profile write that fails after the secrets went in, proxy passwords with URL syntax.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from app.core.model import Security, SmtpSettings, TlsOptions
from app.core.store import (
    OAUTH_SERVICE,
    PROXY_SERVICE,
    SERVICE,
    AccountStore,
    Profile,
    ProfileErrorKind,
    ProfileStore,
    ProfileStoreError,
    SecretErrorKind,
    SecretStore,
    SecretStoreError,
    sandbox_settings,
)

PASSWORD = "pä$$ 'w\"ord\\ 😀"
PROXY_PW = "p#w/?x@y:z% 1"  # unencoded URL syntax; a lone % is not an escape


OUR_NAMES = {"Work ✉", "a", "b", "old", "new ✓", "taken", "px"} | {f"p{i}" for i in range(20)}


def keyring_items(info) -> set[tuple[str, str]]:
    """(service, profile) of this module's MailSetup entries in the real Secret Service (read over D-Bus);
    entries other tests left under other names are not ours to judge or remove."""
    return {item for item in info.items("MailSetup") if item[1] in OUR_NAMES}


def settings(**kw) -> SmtpSettings:
    base = {"host": "smtp.example.test", "port": 587, "security": Security.STARTTLS, "username": "u@example.test"}
    base.update(kw)
    return SmtpSettings(**base)


@pytest.fixture
def accounts(tmp_path, secret_service):
    def clean() -> None:  # the keyring outlives a test: start and end without our names in it
        for service, name in keyring_items(secret_service):
            SecretStore().delete(name, service=service)

    clean()
    yield AccountStore(ProfileStore(tmp_path / "profiles.json"))
    clean()


def test_save_load_and_delete_leave_no_orphan(accounts, secret_service):
    proxy = "socks5://proxyuser:" + PROXY_PW + "@127.0.0.1:1080"
    saved = accounts.save(Profile("Work ✉", settings(proxy=proxy)), password=PASSWORD).profile
    assert saved.has_secret and saved.has_proxy_secret
    assert saved.secret_backend_id == "keyring.backends.SecretService.Keyring"
    text = accounts.path.read_text(encoding="utf-8")
    assert PROXY_PW not in text and "p%23w" not in text and PASSWORD not in text
    assert saved.settings.proxy == "socks5://proxyuser@127.0.0.1:1080"
    loaded = accounts.load("Work ✉")
    assert loaded.password == PASSWORD and loaded.proxy_password == PROXY_PW and loaded.missing == ()
    assert keyring_items(secret_service) == {(SERVICE, "Work ✉"), (PROXY_SERVICE, "Work ✉")}

    result = accounts.delete("Work ✉")
    assert set(result.removed) == {SERVICE, PROXY_SERVICE}
    assert keyring_items(secret_service) == set()
    assert accounts.list() == []
    # save again without a password: still nothing left over from the first life
    accounts.save(Profile("Work ✉", settings()), password=None)
    assert keyring_items(secret_service) == set()


def test_replace_is_explicit_and_drops_secrets_the_new_account_lacks(accounts, secret_service):
    accounts.save(Profile("a", settings(proxy="http://pu:pp@127.0.0.1:3128")), password="old")
    with pytest.raises(ProfileStoreError) as err:
        accounts.save(Profile("a", settings(host="other.example.test")), password="new")
    assert err.value.kind is ProfileErrorKind.EXISTS
    assert accounts.load("a").password == "old"  # the refused save changed nothing
    result = accounts.save(Profile("a", settings(host="other.example.test")), password=None, replace_existing=True)
    assert result.replaced and not result.profile.has_secret and result.stale_left == ()
    assert keyring_items(secret_service) == set()


def test_edit_without_new_password_keeps_the_stored_one(accounts, secret_service):
    accounts.save(Profile("a", settings(proxy="http://pu:pp@127.0.0.1:3128")), password="pw")
    saved = accounts.save(
        Profile("a", settings(port=2525, proxy="http://pu@127.0.0.1:3128")),
        replace_existing=True,
        keep_secrets=True,
    ).profile
    assert saved.has_secret and saved.has_proxy_secret and saved.settings.port == 2525
    loaded = accounts.load("a")
    assert (loaded.password, loaded.proxy_password) == ("pw", "pp")


def test_rename_moves_the_keyring_entries(accounts, secret_service):
    accounts.save(Profile("old", settings(proxy="http://pu:pp@127.0.0.1:3128")), password="pw")
    accounts.save(Profile("taken", settings()), password=None)
    with pytest.raises(ProfileStoreError) as err:
        accounts.rename("old", "taken")
    assert err.value.kind is ProfileErrorKind.EXISTS
    renamed = accounts.rename("old", "new ✓")
    assert renamed.name == "new ✓"
    assert keyring_items(secret_service) == {(SERVICE, "new ✓"), (PROXY_SERVICE, "new ✓")}
    assert accounts.load("new ✓").password == "pw"
    assert [p.name for p in accounts.list()] == ["new ✓", "taken"]


def test_failed_profile_write_rolls_the_secrets_back(accounts, secret_service, monkeypatch):
    accounts.save(Profile("a", settings()), password="before")

    def broken_save(*_a, **_kw):
        raise ProfileStoreError(ProfileErrorKind.WRITE_FAILED, "disk full")

    monkeypatch.setattr(accounts.profiles, "save", broken_save)
    with pytest.raises(ProfileStoreError):
        accounts.save(
            Profile("a", settings(proxy="http://pu:pp@127.0.0.1:3128")), password="after", replace_existing=True
        )
    with pytest.raises(ProfileStoreError):
        accounts.save(Profile("b", settings()), password="never")
    monkeypatch.undo()
    assert accounts.load("a").password == "before"
    assert keyring_items(secret_service) == {(SERVICE, "a")}
    assert [p.name for p in accounts.list()] == ["a"]


def test_delete_removes_an_oauth_grant_and_orphans_too(accounts, secret_service):
    accounts.save(Profile("a", settings()), password=None)
    SecretStore().set("a", '{"refresh_token": "r"}', service=OAUTH_SERVICE)  # e.g. left by an older version
    SecretStore().set("a", "orphan", service=SERVICE)
    result = accounts.delete("a")
    assert set(result.removed) == {SERVICE, OAUTH_SERVICE}
    assert keyring_items(secret_service) == set()


def test_secret_in_another_store_is_reported_as_moved(accounts, secret_service):
    profile = accounts.save(Profile("a", settings()), password="pw").profile
    doc = json.loads(accounts.path.read_text(encoding="utf-8"))
    doc["profiles"]["a"]["secret_backend_id"] = "keyring.backends.macOS.Keyring"
    doc["profiles"]["a"]["secret_backend"] = "macOS Keychain"
    accounts.path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SecretStoreError) as err:
        accounts.load("a")
    assert err.value.kind is SecretErrorKind.MOVED
    assert "macOS Keychain" in err.value.message and "Secret Service" in err.value.message
    assert profile.has_secret


def test_missing_password_is_listed_not_silently_none(accounts, secret_service):
    accounts.save(Profile("a", settings()), password="pw")
    SecretStore().delete("a")
    loaded = accounts.load("a")
    assert loaded.password is None and loaded.password_missing


def test_sandbox_profile_follows_the_running_sandbox(tmp_path):
    class Info:
        host, ssl_port, starttls_port, ca_file = "127.0.0.1", 40001, 40002, tmp_path / "ca.pem"

    s = sandbox_settings(settings(host="127.0.0.1", port=39999, security=Security.SSL), Info())
    assert (s.host, s.port, s.tls.cafile) == ("127.0.0.1", 40001, str(tmp_path / "ca.pem"))
    assert sandbox_settings(settings(port=1), Info()).port == 40002


# -- parallel writers ---------------------------------------------------------------------------------


def test_twenty_parallel_adds_keep_twenty_profiles_and_secrets(tmp_path, secret_service):
    import multiprocessing

    from tests.cli_child import run_cli

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.cli_child", "app.cli.main", "app.cli.commands.profiles", "keyring"])
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "MS_PW": "pw-parallel",
        "DBUS_SESSION_BUS_ADDRESS": secret_service.bus_address,
        "PYTHON_KEYRING_BACKEND": os.environ["PYTHON_KEYRING_BACKEND"],
    }
    argv = ["profiles", "add", "", "--host", "smtp.example.test", "--user", "u", "--password-env", "MS_PW"]
    procs = [ctx.Process(target=run_cli, args=(env, [*argv[:2], f"p{i}", *argv[3:], "--no-check"])) for i in range(20)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=90)
    assert [p.exitcode for p in procs] == [0] * 20
    store = ProfileStore(tmp_path / "config" / "mailsetup" / "profiles.json")
    assert sorted(p.name for p in store.list()) == sorted(f"p{i}" for i in range(20))
    names = {f"p{i}" for i in range(20)}
    assert secret_service.take(names) == {(SERVICE, name): "pw-parallel" for name in names}


# -- corrupt entries ------------------------------------------------------------------------------------

BAD_ENTRIES = {
    "settings-list": ('{"name": "x", "settings": [1]}', 'profile "x": settings: expected an object, found a list'),
    "port-1e400": (
        '{"name": "x", "settings": {"host": "h", "port": 1e400}}',
        'profile "x": settings.port: infinity is not a whole port number (1-65535)',
    ),
    "deep": ('{"name": "x", "settings": ' + "[" * 100000 + "]" * 100000 + "}", 'profile "x": a value is nested'),
    "not-object": ('"just text"', 'profile "x": expected an object, found text'),
    "timeout-nan": (
        '{"name": "x", "settings": {"host": "h", "port": 25, "timeouts": {"total": NaN}}}',
        'profile "x": settings.timeouts.total: nan is not a finite number',
    ),
    "tls-list": (
        '{"name": "x", "settings": {"host": "h", "port": 25, "tls": []}}',
        'profile "x": settings.tls: expected an object, found a list',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_a_corrupt_entry_is_reported_and_the_others_work(tmp_path, case, capsys, monkeypatch):
    from app.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = tmp_path / "mailsetup" / "profiles.json"
    path.parent.mkdir()
    good = Profile("good", settings()).to_dict()
    bad, expected = BAD_ENTRIES[case]
    text = '{"schema": 1, "profiles": {"good": ' + json.dumps(good) + ', "x": ' + bad + "}}"
    path.write_text(text, encoding="utf-8")
    store = ProfileStore(path)
    assert [p.name for p in store.list()] == ["good"]
    assert store.problems()["x"].startswith("profiles.json: " + expected)
    assert path.read_text(encoding="utf-8") == text  # reading rewrote nothing
    assert main(["profiles", "list"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("good\t") and expected in err and "Traceback" not in err
    assert main(["profiles", "show", "good"]) == 0
    assert main(["profiles", "export", "good", "--format", "json"]) == 0
    assert main(["profiles", "show", "x"]) == 1
    _, err = capsys.readouterr()
    assert expected in err
    # a change rewrites the file with the bad entry kept byte for byte
    assert main(["profiles", "add", "new", "--host", "smtp.example.test", "--no-check"]) == 0
    assert main(["profiles", "delete", "good"]) == 0
    capsys.readouterr()
    assert [p.name for p in store.list()] == ["new"] and "x" in store.problems()
    doc_text = path.read_text(encoding="utf-8")
    if case == "deep":
        assert doc_text.count("[") == 100000 and doc_text.count("]") == 100000  # every level kept
    else:
        assert json.loads(doc_text)["profiles"]["x"] == json.loads(bad)


def test_lock_timeout_is_a_clear_busy_error(tmp_path, monkeypatch):
    from filelock import FileLock

    from app.core.store import profiles as profiles_module

    monkeypatch.setattr(profiles_module, "LOCK_TIMEOUT", 0.2)
    store = ProfileStore(tmp_path / "profiles.json")
    other = FileLock(str(tmp_path / ".profiles.json.lock"))
    other.acquire()
    try:
        with pytest.raises(ProfileStoreError) as err:
            store.save(Profile("a", settings()))
    finally:
        other.release()
    assert err.value.kind is ProfileErrorKind.BUSY and "nothing was changed" in err.value.message
    assert not (tmp_path / "profiles.json").exists()


# -- secrets only through secret channels (CLI) ------------------------------------------------------


def test_cli_proxy_password_from_env_goes_to_the_keyring_only(tmp_path, secret_service, monkeypatch, capsys):
    from app.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PPW", "a%41#/?@:x")
    argv = ["profiles", "add", "px", "--host", "smtp.example.test", "--no-check"]
    assert main(argv + ["--proxy", "socks5://pu@127.0.0.1:1080", "--proxy-password-env", "PPW"]) == 0
    text = (tmp_path / "mailsetup" / "profiles.json").read_text(encoding="utf-8")
    assert "a%41" not in text and "#/?" not in text and "a%2541" not in text
    assert SecretStore().get("px", service=PROXY_SERVICE) == "a%41#/?@:x"  # literally what was given
    assert main(["profiles", "show", "px"]) == 0
    out, _ = capsys.readouterr()
    assert "socks5://pu@127.0.0.1:1080 (password stored)" in out and "a%41" not in out
    assert main(["profiles", "delete", "px"]) == 0
    assert keyring_items(secret_service) == set()


def test_cli_unencoded_proxy_password_in_url_never_reaches_the_file(tmp_path, monkeypatch, capsys):
    from app.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    argv = ["profiles", "add", "px", "--host", "smtp.example.test", "--no-check", "--save-without-password"]
    assert main(argv + ["--proxy", "socks5://pu:se#cr/et?@127.0.0.1:1080"]) == 0
    assert main(["profiles", "show", "px"]) == 0
    out, _ = capsys.readouterr()
    text = (tmp_path / "mailsetup" / "profiles.json").read_text(encoding="utf-8")
    for where in (text, out):
        assert "se#cr" not in where and "se%23cr" not in where and "cr/et" not in where


def test_cli_stdin_secrets_in_order_and_getpass_at_a_terminal(tmp_path, monkeypatch, capsys):
    import getpass
    import io

    from app.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    argv = ["profiles", "add", "p", "--host", "smtp.example.test", "--user", "u", "--no-check"]
    argv += ["--password-stdin", "--proxy", "http://pu@127.0.0.1:3128", "--proxy-password-stdin"]
    seen = []
    monkeypatch.setattr(sys, "stdin", io.StringIO("first line\nsecond line\n"))
    from app.cli import options

    args = options.argparse.Namespace(password_stdin=True, proxy_password_stdin=True, proxy="http://pu@h:1")
    assert options.read_password(args) == "first line"
    assert options.proxy_from_args(args) == "http://pu:second%20line@h:1"
    tty = io.StringIO("")
    tty.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", tty)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": seen.append(prompt) or "typed")
    args = options.argparse.Namespace(password_stdin=True)
    assert options.read_password(args) == "typed" and seen == ["Password: "]
    assert main(argv) == 1  # no secure keyring in this test: refused, nothing saved
    _, err = capsys.readouterr()
    assert "typed" not in err and not (tmp_path / "mailsetup" / "profiles.json").exists()
    assert seen == ["Password: ", "Password: ", "Proxy password: "]


def test_cli_rename_moves_the_secret(tmp_path, secret_service, monkeypatch, capsys):
    from app.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("MS_PW", "pw")
    assert (
        main(
            ["profiles", "add", "old", "--host", "smtp.example.test", "--user", "u", "--password-env", "MS_PW"]
            + ["--no-check"]
        )
        == 0
    )
    assert main(["profiles", "add", "taken", "--host", "smtp.example.test", "--no-check"]) == 0
    assert main(["profiles", "rename", "old", "taken"]) == 1
    assert main(["profiles", "rename", "old", "new ✓"]) == 0
    out, _ = capsys.readouterr()
    assert "Renamed profile 'old' to 'new ✓'." in out
    assert keyring_items(secret_service) == {(SERVICE, "new ✓")}
    assert main(["profiles", "delete", "new ✓"]) == 0
    assert keyring_items(secret_service) == set()


# -- the password store itself --------------------------------------------------------------------


def _unknown_backend():
    import keyring.backend
    from keyring.compat.properties import classproperty

    def not_for_detection(cls):
        raise RuntimeError("test double")

    return type(
        "UnknownKeyring",
        (keyring.backend.KeyringBackend,),
        {
            "__module__": "some_plugin.backend",
            "priority": classproperty(not_for_detection),
            "get_password": lambda self, s, u: None,
            "set_password": lambda self, s, u, p: None,
            "delete_password": lambda self, s, u: None,
        },
    )


def test_only_allowlisted_backends_are_used(monkeypatch):
    import keyring.core

    from app.core.store import SECURE_BACKENDS, is_secure_backend

    backend = _unknown_backend()()
    assert not is_secure_backend(backend) and "keyring.backends.SecretService.Keyring" in SECURE_BACKENDS
    monkeypatch.setattr(keyring.core, "load_env", lambda: backend)  # as if PYTHON_KEYRING_BACKEND named it
    with pytest.raises(SecretStoreError) as err:
        SecretStore().set("a", "pw")
    assert err.value.kind is SecretErrorKind.INSECURE_BACKEND
    assert "some_plugin.backend.UnknownKeyring" in err.value.message


def test_one_keyring_lane_per_process():
    """Calls from many threads and SecretStore objects never overlap inside the backend."""
    import threading

    import keyring.backend
    from keyring.compat.properties import classproperty

    state = {"inside": 0, "max": 0}
    guard = threading.Lock()

    def not_for_detection(cls):
        raise RuntimeError("test double")

    class CountingKeyring(keyring.backend.KeyringBackend):
        priority = classproperty(not_for_detection)

        def get_password(self, service, username):
            with guard:
                state["inside"] += 1
                state["max"] = max(state["max"], state["inside"])
            threading.Event().wait(0.005)  # long enough for another thread to try to get in
            with guard:
                state["inside"] -= 1
            return None

        set_password = delete_password = get_password  # type: ignore[assignment]

    threads = [threading.Thread(target=SecretStore(CountingKeyring()).get, args=(f"p{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert state == {"inside": 0, "max": 1}


def test_cli_checks_a_sandbox_profile_after_the_sandbox_restarted(tmp_path, monkeypatch, capsys):
    from app.cli.main import main
    from app.core.sandbox import SandboxServer

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = SandboxServer()
    info = server.start()
    server.stop()  # the port it had is gone now
    s = SmtpSettings(
        host=info.host,
        port=info.ssl_port,
        security=Security.SSL,
        username=info.username,
        tls=TlsOptions(cafile=str(info.ca_file)),
    )
    ProfileStore().save(Profile("Sandbox", s, sandbox=True))
    monkeypatch.setenv("SB_PW", info.password)
    assert main(["profiles", "check", "Sandbox", "--password-env", "SB_PW", "--json"]) == 0, capsys.readouterr()
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] is True and result["settings"]["port"] != info.ssl_port
