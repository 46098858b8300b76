"""run_check against misbehaving real servers: every locally reproducible diagnosis, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import errno
import socket
import time

import pytest

from app.core.diagnosis import classify as rc
from app.core.diagnosis.table import Code
from app.core.model.events import Stage, StageFailed, StageStarted, TlsEstablished
from app.core.model.settings import Security, SmtpSettings, Timeouts, TlsMinimum, TlsOptions
from app.core.smtp.session import run_check
from tests.fixtures.smtp_servers import TEST_PASSWORD, free_port


class Recorder(list):
    def __call__(self, event):
        self.append(event)

    def of(self, kind):
        return [e for e in self if isinstance(e, kind)]


def failed_stage(ev):
    (f,) = ev.of(StageFailed)
    return f.stage


# -- mode mismatches -----------------------------------------------------------------------------


@pytest.mark.parametrize("security", [Security.STARTTLS, Security.NONE])
async def test_plain_client_on_implicit_tls_port_is_named_at_once(smtp_server, security):
    """Silence after a short grace: a TLS handshake on the same port succeeds, so the verdict is certain and fast."""
    srv = smtp_server("ssl")
    ev = Recorder()
    settings = srv.settings(
        security=security, username="", timeouts=Timeouts(connect=2, greeting=5, command=5, total=10)
    )
    t0 = time.monotonic()
    res = await run_check(settings, None, on_event=ev)
    took = time.monotonic() - t0
    d = res.diagnosis
    assert (d.code, d.variant) == (Code.GREETING_TIMEOUT, "implicit_tls")
    assert failed_stage(ev) is Stage.GREETING
    assert took < 3.0, took  # generous bound; the greeting timeout is 5 s
    assert "SSL/TLS" in d.title and str(srv.port) in d.title and "probably" not in d.title
    switch = [a for a in d.actions if a.kind == "switch_settings"]
    assert switch[0].params == {"port": srv.port, "security": "ssl"}


async def test_silent_port_that_is_not_tls_either_says_so(smtp_server):
    srv = smtp_server("silent")
    settings = srv.settings(
        security=Security.STARTTLS, username="", timeouts=Timeouts(connect=2, greeting=0.6, command=5, total=10)
    )
    res = await run_check(settings, None)
    d = res.diagnosis
    assert (d.code, d.variant) == (Code.GREETING_TIMEOUT, "silent")
    assert "says nothing" in d.title
    assert not any(a.params.get("port") == srv.port for a in d.actions if a.kind == "switch_settings")
    assert srv.connections == 2  # the check and the TLS probe


async def test_implicit_tls_on_plaintext_port_names_the_mismatch(smtp_server):
    srv = smtp_server("starttls")
    ev = Recorder()
    res = await run_check(srv.settings(security=Security.SSL), srv.password, on_event=ev)
    d = res.diagnosis
    assert (d.code, d.variant) == (Code.TLS_HANDSHAKE_FAILED, "plaintext_port")
    assert failed_stage(ev) is Stage.TLS
    assert "does not use SSL/TLS" in d.title
    assert d.actions[0].params == {"port": srv.port, "security": "starttls"}


async def test_starttls_not_advertised(smtp_server):
    srv = smtp_server("no_starttls")
    res = await run_check(srv.settings(security=Security.STARTTLS, username=""), None)
    assert res.diagnosis.code is Code.STARTTLS_UNSUPPORTED


async def test_starttls_refused(smtp_server):
    srv = smtp_server(
        "smtp", ehlo=["STARTTLS"], replies={"STARTTLS": "454 4.7.0 TLS not available due to local problem"}
    )
    res = await run_check(srv.settings(security=Security.STARTTLS, username=""), None)
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.STARTTLS_UNSUPPORTED, "refused")
    assert res.diagnosis.server_reply.startswith("454")


async def test_tls_1_3_required_but_server_stops_at_1_2(smtp_server):
    srv = smtp_server("ssl", max_tls="1.2")
    ok = await run_check(srv.settings(username=""), None)
    assert ok.ok and ok.tls.protocol == "TLSv1.2"
    tls = TlsOptions(cafile=srv.ca_file, minimum=TlsMinimum.TLS1_3)
    res = await run_check(srv.settings(username="", tls=tls), None)
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.TLS_HANDSHAKE_FAILED, "version")


async def test_silent_server_in_ssl_mode_is_a_handshake_timeout(smtp_server):
    srv = smtp_server("silent")
    t0 = time.monotonic()
    res = await run_check(srv.settings(security=Security.SSL, username="", timeouts=Timeouts(1, 0.3, 0.4, 3)), None)
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.TLS_HANDSHAKE_FAILED, "timeout")
    assert time.monotonic() - t0 < 1.5


# -- certificates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cert,code,variant",
    [
        ("expired", Code.CERT_EXPIRED, ""),
        ("wrong_host", Code.CERT_HOSTNAME_MISMATCH, ""),
        ("self_signed", Code.CERT_UNTRUSTED, "self_signed"),
    ],
)
@pytest.mark.parametrize("kind", ["ssl", "starttls"])
async def test_certificate_failures_have_their_own_code_and_details(smtp_server, tls_certs, cert, code, variant, kind):
    srv = smtp_server(kind, cert=cert)
    ev = Recorder()
    res = await run_check(srv.settings(), srv.password, on_event=ev)
    d = res.diagnosis
    assert (d.code, d.variant) == (code, variant)
    assert failed_stage(ev) is (Stage.TLS if kind == "ssl" else Stage.STARTTLS)
    # details are reported although verification failed (second, non-verifying handshake)
    (est,) = ev.of(TlsEstablished)
    assert est.details.sha256 == tls_certs.sha256(cert) and est.details.verified is False
    assert res.tls == est.details
    assert d.params["sha256"] == tls_certs.sha256(cert)
    trust = [a for a in d.actions if a.kind == "trust_certificate"]
    if code is Code.CERT_UNTRUSTED:
        assert trust and trust[0].params == {"sha256": tls_certs.sha256(cert)}
    else:
        assert not trust
    if code is Code.CERT_EXPIRED:
        assert d.params["not_after"].startswith("2001-01-01")
        assert "2001-01-01" in d.explanation
    if code is Code.CERT_HOSTNAME_MISMATCH:
        assert "mail.example.com" in d.explanation
        assert any(a.params.get("host") == "mail.example.com" for a in d.actions)


async def test_valid_certificate_from_unknown_ca_is_untrusted(smtp_server, tls_certs):
    srv = smtp_server("ssl")
    res = await run_check(srv.settings(tls=TlsOptions()), srv.password)  # no --cafile
    d = res.diagnosis
    assert (d.code, d.variant) == (Code.CERT_UNTRUSTED, "")
    assert d.actions[0].params["sha256"] == tls_certs.sha256("valid")


async def test_pinned_fingerprint_accepts_exactly_that_certificate(smtp_server, tls_certs):
    srv = smtp_server("ssl", cert="self_signed")
    pin = ":".join(tls_certs.sha256("self_signed")[i : i + 2].upper() for i in range(0, 64, 2))
    res = await run_check(srv.settings(tls=TlsOptions(pinned_sha256=tls_certs.sha256("self_signed"))), srv.password)
    assert res.ok, res.diagnosis
    assert res.tls.sha256 == tls_certs.sha256("self_signed")
    wrong = await run_check(srv.settings(tls=TlsOptions(pinned_sha256=tls_certs.sha256("valid"))), srv.password)
    assert (wrong.diagnosis.code, wrong.diagnosis.variant) == (Code.CERT_UNTRUSTED, "pin_mismatch")
    assert pin  # colon form is normalised by settings helpers elsewhere


async def test_insecure_accepts_anything_but_reports_unverified(smtp_server):
    srv = smtp_server("ssl", cert="expired")
    res = await run_check(srv.settings(tls=TlsOptions(verify=False)), srv.password)
    assert res.ok and res.tls.verified is False


# -- greeting problems -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,variant,code", [("greeting_554", "", 554), ("greeting_421", "busy", 421)])
async def test_refusing_greeting_is_server_unavailable(smtp_server, kind, variant, code):
    srv = smtp_server(kind)
    res = await run_check(srv.settings(username=""), None)
    d = res.diagnosis
    assert (d.code, d.variant) == (Code.SERVER_UNAVAILABLE, variant)
    assert d.server_reply.startswith(str(code))


@pytest.mark.parametrize(
    "kind,variant",
    [("garbage", "garbage"), ("huge_line", "too_long"), ("drop_after_ehlo", "closed")],
)
async def test_not_smtp_is_protocol_error(smtp_server, kind, variant):
    srv = smtp_server(kind)
    res = await run_check(srv.settings(username=""), None)
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.PROTOCOL_ERROR, variant)
    if kind == "garbage":
        assert res.diagnosis.server_reply == "HTTP/1.1 400 Bad Request"


async def test_slow_drip_greeting_is_bounded_by_the_greeting_timeout(smtp_server):
    srv = smtp_server("slow_drip")
    t0 = time.monotonic()
    res = await run_check(srv.settings(username="", timeouts=Timeouts(1, 0.4, 5, 10)), None)
    took = time.monotonic() - t0
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.GREETING_TIMEOUT, "slow")
    assert took < 1.5


async def test_never_ending_multiline_reply_is_bounded_by_the_command_timeout(smtp_server):
    srv = smtp_server("endless_multiline", line_delay=0.02)
    t0 = time.monotonic()
    res = await run_check(srv.settings(username="", timeouts=Timeouts(1, 1, 0.4, 10)), None)
    took = time.monotonic() - t0
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.PROTOCOL_ERROR, "reply_timeout")
    assert took < 1.5


async def test_flood_of_reply_lines_is_cut_off(smtp_server):
    srv = smtp_server("endless_multiline", line_delay=0)
    res = await run_check(srv.settings(username="", timeouts=Timeouts(1, 1, 3, 10)), None)
    assert (res.diagnosis.code, res.diagnosis.variant) == (Code.PROTOCOL_ERROR, "too_long")


async def test_overall_deadline_bounds_every_stage(smtp_server):
    srv = smtp_server("silent")
    t0 = time.monotonic()
    res = await run_check(srv.settings(username="", timeouts=Timeouts(5, 5, 5, 0.3)), None)
    assert res.diagnosis.code is Code.GREETING_TIMEOUT
    assert time.monotonic() - t0 < 1.2


# -- network failures ---------------------------------------------------------------------------------


async def test_closed_port_is_connect_refused():
    port = free_port()
    ev = Recorder()
    res = await run_check(
        SmtpSettings("127.0.0.1", port, Security.STARTTLS, timeouts=Timeouts(1, 1, 1, 2)), None, on_event=ev
    )
    d = res.diagnosis
    assert d.code is Code.CONNECT_REFUSED and failed_stage(ev) is Stage.CONNECT
    assert f"127.0.0.1:{port}" == d.params["address"]
    assert any(a.kind == "autodetect" for a in d.actions)


async def test_unresolvable_name_is_dns_failed():
    res = await run_check(
        SmtpSettings("no-such-host.invalid", 587, Security.STARTTLS, timeouts=Timeouts(2, 1, 1, 3)), None
    )
    assert res.diagnosis.code is Code.DNS_FAILED
    assert "no-such-host.invalid" in res.diagnosis.title


async def test_full_backlog_is_connect_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    port = listener.getsockname()[1]
    try:
        for _ in range(4):  # fill the accept queue so further SYNs are dropped
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        t0 = time.monotonic()
        res = await run_check(SmtpSettings("127.0.0.1", port, Security.STARTTLS, timeouts=Timeouts(0.3, 1, 1, 3)), None)
        if res.diagnosis.code is not Code.CONNECT_TIMEOUT:
            pytest.skip(f"this kernel accepted the connection ({res.diagnosis.code})")
        # the connect timeout (0.3 s) decided it, not the overall timeout (3 s); a generous bound for a busy machine
        assert time.monotonic() - t0 < 2.5
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_connect_error_classification_of_real_errnos():
    s = SmtpSettings("smtp.example.com", 25, Security.STARTTLS)
    assert (
        rc.connect_error(s, OSError(errno.ENETUNREACH, "Network is unreachable"), "192.0.2.1:25").code
        is Code.NETWORK_UNREACHABLE
    )
    assert rc.connect_error(s, ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "x").code is Code.CONNECT_REFUSED
    d = rc.connect_timeout(s, "192.0.2.1:25", 10)
    assert (d.code, d.variant) == (Code.CONNECT_TIMEOUT, "port25")
    assert "587" in d.fixes[0] and "blocked" in d.title


# -- cancellation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("security,stage", [(Security.STARTTLS, Stage.GREETING), (Security.SSL, Stage.TLS)])
async def test_cancellation_closes_the_socket_promptly(smtp_server, security, stage):
    srv = smtp_server("silent")
    ev = Recorder()
    reached = asyncio.Event()

    def on_event(e):
        ev(e)
        if isinstance(e, StageStarted) and e.stage is stage:
            reached.set()

    task = asyncio.create_task(
        run_check(srv.settings(security=security, username="", timeouts=Timeouts(5, 5, 5, 10)), None, on_event=on_event)
    )
    await asyncio.wait_for(reached.wait(), 2)
    t0 = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # promptly: far below the 5 s stage timeouts that would otherwise end the wait
    assert time.monotonic() - t0 < 2.5
    (f,) = ev.of(StageFailed)
    assert f.stage is stage and f.diagnosis.code is Code.CANCELLED
    closed = await asyncio.get_running_loop().run_in_executor(None, srv.client_closed.wait, 2.0)
    assert closed, "the server never saw the connection close"


async def test_proxy_is_used_when_set(smtp_server, socks5_proxy):
    srv = smtp_server("ssl")
    ev = Recorder()
    url = getattr(socks5_proxy, "url", None)
    if url is None:
        pytest.skip("socks5_proxy fixture has no url")
    res = await run_check(srv.settings(proxy=url), srv.password, on_event=ev)
    assert res.ok, res.diagnosis
    assert any(e.stage is Stage.RESOLVE for e in ev if hasattr(e, "reason"))
    assert TEST_PASSWORD not in repr(list(ev))


async def test_unreachable_proxy_is_proxy_failed(smtp_server):
    srv = smtp_server("ssl")
    res = await run_check(srv.settings(proxy=f"socks5://u:proxy-secret@127.0.0.1:{free_port()}"), srv.password)
    assert res.diagnosis.code is Code.PROXY_FAILED
    assert "proxy-secret" not in repr(res.to_dict())


async def test_engine_logging_never_contains_the_password(smtp_server, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    srv = smtp_server("starttls", cert="self_signed")
    await run_check(srv.settings(), TEST_PASSWORD)
    srv2 = smtp_server("ssl")
    await run_check(srv2.settings(), TEST_PASSWORD)
    await run_check(srv2.settings(), "wrong-" + TEST_PASSWORD)
    text = caplog.text + repr([r.args for r in caplog.records])
    assert TEST_PASSWORD not in text and "proxy-secret" not in text
