"""Benchmark: ``detect --host`` over four local ports vs one direct ``check`` with the known settings.

Run from the repository root:

    python -m tests.bench.bench_detect [--runs 21] [--in-process]

Local servers (the engine's test servers, started as one lab in a child process so their CPU
does not compete with the client's GIL): implicit TLS, STARTTLS, plaintext-only and a silent
port (accepts, never speaks), with the real default timeouts (5 s greeting). Check and detect
run alternately; the script prints the median of each and the ratio detect/check (goal <= 1.3),
without and with a password, plus the worst case where the silent port is listed first and
outranks the answer in hand (bounded grace instead of the 5 s timeout), and detect by address
through a local DNS server with the autoconfig sources racing (a local HTTPS server): once when
the catalogue knows the domain's MX (autoconfig is cancelled), once when only autoconfig knows it.
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
        failed |= not await bench_by_address(lab, runs, known, timeouts, tls)
    finally:
        stop()
    return 1 if failed else 0


def start_discovery_lab(lab):
    """A local DNS server and autoconfig HTTPS server for detect by address; returns (resolver, options, stop)."""
    import socket
    import ssl as ssl_mod

    import trustme

    from tests.fixtures.autoconfig_server import AutoconfigServer, Route, config
    from tests.fixtures.network import LocalDns, NetLoop, _DnsProtocol, net_free_port

    net = NetLoop()
    dns = LocalDns(port=net_free_port(socket.SOCK_DGRAM))

    async def start():
        return await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _DnsProtocol(dns), local_addr=("127.0.0.1", dns.port)
        )

    transport, _ = net.run(start())
    ca = trustme.CA()
    server = AutoconfigServer(Path(tempfile.mkdtemp(prefix="bench-ac-")), ca)
    for name in ("autoconfig.auto.test", "auto.test", "corp.test", "autoconfig.thunderbird.net"):
        dns.zone[name] = {"A": ["127.0.0.1"]}
    dns.zone["corp.test"]["MX"] = ["10 in1.mx.labmail.test."]
    dns.zone["auto.test"]["MX"] = ["10 mx.auto.test."]
    body = config(host="localhost", port=lab.tls_port, username="%EMAILADDRESS%")
    server.routes[("autoconfig.auto.test", "/mail/config-v1.1.xml")] = Route(body=body)
    ctx = ssl_mod.create_default_context()
    ca.configure_trust(ctx)
    options = {"ssl_context": ctx, "port_override": dict(server.ports)}

    def stop():
        server.close()
        net.loop.call_soon_threadsafe(transport.close)
        net.close()

    return dns.resolver(2.0), options, stop


def lab_catalogue(lab):
    from app.core.catalog import Catalogue, Endpoint, Provider, ProviderKind

    p = Provider(
        id="labmail",
        kind=ProviderKind.PRESET,
        name={"en": "Lab Mail", "ru": "Лаб-почта"},
        mx_patterns=("*.mx.labmail.test",),
        smtp=(Endpoint("127.0.0.1", lab.tls_port, "ssl"), Endpoint("127.0.0.1", lab.starttls_port, "starttls")),
    )
    return Catalogue(providers=(p,))


async def bench_by_address(lab, runs: int, known, timeouts, tls) -> bool:
    """Rows for detect by address (DNS + autoconfig racing) against the same direct check."""
    resolver, options, stop = start_discovery_lab(lab)
    cat = lab_catalogue(lab)
    ok_all = True
    try:
        for label, email, via in (
            ("address, MX", "u@corp.test", "mx"),
            ("address, autocfg", "u@auto.test", "autoconfig"),
        ):

            def by_address(email=email):
                return detect(email, timeouts=timeouts, tls=tls, catalogue=cat, resolver=resolver, autoconfig=options)

            await by_address()  # warm-up
            check_ms, detect_ms, c, d = await _medians(lambda: run_check(known, None), by_address, runs)
            ok = c.ok and d.ok and d.discovery is not None and d.discovery.via == via
            ok_all &= ok
            print(
                f"{label:<14} check {check_ms:7.1f} ms   detect {detect_ms:7.1f} ms   ratio {detect_ms / check_ms:4.2f}   "
                f"{'ok' if ok else 'WRONG RESULT'} (DNS + autoconfig racing; found via {d.discovery.via if d.discovery else None})"
            )
    finally:
        stop()
    return ok_all


def main() -> int:
    ap = argparse.ArgumentParser(description="detect --host vs a direct check on local servers")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--in-process", action="store_true", help="run the servers in this process (GIL contention)")
    args = ap.parse_args()
    return asyncio.run(bench(args.runs, args.in_process))


if __name__ == "__main__":
    raise SystemExit(main())
