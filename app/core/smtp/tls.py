"""TLS contexts for the check, certificate details from DER, and certificate-failure classification.

Certificates are read from their DER form with ``cryptography.x509`` (imported on first use), so
details are available even when verification failed or was turned off: ``ssl.SSLSocket.getpeercert()``
returns an empty dict for unverified peers.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import ssl
from functools import lru_cache

from app.core.model import QT_TRANSLATE_NOOP, Text, TlsDetails, TlsMinimum, TlsOptions

log = logging.getLogger(__name__)


def make_context(options: TlsOptions, *, verify: bool | None = None) -> ssl.SSLContext:
    """A client context following ``options``; ``verify=False`` forces a non-verifying context.

    A pinned fingerprint also yields a non-verifying context: the engine then compares the
    fingerprint itself and accepts exactly that certificate. Contexts are cached (loading the
    system CA store costs ~20 ms): they are never modified after creation, and a changed CA file
    (by mtime) gets a new one.
    """
    do_verify = options.verify and not options.pinned_sha256 if verify is None else verify
    cafile_stamp = None
    if options.cafile:
        try:
            cafile_stamp = os.stat(options.cafile).st_mtime_ns
        except OSError:
            cafile_stamp = -1  # let load_verify_locations raise its own clear error
    return _cached_context(bool(do_verify), options.minimum, options.cafile, cafile_stamp)


@lru_cache(maxsize=32)
def _cached_context(do_verify: bool, minimum: TlsMinimum, cafile: str | None, _stamp: int | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if minimum is TlsMinimum.TLS1_3 else ssl.TLSVersion.TLSv1_2
    # A certificate names its hosts in subjectAltName; a bare common name is not accepted (RFC 6125,
    # as browsers do), whatever the OpenSSL default of this build is.
    ctx.hostname_checks_common_name = False
    if not do_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def sha256_hex(der: bytes) -> str:
    """Lowercase hex SHA-256 of a DER certificate."""
    return hashlib.sha256(der).hexdigest()


# -- certificate verification failures ----------------------------------------------------------

# OpenSSL X509_V_ERR_* codes
_EXPIRED = {10}  # CERT_HAS_EXPIRED
_NOT_YET_VALID = {9}
_HOSTNAME = {62}  # HOSTNAME_MISMATCH
_SELF_SIGNED = {18, 19}  # DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN
_UNTRUSTED = {2, 20, 21}  # unable to get issuer / local issuer / verify leaf signature


def cert_failure(exc: ssl.SSLCertVerificationError) -> tuple[str, str]:
    """(code value, variant) for a verification error: cert_expired, cert_hostname_mismatch or cert_untrusted."""
    code = getattr(exc, "verify_code", None)
    message = (getattr(exc, "verify_message", "") or str(exc)).lower()
    if code in _EXPIRED or "expired" in message:
        return "cert_expired", ""
    if code in _NOT_YET_VALID or "not yet valid" in message:
        return "cert_expired", "not_yet_valid"
    if code in _HOSTNAME or "hostname mismatch" in message or "ip address mismatch" in message:
        return "cert_hostname_mismatch", ""
    if code in _SELF_SIGNED or "self-signed" in message or "self signed" in message:
        return "cert_untrusted", "self_signed"
    return "cert_untrusted", ""


def verify_reason(exc: ssl.SSLCertVerificationError) -> Text:
    """OpenSSL's verify error as our own translatable phrase for the common ones, else its own words quoted.

    (OpenSSL's text is English and would otherwise sit inside a translated sentence.)
    """
    code = getattr(exc, "verify_code", None)
    message = getattr(exc, "verify_message", "") or str(exc)
    low = message.lower()
    if code in _HOSTNAME or "hostname mismatch" in low or "ip address mismatch" in low:
        phrase = QT_TRANSLATE_NOOP("Diagnosis", "the name does not match the certificate")
    elif code in _EXPIRED or "expired" in low:
        phrase = QT_TRANSLATE_NOOP("Diagnosis", "the certificate has expired")
    elif code in _NOT_YET_VALID or "not yet valid" in low:
        phrase = QT_TRANSLATE_NOOP("Diagnosis", "the certificate is not valid yet")
    elif code in _SELF_SIGNED or "self-signed" in low or "self signed" in low:
        phrase = QT_TRANSLATE_NOOP("Diagnosis", "the certificate is self-signed")
    elif code in _UNTRUSTED or "local issuer" in low or "unable to get issuer" in low:
        phrase = QT_TRANSLATE_NOOP("Diagnosis", "the issuing authority is unknown")
    else:
        return Text.of("Diagnosis", QT_TRANSLATE_NOOP("Diagnosis", "OpenSSL: “{message}”"), message=message)
    return Text.of("Diagnosis", phrase)


_MODE_MISMATCH_REASONS = {
    "WRONG_VERSION_NUMBER",
    "UNKNOWN_PROTOCOL",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "HTTP_REQUEST",
    "UNEXPECTED_RECORD",
}
_VERSION_REASONS = {"UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE"}


def handshake_failure_kind(exc: BaseException) -> str:
    """'plaintext' when the peer clearly did not speak TLS, 'version' for protocol-version refusals, else ''."""
    reason = (getattr(exc, "reason", None) or "").upper()
    text = str(exc).upper()
    if reason in _MODE_MISMATCH_REASONS or any(r in text for r in _MODE_MISMATCH_REASONS):
        return "plaintext"
    if reason in _VERSION_REASONS or any(r in text for r in _VERSION_REASONS):
        return "version"
    return ""


# -- certificate details (cryptography.x509, imported on first use) --------------------------------

_NAME_OIDS = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "1.2.840.113549.1.9.1": "emailAddress",
}


def _name(name) -> str:  # x509.Name -> "C=.., O=.., CN=.." in certificate order
    parts = []
    for rdn in name.rdns:
        for attr in rdn:
            oid = attr.oid.dotted_string
            value = attr.value if isinstance(attr.value, str) else attr.value.decode("utf-8", "replace")
            parts.append(f"{_NAME_OIDS.get(oid, oid)}={value}")
    return ", ".join(parts)


def _iso(dt: _dt.datetime) -> str:
    return dt.astimezone(_dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z"


def _sans(cert) -> tuple[str, ...]:
    from cryptography import x509

    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    out = []
    for gn in names:
        if isinstance(gn, x509.DNSName):
            out.append("DNS:" + gn.value)
        elif isinstance(gn, x509.IPAddress):
            out.append("IP:" + str(gn.value))
        elif isinstance(gn, x509.RFC822Name):
            out.append("email:" + gn.value)
    return tuple(out)


def parse_certificate(der: bytes) -> dict:
    """subject, issuer, sans, not_before, not_after of a DER certificate (best effort, never raises).

    cryptography is imported here, on first use, not when the command starts.
    """
    info: dict = {"subject": "", "issuer": "", "sans": (), "not_before": "", "not_after": ""}
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        info["subject"] = _name(cert.subject)
        info["issuer"] = _name(cert.issuer)
        info["not_before"] = _iso(cert.not_valid_before_utc)
        info["not_after"] = _iso(cert.not_valid_after_utc)
        info["sans"] = _sans(cert)
    except Exception as exc:  # a malformed certificate or extension: show what we have
        log.debug("could not parse certificate: %s", exc)
    return info


def details_from(ssl_object: ssl.SSLObject | ssl.SSLSocket | None, *, verified: bool) -> TlsDetails | None:
    """TlsDetails for an established TLS session (None when there is no peer certificate)."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    cipher = ssl_object.cipher()
    return details_from_der(
        der, protocol=ssl_object.version() or "", cipher=cipher[0] if cipher else "", verified=verified
    )


def details_from_der(der: bytes, *, protocol: str = "", cipher: str = "", verified: bool = False) -> TlsDetails:
    """TlsDetails from a DER certificate plus the negotiated protocol and cipher."""
    p = parse_certificate(der)
    return TlsDetails(
        protocol=protocol,
        cipher=cipher,
        subject=p["subject"],
        issuer=p["issuer"],
        sans=tuple(p["sans"]),
        not_before=p["not_before"],
        not_after=p["not_after"],
        sha256=sha256_hex(der),
        verified=verified,
    )
