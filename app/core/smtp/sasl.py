"""SASL initial responses and answers for SMTP AUTH (RFC 4954): pure encoders, no I/O.

Every login and password is encoded as UTF-8 (smtplib's ASCII-only logins are why these exist).
They are written here rather than taken from aiosmtplib because the staged check sends each line
itself (per-stage timing, masked transcript); the encodings are a few lines each.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

AUTO_ORDER = ("CRAM-MD5", "PLAIN", "LOGIN")  # strongest first; XOAUTH2 only when chosen


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def plain(user: str, password: str) -> str:
    """AUTH PLAIN's initial response: base64("\\0user\\0password") (RFC 4616)."""
    return _b64(f"\0{user}\0{password}".encode())


def xoauth2(user: str, token: str) -> str:
    """AUTH XOAUTH2's initial response (Google's and Microsoft's bearer-token format)."""
    return _b64(f"user={user}\x01auth=Bearer {token}\x01\x01".encode())


def login_item(value: str) -> str:
    """One AUTH LOGIN answer (the user name, then the password)."""
    return _b64(value.encode("utf-8"))


def cram_md5(user: str, password: str, challenge_b64: str) -> str:
    """The CRAM-MD5 answer to a base64 challenge (RFC 2195); ValueError when the challenge is not base64."""
    try:
        challenge = base64.b64decode(challenge_b64.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("the CRAM-MD5 challenge is not base64") from None
    digest = hmac.new(password.encode("utf-8"), challenge, hashlib.md5).hexdigest()
    return _b64(f"{user} {digest}".encode())


def choose(wanted: str, offered: set[str]) -> str | None:
    """The mechanism to use: ``wanted`` ("auto" or a name) among the ``offered`` ones, strongest first."""
    order = AUTO_ORDER if wanted == "auto" else (wanted.upper(),)
    return next((m for m in order if m in offered), None)


def wanted_list(wanted: str) -> tuple[str, ...]:
    """The mechanisms ``wanted`` stands for, for messages."""
    return AUTO_ORDER if wanted == "auto" else (wanted.upper(),)


__all__ = ["AUTO_ORDER", "choose", "cram_md5", "login_item", "plain", "wanted_list", "xoauth2"]
