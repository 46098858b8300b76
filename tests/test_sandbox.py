"""The built-in sandbox: real TLS listeners, real engine checks and sends, inbox, persistence, no leaks."""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
import stat
import threading
from email.message import EmailMessage

import pytest

from app.core.diagnosis.table import Code
from app.core.model.settings import TlsOptions
from app.core.sandbox.server import ReceivedMessage, SandboxServer
from app.core.smtp.session import run_check


@pytest.fixture
def sandbox(tmp_path):
    server = SandboxServer(tmp_path / "sandbox")
    server.start()
    yield server
    server.stop()


def _client_context(server: SandboxServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.info.ca_file))


def _message(subject: str, *, attachment: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.test>"
    msg["To"] = "rcpt@example.test"
    msg["Subject"] = subject
    msg.set_content("Hello from the sandbox test.\n")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="report.bin")
    return msg


def _send_smtplib(server: SandboxServer, msg: EmailMessage, *, starttls: bool = False, mechanism: str | None = None):
    info = server.info
    ctx = _client_context(server)
    if starttls:
        client = smtplib.SMTP(info.host, info.starttls_port, timeout=5)
        client.starttls(context=ctx)
    else:
        client = smtplib.SMTP_SSL(info.host, info.ssl_port, context=ctx, timeout=5)
    with client:
        client.ehlo()
        if mechanism:
            client.user, client.password = info.username, info.password
            client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"), initial_response_ok=False)
        else:
            client.login(info.username, info.password)
        client.send_message(msg)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_engine_check_passes_with_login(sandbox, security):
    result = await run_check(sandbox.settings(security), sandbox.info.password)
    assert result.ok, result.diagnosis
    assert result.auth_verified
    assert result.tls is not None
    assert result.settings.port == (sandbox.info.ssl_port if security == "ssl" else sandbox.info.starttls_port)


async def test_wrong_password_is_an_auth_failure(sandbox):
    result = await run_check(sandbox.settings("ssl"), "not-the-password")
    assert not result.ok
    assert result.diagnosis.code is Code.AUTH_FAILED


async def test_sandbox_ca_is_trusted_only_through_the_profile(sandbox):
    settings = sandbox.settings("ssl")
    assert settings.tls.cafile == str(sandbox.info.ca_file) and settings.tls.verify
    result = await run_check(settings.with_(tls=TlsOptions()), sandbox.info.password)
    assert not result.ok
    assert result.diagnosis.code is Code.CERT_UNTRUSTED


async def test_engine_send_arrives_with_headers_and_attachment(sandbox, tmp_path):
    message_mod = pytest.importorskip("app.core.smtp.message")
    sending = pytest.importorskip("app.core.smtp.send")
    attachment = tmp_path / "notes.txt"
    attachment.write_bytes(b"x" * 1234)
    spec = message_mod.MessageSpec(
        from_addr=f"{sandbox.info.username}@localhost",
        from_name="Sandbox Test",
        to=["first@example.test", "second@example.test"],
        cc=[],
        bcc=[],
        subject="Engine send через песочницу",
        text="Body line.",
        html=None,
        attachments=[attachment],
    )
    result = await sending.send_message(
        sandbox.settings("starttls"), sandbox.info.password, message_mod.build_message(spec)
    )
    assert result.ok, result.diagnosis
    [got] = sandbox.inbox
    assert got.subject == "Engine send через песочницу"
    assert got.mail_from == f"{sandbox.info.username}@localhost"
    assert set(got.rcpt_tos) == {"first@example.test", "second@example.test"}
    assert got.attachments == [("notes.txt", 1234)]
    assert got.parsed()["From"].addresses[0].display_name == "Sandbox Test"


@pytest.mark.parametrize("starttls", [False, True])
def test_inbox_keeps_message_with_attachment(sandbox, starttls):
    _send_smtplib(sandbox, _message("With attachment", attachment=b"\x00\x01" * 500), starttls=starttls)
    [got] = sandbox.inbox
    assert isinstance(got, ReceivedMessage)
    assert got.subject == "With attachment"
    assert got.mail_from == "sender@example.test"
    assert got.rcpt_tos == ("rcpt@example.test",)
    assert got.attachments == [("report.bin", 1000)]
    assert got.size == len(got.raw) and b"Hello from the sandbox test." in got.raw
    assert got.parsed().get_body(("plain",)).get_content() == "Hello from the sandbox test.\n"


def test_mail_without_login_is_refused(sandbox):
    info = sandbox.info
    with smtplib.SMTP_SSL(info.host, info.ssl_port, context=_client_context(sandbox), timeout=5) as client:
        client.ehlo()
        code, reply = client.mail("sender@example.test")
    assert code == 530 and b"Authentication required" in reply
    assert sandbox.inbox == []


def test_listener_fires_from_server_thread(sandbox):
    got: list[ReceivedMessage] = []
    arrived = threading.Event()
    threads: list[threading.Thread] = []

    def listener(message: ReceivedMessage) -> None:
        got.append(message)
        threads.append(threading.current_thread())
        arrived.set()

    sandbox.add_listener(listener)
    _send_smtplib(sandbox, _message("Listener"))
    assert arrived.wait(5)
    assert [m.subject for m in got] == ["Listener"]
    assert threads[0] is not threading.main_thread()
    sandbox.remove_listener(listener)
    _send_smtplib(sandbox, _message("After removal"))
    assert len(got) == 1 and len(sandbox.inbox) == 2


def test_stop_frees_the_ports(tmp_path):
    server = SandboxServer(tmp_path / "sb")
    with server:
        info = server.info
        assert server.running
    assert not server.running
    for port in (info.ssl_port, info.starttls_port):
        with socket.socket() as s:
            s.bind((info.host, port))  # raises EADDRINUSE if the listener were still there
    with pytest.raises(RuntimeError):
        server.settings()


def test_certificate_and_login_persist_across_restarts(tmp_path):
    data = tmp_path / "sb"
    with SandboxServer(data) as first:
        info1 = first.info
        ca1 = info1.ca_file.read_bytes()
    with SandboxServer(data) as second:
        info2 = second.info
        assert (info2.username, info2.password) == (info1.username, info1.password)
        assert info2.ca_file.read_bytes() == ca1
        _send_smtplib(second, _message("Second run"))  # the old CA still verifies the server
    assert stat.S_IMODE((data / "server-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "login.json").stat().st_mode) == 0o600
    assert not list(data.glob("*ca*key*")), "the CA private key must not be kept"


def test_broken_certificate_is_regenerated(tmp_path):
    data = tmp_path / "sb"
    with SandboxServer(data) as s:
        login = (s.info.username, s.info.password)
    (data / "server.pem").write_text("garbage")
    with SandboxServer(data) as s:
        assert (s.info.username, s.info.password) == login
        _send_smtplib(s, _message("Regenerated"))
        assert [m.subject for m in s.inbox] == ["Regenerated"]


def test_save_eml(tmp_path):
    with SandboxServer(tmp_path / "sb", save_eml=True) as server:
        _send_smtplib(server, _message("Saved"))
        [got] = server.inbox
    assert got.eml_path is not None and got.eml_path.parent == tmp_path / "sb" / "inbox"
    assert got.eml_path.read_bytes() == got.raw


def test_default_data_dir_is_in_user_data_dir(isolated_user_dirs):
    server = SandboxServer()
    assert server.data_dir == isolated_user_dirs / "xdg_data_home" / "mailsetup" / "sandbox"


def test_password_never_logged(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="mail.log")  # a shared fixture quiets aiosmtpd to ERROR
    _send_smtplib(sandbox, _message("plain"), mechanism="PLAIN")
    _send_smtplib(sandbox, _message("login"), starttls=True, mechanism="LOGIN")
    info = sandbox.info
    pw, user = info.password.encode(), info.username.encode()
    # aiosmtpd 1.4.6 masks AUTH lines itself; other versions log more (e.g. LoginPassword reprs, or
    # client responses when log_client_response is on): the sandbox's own filter must mask those too.
    protocol_log = logging.getLogger("mail.log")
    protocol_log.info("%r >> %r", ("127.0.0.1", 1), b"AUTH PLAIN " + base64.b64encode(b"\0" + user + b"\0" + pw))
    protocol_log.debug("%r >> %r", ("127.0.0.1", 1), base64.b64encode(pw))
    protocol_log.debug("auth_PLAIN returned %r", (user, pw))
    assert "AUTH" in caplog.text  # aiosmtpd's protocol log was captured...
    forbidden = [info.password] + [base64.b64encode(v).decode().rstrip("=") for v in (pw, b"\0" + user + b"\0" + pw)]
    for secret in forbidden:  # ...without the password, plain or base64
        assert secret not in caplog.text
    assert info.password not in repr(info) and info.password not in repr(sandbox.settings())
    assert len(sandbox.inbox) == 2


def test_self_test_checks_and_sends_through_the_sandbox():
    import io

    from app.selftest import run_self_test

    out = io.StringIO()
    rc = run_self_test(out)
    lines = out.getvalue().splitlines()
    for name in (
        "resources",
        "provider catalogue",
        "sandbox",
        "check (ssl)",
        "check (starttls)",
        "test send",
        "sandbox inbox",
        "keyring backends",
    ):
        assert any(line.startswith(f"  ok  {name}:") for line in lines), (name, out.getvalue())
    failed = [line for line in lines if line.startswith("FAIL")]
    assert rc == (1 if failed else 0)
    assert lines[-1].startswith("self-test ")
