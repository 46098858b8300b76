"""The wizard process ends promptly: within 1 s of closing the window or of Ctrl+C, even while a check hangs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _start(srv, tmp_path) -> subprocess.Popen:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONIOENCODING="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.wizard_driver", srv.host, str(srv.port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


@pytest.mark.parametrize("how", ["close", "sigint"])
def test_wizard_process_ends_within_a_second(smtp_server, tmp_path, how):
    srv = smtp_server("slow_drip")  # the check would run for minutes
    proc = _start(srv, tmp_path)
    try:
        assert proc.poll() is None
        t0 = time.monotonic()
        if how == "close":
            proc.stdin.write("close\n")
            proc.stdin.flush()
        else:
            proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read()
    assert took < 1.0, (took, stderr)
    assert rc == 0, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert srv.client_closed.wait(2)  # the server saw the connection close
