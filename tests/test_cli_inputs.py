"""The command line under hostile input: one-line errors naming the real option (exit 2), never a
traceback; server text made terminal-safe; one exit-code table (issue 10 item 7, issue 11)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.cli.exits import Exit
from app.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SEND = ["send", "--host", "127.0.0.1", "--port", "1", "--security", "ssl", "--from", "s@example.com"]


def send_argv(*extra: str, to: str = "r@example.com", subject: str = "s", body: str | None = "b") -> list[str]:
    argv = [*SEND, "--to", to, "--subject", subject]
    if body is not None:
        argv += ["--body", body]
    return argv + list(extra)


def usage(capsys, argv: list[str]) -> str:
    """Run ``argv``; assert exit 2, nothing on stdout and exactly one line on stderr; return that line."""
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    captured = capsys.readouterr()
    assert exc.value.code == Exit.USAGE, captured
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize(
    "argv,line",
    [
        (
            ["check", "--host", "127.0.0.1", "--timeout", "nan"],
            "mailsetup check: error: argument --timeout: 'nan' must be a number of seconds above 0 and at most 600 "
            "(see 'mailsetup check --help')",
        ),
        (
            ["check", "--host", "127.0.0.1", "--connect-timeout", "inf"],
            "mailsetup check: error: argument --connect-timeout: 'inf' must be a number of seconds above 0 and at "
            "most 600 (see 'mailsetup check --help')",
        ),
        (
            ["check", "--host", "127.0.0.1", "--connect", "3"],
            "mailsetup check: error: unrecognized arguments: --connect 3; did you mean --connect-timeout? "
            "(see 'mailsetup check --help')",
        ),
        (
            ["check", "--host", "127.0.0.1", "--port", "70000"],
            "mailsetup check: error: argument --port: '70000' is not a port number from 1 to 65535 "
            "(see 'mailsetup check --help')",
        ),
        (
            ["check", "--host", "127.0.0.1", "--proxy", "socks5://[::1"],
            "mailsetup check: error: --proxy: The proxy address is not a valid URL.",
        ),
        (
            ["check", "--host", "127.0.0.1", "--user", "a\x0bb", "--password-env", "HOME"],
            "mailsetup check: error: --user: The login must not contain a vertical tab.",
        ),
        (
            ["check", "--host", "127.0.0.1", "--user", "b\udcffad", "--password-env", "HOME"],
            "mailsetup check: error: --user: The login is not valid UTF-8 text.",
        ),
        (
            send_argv(to="evil@x.test <bob@example.test>"),
            "mailsetup send: error: --to: 'evil@x.test <bob@example.test>': the name before <…> contains '@' or "
            'another special character; put it in double quotes ("…") if it is really a name',
        ),
        (
            send_argv(subject="=?utf-8?q?Hi=0D=0AX-Injected:_1?="),
            "mailsetup send: error: --subject: the subject hides a carriage return (CR) in an encoded word (=?…?=)",
        ),
        (
            send_argv(body="a\u2028b"),
            "mailsetup send: error: --body: the text must not contain U+2028 (line separator)",
        ),
        (send_argv(body="a\x85b"), "mailsetup send: error: --body: the text must not contain NEL (next line)"),
        (send_argv(body="a\x0bb"), "mailsetup send: error: --body: the text must not contain a vertical tab"),
        (send_argv(body="a\x00b"), "mailsetup send: error: --body: the text must not contain NUL"),
        (send_argv(body="a\udcffb"), "mailsetup send: error: --body: the text is not valid UTF-8 text"),
        (
            send_argv(to=", ".join(f"u{i}@example.com" for i in range(100_000))),
            "mailsetup send: error: --to: too many recipients: a test message goes to at most 100 addresses",
        ),
    ],
)
def test_hostile_options_get_one_line_naming_the_option(capsys, argv, line):
    assert usage(capsys, argv) == line


def test_unreadable_attachment_and_body_file(capsys, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert (
        usage(capsys, send_argv("--attach", str(folder))) == f"mailsetup send: error: --attach: no such file: {folder}"
    )
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9 \xff\n")
    line = usage(capsys, send_argv("--body-file", str(bad), body=None))
    assert line == f"mailsetup send: error: --body-file: {bad} is not UTF-8 text"


def test_passwords_with_controls_or_invalid_utf8(capsys, monkeypatch):
    monkeypatch.setenv("MS_HOSTILE_PW", "pass\x85word")
    argv = ["check", "--host", "127.0.0.1", "--user", "u@example.com", "--password-env", "MS_HOSTILE_PW"]
    assert (
        usage(capsys, argv) == "mailsetup check: error: --password-env: The password must not contain NEL (next line)."
    )
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "app", "check", "--host", "127.0.0.1", "--user", "u@example.com", "--password-stdin"],
        cwd=ROOT,
        env=env,
        input=b"caf\xe9\n",
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode() == "mailsetup check: error: --password-stdin: the password is not valid UTF-8 text\n"
    assert proc.stdout == b""


# -- server text is untrusted --------------------------------------------------------------------------


@pytest.fixture
def hostile_greeter():
    """A real socket server that refuses every session with terminal escapes and HTML in its 554 reply."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    text = (
        b"554-\x1b[2J\x1b]0;owned\x07<b style='color:green'>Connection OK</b>\r\n"
        b"554 \x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\ \x9b31m red \xe2\x80\xae gnp.exe\r\n"
    )
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.sendall(text)
                conn.settimeout(2)
                try:
                    conn.recv(1024)
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    srv.close()
    t.join(5)


def test_server_text_cannot_drive_the_terminal(hostile_greeter, capsys):
    argv = ["check", "--host", "127.0.0.1", "--port", str(hostile_greeter), "--security", "none", "--timeout", "5"]
    assert main([*argv, "-vv"]) == Exit.FAILED
    out = capsys.readouterr().out
    assert "Connection OK" in out  # the text is shown ...
    for bad in ("\x1b", "\x07", "\x9b", "\u202e"):  # ... but nothing a terminal would act on
        assert bad not in out
    assert main([*argv, "--json"]) == Exit.FAILED
    lines = capsys.readouterr().out.splitlines()
    result = json.loads(lines[-1])
    assert result["code"] == "server_unavailable"
    assert "\x1b[2J" in result["server_reply"]  # JSON keeps the exact text, escaped
    assert all("\x1b" not in ln and "\x9b" not in ln for ln in lines)


def test_one_exit_code_table():
    """No command module defines its own exit codes any more (profiles belongs to the store work)."""
    for path in (ROOT / "app" / "cli").rglob("*.py"):
        if path.name in ("exits.py", "profiles.py"):  # profiles: owned by the store work
            continue
        text = path.read_text(encoding="utf-8")
        assert "EXIT_" not in text, path
        assert "return 2\n" not in text and "return 1\n" not in text and "return 0\n" not in text, path


@pytest.mark.parametrize(
    "email,line",
    [
        (
            "evil@x.test <bob@example.test>",
            "mailsetup detect: error: EMAIL: 'evil@x.test <bob@example.test>': the name before <…> contains '@' or "
            'another special character; put it in double quotes ("…") if it is really a name (expected name@domain).',
        ),
        (
            "Bob <bob@example.test>",
            "mailsetup detect: error: EMAIL: 'Bob <bob@example.test>' is not a bare e-mail address "
            "(expected name@domain).",
        ),
        (
            "bob@exam\u2028ple.test",
            "mailsetup detect: error: EMAIL: 'bob@exam\\u2028ple.test' contains U+2028 (line separator) "
            "(expected name@domain).",
        ),
    ],
)
def test_detect_parses_the_address_with_the_one_parser(capsys, email, line):
    assert usage(capsys, ["detect", email]) == line
