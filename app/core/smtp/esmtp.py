"""EHLO: the name we announce and the capabilities the server lists (RFC 5321 4.1.1.1, 4.1.3)."""

from __future__ import annotations

import ipaddress
import socket

from app.core.model import Reply


def parse_capabilities(reply: Reply) -> dict[str, str]:
    """{"AUTH": "PLAIN LOGIN", "STARTTLS": "", ...} from an EHLO reply (old "AUTH=" lines merged in)."""
    caps: dict[str, str] = {}
    for line in reply.lines[1:]:
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        key = parts[0].upper()
        value = parts[1] if len(parts) > 1 else ""
        if key.startswith("AUTH="):  # old-style "AUTH=LOGIN PLAIN"
            key, value = "AUTH", (key[5:] + " " + value).strip() + " " + caps.get("AUTH", "")
        elif key == "AUTH" and "AUTH" in caps:
            value = value + " " + caps["AUTH"]
        caps[key] = value.strip()
    return caps


def auth_offered(caps: dict[str, str]) -> set[str]:
    """The SASL mechanisms the server advertises."""
    return set(caps.get("AUTH", "").upper().split())


def ehlo_name(configured: str | None, local: tuple | None) -> str:
    """The configured name, else a dotted host name, else our address literal, else "localhost"."""
    if configured and configured.strip():
        return configured.strip()
    name = socket.gethostname()
    if name and "." in name and all(c.isalnum() or c in "-." for c in name):
        return name
    if local:
        try:
            ip = ipaddress.ip_address(local[0])
            return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"
        except ValueError:
            pass
    return "localhost"


__all__ = ["auth_offered", "ehlo_name", "parse_capabilities"]
