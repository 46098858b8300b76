"""``mailsetup sandbox`` as a real subprocess: ports and login on the first line, messages reported, Ctrl+C exits 0."""

from __future__ import annotations

import json
import os
import selectors
import signal
import smtplib
import ssl
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX-only here")


class Child:
    """A running ``python -m app ...`` with line reads bounded by a deadline (never a sleep)."""

    def __init__(self, *args: str):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._buffer = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)

    def readline(self, timeout: float = 15.0) -> str:
        """One line of stdout; raw reads, so lines printed together are not hidden in a file buffer."""
        while b"\n" not in self._buffer:
            if not self._sel.select(timeout):
                raise AssertionError(f"no output within {timeout} s; stderr: {self._stderr()}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            assert chunk, f"the process ended early (rc={self.proc.poll()}); stderr: {self._stderr()}"
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8") + "\n"

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode("utf-8", "replace")

    def interrupt(self, timeout: float = 15.0) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, (self._buffer + out + err).decode("utf-8", "replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
        self._sel.close()


def _send(host: str, port: int, username: str, password: str, ca_file: str, subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = "cli-test@example.test"
    msg["To"] = "someone@example.test"
    msg["Subject"] = subject
    msg.set_content("hello")
    msg.add_attachment(b"abc", maintype="text", subtype="plain", filename="a.txt")
    ctx = ssl.create_default_context(cafile=ca_file)
    with smtplib.SMTP_SSL(host, port, context=ctx, timeout=5) as client:
        client.login(username, password)
        client.send_message(msg)


def test_sandbox_json_reports_messages_and_stops_on_sigint(tmp_path):
    child = Child("sandbox", "--json", "--save-eml", "--data-dir", str(tmp_path / "sb"))
    try:
        started = json.loads(child.readline())
        assert started["event"] == "sandbox_started"
        assert started["host"] == "127.0.0.1" and started["ssl_port"] != started["starttls_port"]
        assert Path(started["ca_file"]).is_file() and started["password"]
        _send(
            started["host"],
            started["ssl_port"],
            started["username"],
            started["password"],
            started["ca_file"],
            "CLI one",
        )
        got = json.loads(child.readline())
        assert got["event"] == "message_received"
        assert got["subject"] == "CLI one" and got["mail_from"] == "cli-test@example.test"
        assert got["rcpt_tos"] == ["someone@example.test"]
        assert got["attachments"] == [{"name": "a.txt", "size": 3}]
        assert Path(got["eml"]).is_file()
        rc, rest = child.interrupt()
    finally:
        child.kill()
    assert rc == 0, rest
    assert json.loads(rest.splitlines()[-1]) == {"event": "sandbox_stopped", "received": 1}
    assert "Traceback" not in rest


def test_sandbox_human_output_shows_login_and_messages(tmp_path):
    child = Child("sandbox", "--data-dir", str(tmp_path / "sb"))
    try:
        lines = [child.readline() for _ in range(10)]
        text = "".join(lines)
        fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:7])}
        port = int(fields["implicit TLS"].split()[1])
        assert fields["server"] == "127.0.0.1"
        _send("127.0.0.1", port, fields["login"], fields["password"], fields["CA file"].split()[0], "Human")
        report = child.readline() + child.readline() + child.readline()
        rc, rest = child.interrupt()
    finally:
        child.kill()
    assert "password:" in text and "Ctrl+C" in text
    assert "from cli-test@example.test to someone@example.test" in report
    assert "subject: Human" in report and "a.txt (3 bytes)" in report
    assert rc == 0 and "received 1 message(s)" in rest
