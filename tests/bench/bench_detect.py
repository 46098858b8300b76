"""Benchmark: ``detect --host`` over four local ports vs one direct ``check`` with the known settings.

Run from the repository root:

    python -m tests.bench.bench_detect [--runs 21] [--in-process]

Local servers (the engine's test servers, started as one lab in a child process so their CPU
does not compete with the client's GIL): implicit TLS, STARTTLS, plaintext-only and a silent
port (accepts, never speaks), with the real default timeouts (5 s greeting). Check and detect
run alternately; the script prints the median of each and the ratio detect/check (goal <= 1.3),
without and with a password, plus the worst case where the silent port is listed first and
outranks the answer in hand (bounded grace instead of the 5 s timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from app.core.detect.probe import detect
from app.core.model.settings import Security, SmtpSettings, Timeouts, TlsOptions
from app.core.smtp.session import run_check

_SERVE = """
import json, sys, tempfile
from pathlib import Path
from tests.fixtures.network import start_mail_lab
from tests.fixtures.smtp_servers import make_cert_bundle
lab, stop = start_mail_lab(make_cert_bundle(Path(tempfile.mkdtemp(prefix="bench-lab-"))))
print(json.dumps(lab.__dict__), flush=True)
sys.stdin.read()
stop()
"""


def start_lab_process():
    """The lab in a child process; returns (lab, stop)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=os.getcwd(),
    )
    lab = SimpleNamespace(**json.loads(proc.stdout.readline()))

    def stop():
        proc.stdin.close()
        proc.wait(10)

    return lab, stop


def start_lab_here():
    from tests.fixtures.network import start_mail_lab
    from tests.fixtures.smtp_servers import make_cert_bundle

    lab, stop = start_mail_lab(make_cert_bundle(Path(tempfile.mkdtemp(prefix="bench-detect-"))))
    return SimpleNamespace(**lab.__dict__), stop


async def _medians(make_a, make_b, runs: int):
    """Median wall time (ms) of ``make_a`` and ``make_b``, run alternately so load drift hits both alike."""
    ta, tb = [], []
    a = b = None
    for _ in range(runs):
        t0 = time.perf_counter()
        a = await make_a()
        ta.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        b = await make_b()
        tb.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ta), statistics.median(tb), a, b


async def bench(runs: int, in_process: bool) -> int:
    lab, stop = start_lab_here() if in_process else start_lab_process()
    timeouts = Timeouts()  # the real defaults: a silent port would cost 5 s of greeting timeout
    tls = TlsOptions(cafile=lab.ca_file)
    ports = (lab.tls_port, lab.starttls_port, lab.plain_port, lab.silent_port)
    known = SmtpSettings(host="127.0.0.1", port=lab.tls_port, security=Security.SSL, timeouts=timeouts, tls=tls)
    failed = False
    try:
        await run_check(known, None)  # warm-up: imports, first TLS context
        await detect(None, host="127.0.0.1", ports=ports, timeouts=timeouts, tls=tls)
        rows = []
        for label, pw in (("no password", None), ("with password", lab.password)):
            user = lab.username if pw else ""
            check_ms, detect_ms, c, d = await _medians(
                lambda: run_check(known.with_(username=user), pw),
                lambda: detect(
                    None, host="127.0.0.1", ports=ports, timeouts=timeouts, tls=tls, password=pw, username=user or None
                ),
                runs,
            )
            ok = c.ok and d.ok and d.settings.port == lab.tls_port
            failed |= not ok
            rows.append((label, check_ms, detect_ms, ok))
        s_ms, w_ms, _c, w = await _medians(
            lambda: run_check(known.with_(port=lab.starttls_port, security=Security.STARTTLS), None),
            lambda: detect(
                None, host="127.0.0.1", ports=(lab.silent_port, lab.starttls_port), timeouts=timeouts, tls=tls
            ),
            runs,
        )
        where = "in this process" if in_process else "in a child process"
        print(
            f"servers {where}; {runs} alternating runs per pair; detect ports: implicit TLS, STARTTLS, plain, "
            f"silent; greeting timeout {timeouts.greeting:g} s"
        )
        for label, check_ms, detect_ms, ok in rows:
            print(
                f"{label:<14} check {check_ms:7.1f} ms   detect {detect_ms:7.1f} ms   "
                f"ratio {detect_ms / check_ms:4.2f}   {'ok' if ok else 'WRONG RESULT'}"
            )
        chose = w.settings.security.value if w.settings else None
        print(
            f"{'silent first':<14} check {s_ms:7.1f} ms   detect {w_ms:7.1f} ms   ratio {w_ms / s_ms:4.2f}   "
            f"(silent port outranks the answer: bounded grace; chose {chose})"
        )
    finally:
        stop()
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description="detect --host vs a direct check on local servers")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--in-process", action="store_true", help="run the servers in this process (GIL contention)")
    args = ap.parse_args()
    return asyncio.run(bench(args.runs, args.in_process))


if __name__ == "__main__":
    raise SystemExit(main())
