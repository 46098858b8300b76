"""Many saved accounts at once (app.core.fleet, ``profiles check --all``): real servers, the real keyring.

Mixed outcomes (pass, wrong password, missing secret, corrupt entry, hostile names), the concurrency bound
counted on the server side, the overall deadline, cancellation, and the JUnit file parsed back.
"""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET

import pytest

from app.cli.main import main
from app.core.fleet import FleetResult, check_fleet, render_junit, validate_parallel
from app.core.store import AccountStore, Profile, SecretStore
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER

pytestmark = pytest.mark.keyring

HOSTILE = 'evil <x> & "q" ]]> \u202e ✉'  # markup and a bidi override (names refuse control characters)
BROKEN = "broken\x1b[2J\x01"  # a corrupt entry's key in the file can hold anything


def save(name: str, server, *, password: str | None = TEST_PASSWORD) -> None:
    profile = Profile(name=name, settings=server.settings(username=TEST_USER))
    AccountStore().save(profile, password=password)


def add_corrupt_entry(name: str) -> None:
    path = AccountStore().path
    data = json.loads(path.read_text(encoding="utf-8"))
    data["profiles"][name] = {"name": name, "settings": [1]}
    path.write_text(json.dumps(data), encoding="utf-8")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_mixed_results_json_and_junit(secret_service, smtp_server, capsys, tmp_path):
    good = smtp_server("ssl", username=TEST_USER, password=TEST_PASSWORD)
    wrong = smtp_server("auth_535", implicit_tls=True)
    save("good", good)
    save(HOSTILE, good)
    save("wrong password", wrong)
    save("secret gone", good)
    assert SecretStore().delete("secret gone")
    add_corrupt_entry(BROKEN)
    junit = tmp_path / "report.xml"

    code, out, err = run(capsys, "profiles", "check", "--all", "--json", "--junit", str(junit))
    assert code == 1, out + err
    events = [json.loads(line) for line in out.splitlines()]
    results = {e["profile"]: e for e in events if e["event"] == "result"}
    assert events[-1]["event"] == "summary"
    assert (events[-1]["ok"], events[-1]["failed"]) == (2, 3)
    assert set(results) == {"good", HOSTILE, "wrong password", "secret gone", BROKEN}
    assert results["good"]["ok"] is True and results[HOSTILE]["ok"] is True
    assert results["wrong password"]["code"] == "auth_failed"
    assert results["secret gone"]["code"] == "secret_missing"
    assert results[BROKEN]["code"] == "profile_corrupt"
    assert all(e["elapsed_ms"] >= 0 for e in results.values())
    assert TEST_PASSWORD not in out + err and "\x1b" not in out

    root = ET.parse(junit).getroot()  # a valid document despite the hostile name
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "3"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"good", HOSTILE, "wrong password", "secret gone", "broken\\u001b[2J\\u0001"}
    assert cases["good"].find("failure") is None
    failure = cases["wrong password"].find("failure")
    assert failure is not None and failure.get("type") == "auth_failed" and failure.get("message")
    assert cases["secret gone"].find("failure").get("message") == "Stored password not found"
    assert TEST_PASSWORD not in junit.read_text(encoding="utf-8")


def test_text_mode_all_pass_exits_zero(secret_service, smtp_server, capsys):
    good = smtp_server("ssl", username=TEST_USER, password=TEST_PASSWORD)
    save("a", good)
    save("b", good)
    code, out, err = run(capsys, "profiles", "check", "--all")
    assert code == 0, out + err
    assert out.count("OK      ") == 2 and "2 of 2 passed, 0 failed" in out


def test_parallel_bound_is_respected_on_the_server(secret_service, smtp_server):
    slow = smtp_server("smtp", implicit_tls=True, auth_delay=0.2)
    for i in range(6):
        save(f"slow {i}", slow)
    seen: list[FleetResult] = []
    summary = asyncio.run(check_fleet(seen.append, parallel=2, deadline=30))
    assert summary.ok == 6 and summary.failed == 0, [r.to_dict() for r in seen]
    assert slow.max_active == 2  # never more than the bound, and the bound was used
    assert len(seen) == 6


def test_deadline_reports_the_unfinished_as_failed(secret_service, smtp_server):
    slow = smtp_server("smtp", implicit_tls=True, auth_delay=3.0)
    for i in range(3):
        save(f"slow {i}", slow)
    seen: list[FleetResult] = []
    summary = asyncio.run(check_fleet(seen.append, parallel=1, deadline=0.6))
    assert summary.failed == 3 and summary.ok == 0
    assert sorted(r.profile for r in seen) == ["slow 0", "slow 1", "slow 2"]  # each exactly once
    assert sum(r.code == "deadline" for r in seen) >= 2  # the ones that never started
    assert summary.elapsed_ms < 3000  # did not wait for the server's 3 s answer


def test_cancel_stops_every_check(secret_service, smtp_server):
    slow = smtp_server("smtp", implicit_tls=True, auth_delay=3.0)
    for i in range(3):
        save(f"slow {i}", slow)

    late: list[FleetResult] = []

    async def scenario() -> None:
        task = asyncio.ensure_future(check_fleet(late.append, parallel=3, deadline=30))
        while slow.connections < 3:  # all three are waiting for the slow AUTH answer
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == []  # nothing outlives the run

    asyncio.run(scenario())
    assert late == []  # no check reported once the run was cancelled
    assert slow.client_closed.wait(2)


@pytest.mark.parametrize("value", ["0", "65", "x", "8.5", "-1"])
def test_parallel_is_validated(value, capsys):
    with pytest.raises(ValueError):
        validate_parallel(value)
    code, _out, err = run(capsys, "profiles", "check", "--all", "--parallel", value)
    assert code == 2 and "--parallel" in err


def test_name_and_all_are_exclusive(capsys):
    code, _out, err = run(capsys, "profiles", "check", "x", "--all")
    assert code == 2 and "not both" in err
    code, _out, err = run(capsys, "profiles", "check")
    assert code == 2 and "--all" in err


def test_junit_escapes_hostile_names():
    from app.core.fleet import FleetSummary

    r = FleetResult("]]><x/>\x00\ud800", False, "deadline", None, ("<b>fix</b>",), 1.0)
    text = render_junit([r], FleetSummary(0, 1, 1.0))
    case = ET.fromstring(text).find("testsuite/testcase")
    assert case is not None and case.get("name") == "]]><x/>\\u0000\\ud800"
    assert "<b>fix</b>" in case.find("failure").text


def test_a_slow_password_store_does_not_stall_the_run(secret_service, smtp_server, monkeypatch):
    """Keyring reads block (D-Bus, an unlock prompt): they run off the event loop, so the loop, the other
    checks and the deadline keep going while one waits."""
    import threading
    import time

    good = smtp_server("ssl", username=TEST_USER, password=TEST_PASSWORD)
    save("waits for the store", good)
    release = threading.Event()
    original = AccountStore.load

    def slow_load(self, name):
        release.wait(5)  # a password store waiting on its unlock prompt
        return original(self, name)

    monkeypatch.setattr(AccountStore, "load", slow_load)
    seen: list[FleetResult] = []

    async def scenario() -> tuple[int, object]:
        ticks = 0
        run = asyncio.ensure_future(check_fleet(seen.append, parallel=2, deadline=30))
        started = time.monotonic()
        while time.monotonic() - started < 0.3:  # the loop keeps turning while the store is stuck
            await asyncio.sleep(0.01)
            ticks += 1
        release.set()
        return ticks, await run

    ticks, summary = asyncio.run(scenario())
    assert ticks >= 15  # with the read on the loop: 1 (the loop froze until the store answered)
    assert (summary.ok, summary.failed) == (1, 0) and [r.profile for r in seen] == ["waits for the store"]
