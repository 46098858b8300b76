"""``mailsetup profiles ...`` end to end: real aiosmtpd server (STARTTLS + AUTH), real keyring or none."""

from __future__ import annotations

import io
import json
import stat
import sys

import pytest

from app.cli.main import main
from app.core.store.profiles import ProfileStore
from app.core.store.secrets import SERVICE, SecretStore
from tests.fixtures.smtp_servers import free_port

USER = "alice@example.test"
PASSWORD = "p@ss w'o\"rd $HOME\\ 😀"


@pytest.fixture
def cli_server(smtp_server):
    """A real aiosmtpd STARTTLS server (tests/fixtures/smtp_servers.py) accepting USER / PASSWORD."""
    return smtp_server("starttls", username=USER, password=PASSWORD)


def conn_args(server, *, password_env: str | None = "MS_TEST_PW", user: str = USER) -> list[str]:
    args = [
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
        "--security",
        "starttls",
        "--cafile",
        server.ca_file,
        "--timeout",
        "5",
        "--connect-timeout",
        "2",
        "--greeting-timeout",
        "2",
    ]
    if user:
        args += ["--user", user]
    if password_env:
        args += ["--password-env", password_env]
    return args


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def pw_env(monkeypatch):
    monkeypatch.setenv("MS_TEST_PW", PASSWORD)
    return "MS_TEST_PW"


def test_full_lifecycle_with_real_keyring(secret_service, cli_server, pw_env, capsys, tmp_path):
    name = 'Работа "main" ✉'
    code, out, err = run(
        capsys, "profiles", "add", name, *conn_args(cli_server), "--from", USER, "--from-name", "Alice O'Neil", "--json"
    )
    assert code == 0, out + err
    result = last_json(out)
    assert result["ok"] is True and result["saved"] is True and result["secret_stored"] is True
    assert result["secret_backend"].startswith("Secret Service")
    assert PASSWORD not in out + err
    assert SecretStore().get(name) == PASSWORD

    code, out, _ = run(capsys, "profiles", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [p["name"] for p in listed["profiles"]] == [name]
    assert listed["profiles"][0]["has_secret"] is True

    code, out, _ = run(capsys, "profiles", "show", name)
    assert code == 0 and "stored in Secret Service" in out and PASSWORD not in out
    assert "Alice O'Neil <alice@example.test>" in out

    code, out, err = run(capsys, "profiles", "check", name, "--json")
    assert code == 0, out + err
    check = last_json(out)
    assert check["ok"] is True and check["profile"] == name and check["auth_verified"] is True
    assert PASSWORD not in out

    target = tmp_path / ".env"
    code, out, err = run(capsys, "profiles", "export", name, "--format", "env", "--output", str(target))
    assert code == 0 and "readable only by you" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text(encoding="utf-8")
    assert "SMTP_PASS=\n" in text and PASSWORD not in text and "SMTP_PORT=" + str(cli_server.port) in text

    code, out, _ = run(capsys, "profiles", "export", name, "--format", "json", "--include-password")
    assert code == 0 and json.loads(out)["password"] == PASSWORD

    code, out, _ = run(capsys, "profiles", "delete", name)
    assert code == 0 and "removed its password from Secret Service" in out
    assert len(cli_server.messages) == 0  # checks never send mail
    assert SecretStore().get(name) is None
    assert ProfileStore().list() == []
    code, out, err = run(capsys, "profiles", "show", name)
    assert code == 1 and "no saved profile" in err


def test_add_refuses_when_check_fails(secret_service, cli_server, monkeypatch, capsys):
    monkeypatch.setenv("MS_WRONG", "wrong password")
    code, out, err = run(capsys, "profiles", "add", "bad", *conn_args(cli_server, password_env="MS_WRONG"), "--json")
    result = last_json(out)
    assert result["ok"] is False and result["code"] == "auth_failed" and result["saved"] is False
    assert code == 1
    code, out, err = run(capsys, "profiles", "add", "bad", *conn_args(cli_server, password_env="MS_WRONG"))
    assert code == 1 and "Not saved" in err
    assert ProfileStore().get("bad") is None
    assert SecretStore().get("bad") is None


def test_add_without_backend_gives_clear_error_and_saves_nothing(cli_server, pw_env, capsys):
    """conftest's default PYTHON_KEYRING_BACKEND=fail: no password store at all."""
    code, out, _err = run(capsys, "profiles", "add", "work", *conn_args(cli_server), "--json")
    assert code == 1
    result = last_json(out)
    assert result["code"] == "secret_no_backend" and result["saved"] is False
    assert "gnome-keyring" in result["fix"][0] and "--save-without-password" in result["fix"][1]
    assert not ProfileStore().path.exists()


def test_save_without_password_then_check_asks_for_it(cli_server, pw_env, capsys, monkeypatch):
    code, out, err = run(capsys, "profiles", "add", "work", *conn_args(cli_server), "--save-without-password")
    assert code == 0, out + err
    assert "password not stored" in out
    saved = ProfileStore().get("work")
    assert saved.has_secret is False and saved.secret_backend is None

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: no prompt possible
    code, out, err = run(capsys, "profiles", "check", "work")
    assert code == 2 and "--password-stdin" in err

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(capsys, "profiles", "check", "work", "--password-stdin", "--json")
    assert code == 0 and last_json(out)["ok"] is True

    code, out, _ = run(capsys, "profiles", "delete", "work")
    assert code == 0 and "no password was stored" in out


def test_check_reports_failure_with_exit_1(cli_server, capsys, monkeypatch):
    code, _, _ = run(
        capsys, "profiles", "add", "nocreds", *conn_args(cli_server, password_env=None, user=""), "--no-check"
    )
    assert code == 0
    # the server requires nothing for a connectivity check: ok
    code, out, _ = run(capsys, "profiles", "check", "nocreds", "--json")
    assert code == 0 and last_json(out)["ok"] is True
    # point the profile at a closed port: the check fails with a diagnosis, exit 1
    store = ProfileStore()
    p = store.get("nocreds")
    store.save(p.__class__(**{**p.__dict__, "settings": p.settings.with_(port=free_port())}))
    code, out, _ = run(capsys, "profiles", "check", "nocreds", "--json")
    result = last_json(out)
    assert code == 1 and result["ok"] is False and result["code"]


def test_usage_errors_exit_2(capsys):
    code, _, err = run(capsys, "profiles", "add", "bad\nname", "--host", "127.0.0.1", "--no-check")
    assert code == 2 and "control character" in err
    with pytest.raises(SystemExit) as exc:
        main(["profiles", "export", "x", "--format", "yaml"])
    assert exc.value.code == 2
    capsys.readouterr()
    code, _, err = run(capsys, "profiles", "add", "x", "--host", "127.0.0.1", "--password-env", "MS_UNSET_VAR")
    assert code == 2 and "MS_UNSET_VAR" in err


def test_existing_profile_needs_replace(cli_server, capsys):
    args = ["profiles", "add", "dup", *conn_args(cli_server, password_env=None, user=""), "--no-check"]
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 1 and "--replace" in err
    assert run(capsys, *args, "--replace")[0] == 0


def test_corrupt_profiles_file_reported_by_list(capsys):
    path = ProfileStore().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    code, out, _err = run(capsys, "profiles", "list", "--json")
    result = last_json(out)
    assert code == 1 and result["code"] == "profile_corrupt"
    assert result["profile_error"]["moved_to"].startswith(str(path) + ".corrupt-")
    code, out, _ = run(capsys, "profiles", "list")
    assert code == 0 and "No saved profiles" in out


def test_export_to_stdout_without_password_and_errors(cli_server, capsys):
    assert (
        run(
            capsys,
            "profiles",
            "add",
            "e",
            *conn_args(cli_server, password_env=None),
            "--no-check",
            "--save-without-password",
        )[0]
        == 0
    )
    code, out, _ = run(capsys, "profiles", "export", "e", "--format", "django")
    assert code == 0 and "EMAIL_USE_TLS = True" in out and "os.environ['SMTP_PASS']" in out
    code, _, err = run(capsys, "profiles", "export", "e", "--format", "env", "--include-password")
    assert code == 1 and "no stored password" in err
    code, _, err = run(capsys, "profiles", "export", "missing", "--format", "env")
    assert code == 1 and "no saved profile" in err


def test_delete_keeps_profile_when_keyring_unavailable(secret_service, cli_server, pw_env, capsys, monkeypatch):
    assert run(capsys, "profiles", "add", "k", *conn_args(cli_server), "--no-check")[0] == 0
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    code, _out, err = run(capsys, "profiles", "delete", "k")
    assert code == 1 and "was NOT deleted" in err
    assert ProfileStore().get("k") is not None
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    assert SecretStore().get("k", service=SERVICE) == PASSWORD
    assert run(capsys, "profiles", "delete", "k")[0] == 0


def test_profiles_check_gives_the_same_verdict_as_check(secret_service, smtp_server, capsys):
    """A saved account goes through the one pipeline too: a silent port is confirmed by the second client."""
    srv = smtp_server("silent")
    argv = ["--host", srv.host, "--port", str(srv.port), "--security", "starttls", "--greeting-timeout", "0.3"]
    code, out, err = run(capsys, "profiles", "add", "quiet", *argv, "--timeout", "3", "--no-check", "--json")
    assert code == 0, out + err
    code, out, _ = run(capsys, "profiles", "check", "quiet", "--json")
    result = last_json(out)
    assert code == 1 and result["code"] == "greeting_timeout" and result["profile"] == "quiet"
    assert result["second_opinion"]["client"] == "aiosmtplib" and result["second_opinion"]["agrees"] is True
    assert srv.connections >= 2  # the engine and the second client both connected
