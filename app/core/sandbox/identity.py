"""Certificate and login of the local sandbox server, created at first use and kept in the user data dir.

A private CA signs one server certificate for ``127.0.0.1``, ``::1`` and ``localhost``. The CA is
trusted only by the sandbox profile (``settings.tls.cafile`` points at ``ca.pem``); it is never
installed anywhere else, and its private key is thrown away right after signing, so nothing else
can ever be issued under it. The sandbox login is random and stable across runs; it only opens
this loopback test server.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import logging
import os
import secrets
import ssl
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.core.store import atomic_write

log = logging.getLogger(__name__)

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
LOGIN_FILE = "login.json"

SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")
RENEW_BEFORE = _dt.timedelta(days=30)
CERT_LIFETIME = _dt.timedelta(days=825)
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class SandboxIdentity:
    """Files and login of the sandbox server. ``password`` is a secret: never log it."""

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path
    username: str
    password: str

    def __repr__(self) -> str:  # keep the password out of reprs and tracebacks
        return f"SandboxIdentity(directory={str(self.directory)!r}, username={self.username!r}, password='***')"


def default_sandbox_dir() -> Path:
    """``<user data dir>/mailsetup/sandbox`` (platformdirs), where the certificate and login live."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("mailsetup", appauthor=False)) / "sandbox"


def ensure_identity(directory: Path | None = None) -> SandboxIdentity:
    """Load the sandbox certificate and login from ``directory``, creating or renewing what is missing."""
    directory = Path(directory) if directory is not None else default_sandbox_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _restrict(directory, 0o700)
    username, password = _load_or_create_login(directory / LOGIN_FILE)
    if not _certificate_usable(directory):
        log.info("creating the sandbox certificate in %s", directory)
        _create_certificates(directory)
    return SandboxIdentity(
        directory=directory,
        ca_file=directory / CA_FILE,
        cert_file=directory / CERT_FILE,
        key_file=directory / KEY_FILE,
        username=username,
        password=password,
    )


def server_ssl_context(identity: SandboxIdentity) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) presenting the sandbox certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(identity.cert_file), str(identity.key_file))
    return ctx


def certificate_fingerprint(identity: SandboxIdentity) -> str:
    """SHA-256 of the server certificate, lowercase hex without separators."""
    cert = x509.load_pem_x509_certificate(identity.cert_file.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex()


# -- internals ---------------------------------------------------------------------------------


def _restrict(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:  # pragma: no cover - e.g. filesystems without POSIX modes
        log.debug("could not set mode %o on %s", mode, path)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), atomically."""
    atomic_write(path, data, mode=0o600)


def _write_public(path: Path, data: bytes) -> None:
    atomic_write(path, data, mode=0o644)


def _load_or_create_login(path: Path) -> tuple[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        username, password = str(data["username"]), str(data["password"])
        if username and len(password) >= 12:
            _restrict(path, 0o600)
            return username, password
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("the sandbox login file %s is unreadable; creating a new login", path)
    username = f"sandbox-{secrets.token_hex(3)}"
    password = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    _write_private(path, json.dumps({"username": username, "password": password}).encode("utf-8"))
    return username, password


def _certificate_usable(directory: Path) -> bool:
    """True when the CA, server certificate and key exist, match, and stay valid for a while."""
    try:
        ca = x509.load_pem_x509_certificate((directory / CA_FILE).read_bytes())
        cert = x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    now = _dt.datetime.now(_dt.timezone.utc)
    if cert.not_valid_after_utc - RENEW_BEFORE < now or ca.not_valid_after_utc - RENEW_BEFORE < now:
        return False
    if cert.issuer != ca.subject:
        return False
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if key.public_key().public_bytes(enc, pub) != cert.public_key().public_bytes(enc, pub):
        return False
    _restrict(directory / KEY_FILE, 0o600)
    return True


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MailSetup local sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, sign_certificates: bool) -> x509.KeyUsage:
    """A CA signs certificates and CRLs only; the server key signs and agrees keys (ECDHE) only."""
    return x509.KeyUsage(
        digital_signature=not sign_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not sign_certificates,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any, now: _dt.datetime) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + CERT_LIFETIME)
    )


def _create_certificates(directory: Path) -> None:
    now = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"MailSetup sandbox CA {secrets.token_hex(4)}")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign_certificates=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .add_extension(ca_aki, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.DNSName(n) for n in SERVER_NAMES] + [x509.IPAddress(ipaddress.ip_address(a)) for a in SERVER_IPS]
    cert = (
        _builder(_name("localhost"), ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(ca_aki, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_private(
        directory / KEY_FILE,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    _write_public(directory / CERT_FILE, cert.public_bytes(pem))
    _write_public(directory / CA_FILE, ca_cert.public_bytes(pem))
    # ca_key goes out of scope here: it is never written, so the CA can sign nothing else.
