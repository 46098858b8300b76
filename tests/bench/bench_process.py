"""Benchmark (a script, not a test): whole `mailsetup check` processes, as a user runs them.

Run from the repository root:

    python -m tests.bench.bench_process [--runs 11]

(a) Mode mismatch: `check --security starttls` against a local implicit-TLS port with the default
    5 s greeting timeout; the whole process, start to exit (goal <= 1.5 s; before the TLS probe the
    verdict waited out the greeting timeout and the second client: about 10.5 s).
(b) `check` (implicit TLS + AUTH PLAIN) against swaks doing the same (`--tls-on-connect --auth PLAIN
    --quit-after AUTH`), alternately on the same local server; the ratio check/swaks (goal <= 1.5).

The servers (the engine's aiosmtpd test servers) run in a child process so they do not compete
with the measured processes for the GIL.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from types import SimpleNamespace

_SERVE = """
import json, sys, tempfile
from pathlib import Path
from tests.fixtures.network import start_mail_lab
from tests.fixtures.smtp_servers import make_cert_bundle
lab, stop = start_mail_lab(make_cert_bundle(Path(tempfile.mkdtemp(prefix="bench-process-"))))
print(json.dumps(lab.__dict__), flush=True)
sys.stdin.read()
stop()
"""


def _lab():
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    lab = SimpleNamespace(**json.loads(proc.stdout.readline()))

    def stop():
        proc.stdin.close()
        proc.wait(10)

    return lab, stop


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return (time.perf_counter() - t0) * 1000, p.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description="whole mailsetup check processes vs swaks")
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    lab, stop = _lab()
    env = dict(os.environ, MS_PW=lab.password)
    me = [sys.executable, "-m", "app", "check", "--host", "127.0.0.1", "--cafile", lab.ca_file]
    mismatch = me + ["--port", str(lab.tls_port), "--security", "starttls"]  # default timeouts: 5 s greeting
    check = me + ["--port", str(lab.tls_port), "--security", "ssl", "--user", lab.username, "--password-env", "MS_PW"]
    swaks_bin = shutil.which("swaks")
    swaks = [
        swaks_bin or "swaks",
        "--server",
        f"127.0.0.1:{lab.tls_port}",
        "--tls-on-connect",
        "--auth",
        "PLAIN",
        "--auth-user",
        lab.username,
        "--auth-password",
        lab.password,
        "--quit-after",
        "AUTH",
        "--hide-all",
    ]
    failed = False
    try:
        _timed(check, env)  # warm-up (bytecode caches, page cache)
        mm, ck, sw = [], [], []
        for _ in range(args.runs):
            ms, rc = _timed(mismatch, env)
            mm.append(ms)
            failed |= rc != 1
            ms, rc = _timed(check, env)
            ck.append(ms)
            failed |= rc != 0
            if swaks_bin:
                ms, rc = _timed(swaks, env)
                sw.append(ms)
                failed |= rc != 0
        print(f"{args.runs} alternating runs; medians of whole processes (start to exit)")
        print(
            f"mode mismatch verdict (starttls on an implicit-TLS port, 5 s greeting timeout): {statistics.median(mm):7.1f} ms"
        )
        print(
            f"mailsetup check (implicit TLS + AUTH PLAIN):                                     {statistics.median(ck):7.1f} ms"
        )
        if sw:
            ratio = statistics.median(ck) / statistics.median(sw)
            print(
                f"swaks (the same):                                                                 {statistics.median(sw):7.1f} ms"
            )
            print(f"ratio check/swaks: {ratio:4.2f}")
        else:
            print("swaks not installed: no ratio")
    finally:
        stop()
    if failed:
        print("SOME RUN HAD THE WRONG EXIT STATUS")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
