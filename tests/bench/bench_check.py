"""Benchmark of the check engine (a script, not a test).

(a) How long a plain / STARTTLS client takes to conclude ``greeting_timeout`` on a local
    implicit-TLS port, compared with the configured greeting timeout (goal: within 10 %, never the
    command timeout).
(b) The cost of one full successful check (TLS + EHLO + AUTH + QUIT), median over N runs.

Run:  python tests/bench/bench_check.py [--runs 30] [--greeting 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.model.settings import Security, Timeouts
from app.core.smtp.session import run_check
from tests.fixtures.smtp_servers import TEST_PASSWORD, make_cert_bundle, start_aiosmtpd


async def greeting_case(info, security: Security, greeting: float, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        settings = info.settings(
            security=security, username="", timeouts=Timeouts(connect=5, greeting=greeting, command=15, total=45)
        )
        t0 = time.perf_counter()
        res = await run_check(settings, None)
        out.append(time.perf_counter() - t0)
        assert res.diagnosis is not None and res.diagnosis.code.value == "greeting_timeout", res.diagnosis
    return out


async def success_case(info, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = await run_check(info.settings(timeouts=Timeouts()), TEST_PASSWORD)
        out.append((time.perf_counter() - t0) * 1000)
        assert res.ok, res.diagnosis
    return out


async def main_async(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_cert_bundle(Path(tmp))
        ssl_srv, stop_ssl = start_aiosmtpd("ssl", certs)
        starttls_srv, stop_starttls = start_aiosmtpd("starttls", certs)
        try:
            print(f"(a) greeting timeout {args.greeting:g} s, command timeout 15 s, {args.greeting_runs} runs each")
            print(f"    {'client mode':<12} {'median s':>9} {'max s':>7} {'ratio':>6}")
            for sec in (Security.STARTTLS, Security.NONE):
                t = await greeting_case(ssl_srv, sec, args.greeting, args.greeting_runs)
                med = statistics.median(t)
                print(f"    {sec.value:<12} {med:>9.3f} {max(t):>7.3f} {med / args.greeting:>6.3f}")
            print(f"\n(b) full successful check with AUTH, {args.runs} runs")
            print(f"    {'mode':<12} {'median ms':>9} {'p90 ms':>7} {'min ms':>7}")
            for name, srv in (("ssl", ssl_srv), ("starttls", starttls_srv)):
                t = sorted(await success_case(srv, args.runs))
                p90 = t[min(len(t) - 1, int(len(t) * 0.9))]
                print(f"    {name:<12} {statistics.median(t):>9.1f} {p90:>7.1f} {t[0]:>7.1f}")
        finally:
            stop_ssl()
            stop_starttls()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--greeting", type=float, default=1.0)
    p.add_argument("--greeting-runs", type=int, default=3)
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
