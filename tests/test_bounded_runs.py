"""Every run is bounded: against misbehaving servers (real sockets, tests/fixtures/smtp_servers.py) each CLI
process prints one verdict and exits within its --timeout + 1 s, with exit status 1; nothing outlives it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 2.0
# The process must end right after its result line; the result itself comes within --timeout. The whole
# process gets --timeout + 1 s plus an allowance for interpreter start-up on a loaded 2-core CI machine.
AFTER_RESULT = 1.0
STARTUP_ALLOWANCE = 1.5

# kind, options, --security, the verdicts that are right for it
CASES = [
    ("slow_drip", {}, "starttls", {"greeting_timeout"}),
    ("endless_greeting", {}, "starttls", {"greeting_timeout", "protocol_error"}),
    ("endless_multiline", {}, "starttls", {"protocol_error"}),
    ("endless_multiline", {"line_delay": 0}, "starttls", {"protocol_error"}),
    ("stalled_tls", {}, "ssl", {"tls_handshake_failed"}),
    ("ehlo_421", {}, "starttls", {"server_unavailable"}),
    ("html_reply", {}, "starttls", {"protocol_error"}),
    ("starttls_silence", {}, "starttls", {"tls_handshake_failed"}),
    ("silent", {}, "starttls", {"greeting_timeout"}),
]
SEND_CASES = [c for c in CASES if c[0] in ("slow_drip", "starttls_silence") or c[1]]


def _argv(command: str, srv, security: str) -> list[str]:
    argv = [command, "--host", srv.host, "--port", str(srv.port), "--security", security, "--cafile", srv.ca_file]
    argv += ["--timeout", str(TIMEOUT), "--greeting-timeout", "0.5", "--connect-timeout", "1", "--json"]
    if command == "send":
        argv += ["--from", "a@example.test", "--to", "b@example.test", "--subject", "t", "--body", "x"]
    return argv


def _run(argv: list[str]) -> dict:
    """Run the CLI; the result line, exit status, peak memory and when the result came and the process ended."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    result, result_at = {}, None
    for raw in proc.stdout:  # line by line, as the process prints them
        line = json.loads(raw)
        if line.get("event") == "result":
            result, result_at = line, time.monotonic()
    _pid, status, usage = os.wait4(proc.pid, 0)
    ended = time.monotonic()
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    return {
        "rc": proc.returncode,
        "result": result,
        "took": ended - t0,
        "after_result": ended - (result_at or ended),
        "mem_mib": usage.ru_maxrss // 1024,
    }


def _check_run(run: dict, codes: set[str]) -> None:
    assert run["rc"] == 1 and run["result"].get("ok") is False, run
    assert run["result"]["code"] in codes, run
    assert run["result"]["elapsed_ms"] <= TIMEOUT * 1000 + 300, run  # the verdict within --timeout
    assert run["after_result"] < AFTER_RESULT, run  # nothing outlives the verdict
    assert run["took"] < TIMEOUT + 1.0 + STARTUP_ALLOWANCE, run
    assert run["mem_mib"] < 400, run  # a fast endless reply once grew to gigabytes


@pytest.mark.parametrize("kind,options,security,codes", CASES, ids=[f"{c[0]}{'-fast' if c[1] else ''}" for c in CASES])
def test_check_process_ends_on_time(smtp_server, kind, options, security, codes):
    _check_run(_run(_argv("check", smtp_server(kind, **options), security)), codes)


@pytest.mark.parametrize(
    "kind,options,security,codes", SEND_CASES, ids=[f"{c[0]}{'-fast' if c[1] else ''}" for c in SEND_CASES]
)
def test_send_process_ends_on_time(smtp_server, kind, options, security, codes):
    _check_run(_run(_argv("send", smtp_server(kind, **options), security)), codes)


def _client_sockets_to(port: int) -> int:
    """How many TCP sockets of this process are connected to ``port`` (from /proc; Linux)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for row in fh:
                cols = row.split()
                remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                if remote_port == port and cols[9] in inodes:
                    count += 1
    return count


@pytest.mark.parametrize("kind,security", [("slow_drip", "starttls"), ("silent", "starttls"), ("stalled_tls", "ssl")])
def test_no_thread_or_socket_outlives_the_verdict(smtp_server, capsys, kind, security):
    srv = smtp_server(kind)
    ours = {t for t in threading.enumerate() if not t.daemon}
    t0 = time.monotonic()
    rc = main(_argv("check", srv, security))
    took = time.monotonic() - t0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert rc == 1 and result["ok"] is False
    assert took < TIMEOUT + 1.0
    assert {t for t in threading.enumerate() if not t.daemon} - ours == set()
    assert _client_sockets_to(srv.port) == 0


def test_fast_endless_reply_keeps_memory_bounded_in_process(smtp_server, capsys):
    srv = smtp_server("endless_multiline", line_delay=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rc = main(_argv("check", srv, "starttls"))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert rc == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["code"] == "protocol_error"
    assert grown_mib < 100


def test_a_hung_resolver_does_not_hold_the_process(monkeypatch, capsys):
    """A name lookup that never returns: the verdict comes at the deadline and nothing waits for the lookup."""
    import socket

    release = threading.Event()
    real = socket.getaddrinfo

    def hang(host, *args, **kwargs):
        if host == "hang.test":
            release.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "released")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    t0 = time.monotonic()
    try:
        rc = main(
            ["check", "--host", "hang.test", "--port", "25", "--security", "starttls", "--timeout", "1", "--json"]
        )
        took = time.monotonic() - t0
    finally:
        release.set()
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert rc == 1 and result["code"] == "dns_failed"
    assert took < 1.0 + 1.0
