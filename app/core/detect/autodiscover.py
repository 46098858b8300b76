"""Exchange Autodiscover (POX) as extra autoconfig sources, the way Thunderbird asks it.

Sources (POSTing the Outlook request schema with the address, over HTTPS only):

- ``autodiscover``: ``https://autodiscover.<domain>/autodiscover/autodiscover.xml``;
- ``autodiscover-domain``: ``https://<domain>/autodiscover/autodiscover.xml``;
- ``autodiscover-srv``: the target of the ``_autodiscover._tcp.<domain>`` SRV record (RFC 2782), trusted only
  when the target lies inside the domain (an SRV answer is not signed, so a target elsewhere is shown as such).

No credentials are sent: an Exchange server that wants a sign-in first (401) gives a note, not settings.
The answer's ``<Protocol>`` of type SMTP gives host, port and TLS mode (``Encryption`` SSL = implicit TLS,
TLS = STARTTLS; without it, ``SSL`` on means TLS and port 465 means implicit). Parsed with defusedxml.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any
from xml.sax.saxutils import escape

from app.core.catalog import Endpoint
from app.core.detect.autoconfig import (
    HOST_RE,
    AutoconfigError,
    AutoconfigResult,
    Fetcher,
    base_domain,
)

PATH = "/autodiscover/autodiscover.xml"
_REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
_RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def request_body(email: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Autodiscover xmlns="{_REQUEST_NS}"><Request>'
        f"<EMailAddress>{escape(email)}</EMailAddress>"
        f"<AcceptableResponseSchema>{_RESPONSE_NS}</AcceptableResponseSchema>"
        "</Request></Autodiscover>"
    ).encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Any, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def parse_autodiscover(data: bytes) -> tuple[tuple[Endpoint, ...], str, list[str]]:
    """(SMTP endpoints, login, notes) from a POX Autodiscover answer. Raises AutoconfigError."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise AutoconfigError(f"not a valid Autodiscover answer ({type(exc).__name__})") from None
    if _local(root.tag) != "Autodiscover":
        raise AutoconfigError("not an Autodiscover answer")
    accounts = [e for e in root.iter() if _local(e.tag) == "Account"]
    errors = [e for e in root.iter() if _local(e.tag) == "Error"]
    if not accounts:
        message = _child_text(errors[0], "Message") if errors else ""
        raise AutoconfigError(f"Autodiscover answered with an error{': ' + message[:120] if message else ''}")
    action = _child_text(accounts[0], "Action")
    if action in ("redirectAddr", "redirectUrl"):
        raise AutoconfigError(f"Autodiscover asks to start over elsewhere ({action}); not followed")
    endpoints: list[Endpoint] = []
    logins: list[str] = []
    notes: list[str] = []
    for proto in (e for e in accounts[0] if _local(e.tag) == "Protocol"):
        if _child_text(proto, "Type").upper() != "SMTP":
            continue
        host = _child_text(proto, "Server").lower()
        port_text = _child_text(proto, "Port") or "587"
        security = _security(_child_text(proto, "Encryption"), _child_text(proto, "SSL"), port_text)
        if not HOST_RE.match(host) or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            notes.append(f"skipped an unusable SMTP entry ({host or '?'}:{port_text})")
            continue
        if security is None:
            notes.append(f"skipped {host}:{port_text}: offered without encryption")
            continue
        endpoints.append(Endpoint(host=host, port=int(port_text), security=security))
        logins.append(_child_text(proto, "LoginName"))
    if not endpoints:
        raise AutoconfigError("the Autodiscover answer names no usable SMTP server")
    return tuple(endpoints), logins[0], notes


def _security(encryption: str, ssl_flag: str, port: str) -> str | None:
    enc = encryption.strip().lower()
    if enc == "ssl":
        return "ssl"
    if enc in ("tls", "auto"):
        return "ssl" if port == "465" else "starttls"
    if enc == "none" or ssl_flag.strip().lower() == "off":
        return None
    return "ssl" if port == "465" else "starttls"


async def _post(fetcher: Fetcher, source: str, url: str, email: str, trusted: bool = True) -> AutoconfigResult:
    body, final_url, stayed = await fetcher.get(url, post=request_body(email))
    endpoints, login, notes = parse_autodiscover(body)
    ok = trusted and stayed
    if not ok:
        notes.insert(
            0, f"{url} is outside the address's domain or was redirected there: not trusted without confirmation"
        )
    return AutoconfigResult(source, final_url, endpoints, ok, login, "", tuple(notes))


async def _via_srv(fetcher: Fetcher, email: str, domain: str) -> AutoconfigResult:
    from app.core.detect.lookups import query as _query

    answer, _status = await _query(fetcher.resolver, f"_autodiscover._tcp.{domain}", "SRV", fetcher.timeout)
    records = sorted(answer or (), key=lambda r: (r.priority, -r.weight))
    for record in records:
        target = str(record.target).rstrip(".").lower()
        if target and int(record.port):
            port = "" if int(record.port) == 443 else f":{int(record.port)}"
            inside = base_domain(target) == base_domain(domain)
            return await _post(fetcher, "autodiscover-srv", f"https://{target}{port}{PATH}", email, trusted=inside)
    raise AutoconfigError(f"no _autodiscover._tcp.{domain} SRV record")


def autodiscover_jobs(fetcher: Fetcher, email: str, domain: str) -> list[tuple[str, Coroutine[Any, Any, Any]]]:
    """(source, coroutine) for each Autodiscover source, in order of preference."""
    return [
        ("autodiscover", _post(fetcher, "autodiscover", f"https://autodiscover.{domain}{PATH}", email)),
        ("autodiscover-domain", _post(fetcher, "autodiscover-domain", f"https://{domain}{PATH}", email)),
        ("autodiscover-srv", _via_srv(fetcher, email, domain)),
    ]
