"""Benchmark of the incoming side (a script, not a test).

(a) An SMTP check and an IMAP check run in parallel (as the wizard's Check page does) against the
    SMTP check alone and the IMAP check alone, median over N runs each, interleaved; goal: ratio <= 1.2.
    On loopback the SMTP check is a few ms and Dovecot's IMAP login (it forks a login and a mail
    process) is longer, so the fair figure there is the ratio to the slower check alone.
(b) The round trip on the local servers: send through an aiosmtpd MTA that delivers into a real
    Dovecot, then find the message over IMAP (median time from the send's start to the find).

Run:  python tests/bench/bench_incoming.py [--runs 30]   (needs dovecot-imapd, dovecot-pop3d)
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

from aiosmtpd.controller import Controller

from app.core.incoming import check_imap, confirm_delivery, mark_message, new_token
from app.core.model import Timeouts
from app.core.smtp import MessageSpec, build_message, run_check, send_message
from tests.fixtures.dovecot import DeliveringHandler, start_dovecot
from tests.fixtures.smtp_servers import (
    TEST_PASSWORD,
    TEST_USER,
    ServerInfo,
    free_port,
    make_cert_bundle,
    start_aiosmtpd,
)

PLAIN = Timeouts()


async def smtp_alone(smtp) -> float:
    t0 = time.perf_counter()
    res = await run_check(smtp.settings(timeouts=PLAIN), TEST_PASSWORD)
    assert res.ok, res.diagnosis
    return (time.perf_counter() - t0) * 1000


async def imap_alone(dovecot) -> float:
    t0 = time.perf_counter()
    res = await check_imap(dovecot.settings("imap", "ssl", timeouts=PLAIN), TEST_PASSWORD)
    assert res.ok, res.diagnosis
    return (time.perf_counter() - t0) * 1000


async def smtp_and_imap(smtp, dovecot) -> float:
    t0 = time.perf_counter()
    a, b = await asyncio.gather(
        run_check(smtp.settings(timeouts=PLAIN), TEST_PASSWORD),
        check_imap(dovecot.settings("imap", "ssl", timeouts=PLAIN), TEST_PASSWORD),
    )
    assert a.ok and b.ok, (a.diagnosis, b.diagnosis)
    return (time.perf_counter() - t0) * 1000


async def round_trip(mta, dovecot) -> float:
    token = new_token()
    message = build_message(MessageSpec(from_addr=TEST_USER, to=TEST_USER, subject="bench", text="x"))
    mark_message(message, token)
    t0 = time.perf_counter()
    sent = await send_message(mta.settings(timeouts=PLAIN), None, message)
    assert sent.ok, sent.diagnosis
    found = await confirm_delivery(dovecot.settings("imap", "ssl", timeouts=PLAIN), TEST_PASSWORD, token, timeout=10)
    assert found.found, found.diagnosis
    return (time.perf_counter() - t0) * 1000


async def main_async(runs: int) -> None:
    import pytest  # start_dovecot may skip

    with tempfile.TemporaryDirectory() as tmp:
        certs = make_cert_bundle(Path(tmp))
        smtp, stop_smtp = start_aiosmtpd("ssl", certs)
        try:
            dovecot, stop_dovecot = start_dovecot(certs)
        except pytest.skip.Exception as exc:
            stop_smtp()
            sys.exit(f"skipped: {exc}")
        handler = DeliveringHandler(dovecot, "spf=pass; dkim=pass; dmarc=pass")
        mta_port = free_port()
        mta = Controller(handler, hostname="127.0.0.1", port=mta_port)
        try:
            alone, imap, both = [], [], []
            await smtp_alone(smtp)
            await smtp_and_imap(smtp, dovecot)  # warm-up (contexts cached, processes forked)
            for _ in range(runs):
                alone.append(await smtp_alone(smtp))
                imap.append(await imap_alone(dovecot))
                both.append(await smtp_and_imap(smtp, dovecot))
            ma, mi, mb = statistics.median(alone), statistics.median(imap), statistics.median(both)
            print(
                f"(a) {runs} runs: SMTP alone median {ma:.1f} ms, IMAP alone {mi:.1f} ms, both in parallel {mb:.1f} ms; "
                f"ratio to SMTP alone {mb / ma:.2f} (goal <= 1.2), to the slower of the two alone {mb / max(ma, mi):.2f}"
            )
            mta.start()
            info = ServerInfo("plain", "127.0.0.1", mta_port, "none", None, None, certs.ca_file)
            trips = [await round_trip(info, dovecot) for _ in range(max(runs // 3, 5))]
            print(
                f"(b) round trip (send + find in INBOX), {len(trips)} runs: median {statistics.median(trips):.1f} ms, max {max(trips):.1f} ms"
            )
        finally:
            try:
                mta.stop()
            except Exception:
                pass
            stop_dovecot()
            stop_smtp()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=30)
    asyncio.run(main_async(p.parse_args().runs))


if __name__ == "__main__":
    main()
