"""Hostile input for the engine's guards: addresses, commands, certificates, verdicts (issue 10 items 7, 8).

Every case asserts the exact outcome; servers are real aiosmtpd servers on loopback.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest

from app.core.diagnosis import Code, drop_failed_switches
from app.core.diagnosis import classify as rc
from app.core.model import Reply, Security, SmtpSettings, Timeouts, TlsOptions
from app.core.smtp import MessageSpec, build_message, run_check, send_message
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER, free_port

# -- a certificate with a common name and no subjectAltName -----------------------------------------


def _cn_only_cert(base: Path) -> tuple[str, Path, Path]:
    """(CA file, leaf cert, leaf key) where the leaf names 'localhost' only in its common name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MailSetup CN-only test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = base / "cn-ca.pem", base / "cn-leaf.pem", base / "cn-key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(ca_file), cert_file, key_file


@pytest.fixture
def aiosmtpd_server():
    """Factory: start an aiosmtpd Controller with ``handler`` and options; stopped after the test."""
    from aiosmtpd.controller import Controller

    stops = []

    def start(handler, **kwargs):
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        stops.append(controller.stop)
        return port

    yield start
    for stop in stops:
        stop()


class _Handler:
    """Scripted answers: ``mail``/``rcpt`` replies (None = accept); records what arrived."""

    def __init__(self, mail: str | None = None, rcpt: str | None = None):
        self.mail, self.rcpt = mail, rcpt
        self.commands: list[str] = []
        self.delivered: list[tuple[str, list[str]]] = []

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.commands.append(f"MAIL {address}")
        if self.mail:
            return self.mail
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.commands.append(f"RCPT {address}")
        if self.rcpt:
            return self.rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.delivered.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued as HOSTILE1"


def _auth(server, session, envelope, mechanism, data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        TEST_USER.encode(),
        TEST_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def _settings(port: int, *, ca: str | None = None, host: str = "127.0.0.1", user: str = "") -> SmtpSettings:
    return SmtpSettings(
        host=host,
        port=port,
        security=Security.SSL,
        username=user,
        timeouts=Timeouts(connect=2.0, greeting=1.0, command=2.0, total=5.0),
        tls=TlsOptions(cafile=ca),
    )


def _message(**changes) -> object:
    base = dict(from_addr=TEST_USER, to="r@example.com", subject="s", text="hello")
    base.update(changes)
    return build_message(MessageSpec(**base))


async def test_certificate_with_common_name_only_is_a_hostname_mismatch(aiosmtpd_server, tmp_path):
    ca, cert, key = _cn_only_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    port = aiosmtpd_server(_Handler(), ssl_context=ctx)
    result = await run_check(_settings(port, ca=ca, host="localhost"), None)
    assert not result.ok
    assert result.diagnosis.code is Code.CERT_HOSTNAME_MISMATCH


async def test_command_guard_refuses_a_control_character_before_it_is_sent(smtp_server):
    srv = smtp_server("ssl")
    result = await send_message(srv.settings(), srv.password, _message(), sender="a\x00b@example.com")
    assert not result.ok
    assert result.diagnosis.code is Code.INVALID_INPUT
    assert result.diagnosis.params["message"] == "an SMTP command must not contain NUL"
    assert srv.messages == []


async def test_command_guard_refuses_del_in_a_recipient(smtp_server):
    srv = smtp_server("ssl")
    result = await send_message(
        srv.settings(), srv.password, _message(), recipients=["r\x7f@example.com", "ok@example.com"]
    )
    assert not result.ok
    assert result.diagnosis.params["message"] == "an SMTP command must not contain DEL"
    assert srv.messages == []


async def test_a_password_with_a_vertical_tab_is_refused_before_connecting(smtp_server):
    srv = smtp_server("ssl")
    result = await run_check(srv.settings(), "pass\x0bword")
    assert not result.ok
    assert result.diagnosis.code is Code.INVALID_INPUT
    assert result.diagnosis.params["message"] == "The password must not contain a vertical tab."
    assert srv.connections == 0


# -- verdicts (item 8) -------------------------------------------------------------------------------


async def test_421_in_reply_to_mail_from_is_server_unavailable(aiosmtpd_server, tls_certs):
    handler = _Handler(mail="421 4.3.2 Service shutting down, closing channel")
    port = aiosmtpd_server(handler, ssl_context=tls_certs.server_context())
    result = await send_message(_settings(port, ca=tls_certs.ca_file), None, _message())
    assert not result.ok
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.SERVER_UNAVAILABLE, "busy")
    assert handler.delivered == []


async def test_421_in_reply_to_rcpt_is_server_unavailable(aiosmtpd_server, tls_certs):
    port = aiosmtpd_server(_Handler(rcpt="421 4.7.0 Try again later"), ssl_context=tls_certs.server_context())
    result = await send_message(_settings(port, ca=tls_certs.ca_file), None, _message())
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.SERVER_UNAVAILABLE, "busy")


async def test_relay_denied_after_login_does_not_advise_logging_in(aiosmtpd_server, tls_certs):
    handler = _Handler(rcpt="554 5.7.1 <r@example.com>: Relay access denied")
    port = aiosmtpd_server(handler, ssl_context=tls_certs.server_context(), authenticator=_auth, auth_require_tls=False)
    settings = _settings(port, ca=tls_certs.ca_file, user=TEST_USER)
    result = await send_message(settings, TEST_PASSWORD, _message())
    d = result.diagnosis
    assert (d.code, d.variant) == (Code.RECIPIENT_REJECTED, "relay_authenticated")
    _title, explanation, fixes = d.render()
    assert f"You are logged in as {TEST_USER}" in explanation
    assert not any("log in" in f.lower() for f in fixes)


async def test_relay_denied_without_login_still_advises_logging_in(aiosmtpd_server, tls_certs):
    port = aiosmtpd_server(
        _Handler(rcpt="554 5.7.1 <r@example.com>: Relay access denied"), ssl_context=tls_certs.server_context()
    )
    result = await send_message(_settings(port, ca=tls_certs.ca_file), None, _message())
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.RECIPIENT_REJECTED, "relay")
    assert "Log in with your account (enter login and password)." in result.diagnosis.render()[2]


def _refused_on(port: int, security: Security) -> object:
    settings = SmtpSettings(host="127.0.0.1", port=port, security=security)
    return rc.connect_error(settings, ConnectionRefusedError(111, "Connection refused"), f"127.0.0.1:{port}")


def test_a_refused_587_is_not_answered_with_try_587():
    d = _refused_on(587, Security.STARTTLS)
    fixes = d.render()[2]
    assert d.variant == "tried_587"
    assert fixes[0] == "Port 587 (STARTTLS) was tried: try port 465 with SSL/TLS."
    assert not any("try port 587" in f.lower() for f in fixes)
    assert [a.params.get("port") for a in d.actions if a.kind == "switch_settings"] == [465]


def test_after_the_paired_alternative_failed_neither_port_is_offered_again():
    d = _refused_on(587, Security.STARTTLS)
    alt = SmtpSettings(host="127.0.0.1", port=465, security=Security.SSL)
    d2 = drop_failed_switches(d, [alt])
    assert d2.variant == "tried_both"
    assert [a for a in d2.actions if a.kind == "switch_settings"] == []
    assert "Both submission ports, 587 and 465, refuse connections on 127.0.0.1." in d2.render()[1]


def test_a_421_is_never_a_verdict_about_the_sender_the_recipient_or_the_message():
    s = SmtpSettings(host="h.example", port=465, security=Security.SSL)
    reply = Reply(421, ("4.3.2 closing",))
    assert rc.sender_rejected(s, reply, "a@b.c").code is Code.SERVER_UNAVAILABLE
    assert rc.recipients_rejected(s, {"x@y.z": reply}, []).code is Code.SERVER_UNAVAILABLE
    assert rc.message_rejected(s, reply).code is Code.SERVER_UNAVAILABLE
    assert rc.auth_reply(s, reply, "PLAIN", None).code is Code.SERVER_UNAVAILABLE
