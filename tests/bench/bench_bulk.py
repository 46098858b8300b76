"""Benchmark of ``profiles check --all`` (app.core.fleet.check_fleet): many slow mailboxes at once (a script).

A local implicit-TLS SMTP server answers AUTH only after ``--delay`` seconds (like Dovecot's delay after a
login). Measured in the same run: one such check alone (the baseline), then ``--profiles`` saved profiles
checked with several ``--parallel`` bounds. Goal: 30 profiles in <= 3x the baseline (sequential would be 30x).
The secrets come from an in-process keyring backend given explicitly to the SecretStore (this measures the
checks' concurrency, not the system keyring; the tests use the real gnome-keyring).

Run:  python tests/bench/bench_bulk.py [--profiles 30] [--delay 1.5] [--parallel 8 16 30]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from keyring.backend import KeyringBackend

from app.core.fleet import FleetResult, check_fleet
from app.core.model.settings import Timeouts
from app.core.store import AccountStore, Profile, ProfileStore, SecretStore
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER, make_cert_bundle, start_raw


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict, for this benchmark only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


def make_store(folder: Path, info, count: int) -> AccountStore:
    accounts = AccountStore(ProfileStore(folder / "profiles.json"), SecretStore(MemoryKeyring()))
    settings = info.settings(username=TEST_USER, timeouts=Timeouts(connect=5, greeting=5, command=10, total=30))
    for i in range(count):
        accounts.save(Profile(name=f"mailbox {i:02d}", settings=settings), password=TEST_PASSWORD)
    return accounts


async def timed(accounts: AccountStore, parallel: int) -> tuple[float, list[FleetResult]]:
    results: list[FleetResult] = []
    t0 = time.perf_counter()
    summary = await check_fleet(results.append, accounts=accounts, parallel=parallel, deadline=120)
    elapsed = time.perf_counter() - t0
    assert summary.failed == 0, [r.to_dict() for r in results if not r.ok]
    return elapsed, results


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=30)
    ap.add_argument("--delay", type=float, default=1.5, help="seconds the server waits before answering AUTH")
    ap.add_argument("--parallel", type=int, nargs="+", default=[8, 16, 30])
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        certs = make_cert_bundle(folder)
        info, stop = start_raw("smtp", certs, implicit_tls=True, auth_delay=opts.delay)
        try:
            (folder / "one").mkdir()
            (folder / "many").mkdir()
            one = make_store(folder / "one", info, 1)
            many = make_store(folder / "many", info, opts.profiles)
            base, _ = asyncio.run(timed(one, 1))
            print(f"one check (server delays AUTH by {opts.delay:g} s): {base * 1000:.0f} ms")
            for parallel in opts.parallel:
                info.max_active = 0
                elapsed, results = asyncio.run(timed(many, parallel))
                print(
                    f"{len(results)} profiles, --parallel {parallel}: {elapsed * 1000:.0f} ms = "
                    f"{elapsed / base:.2f}x one check (sequential ~{opts.profiles}x); "
                    f"at most {info.max_active} connections at once on the server"
                )
        finally:
            stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
