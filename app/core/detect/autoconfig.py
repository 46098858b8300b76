"""Thunderbird-style autoconfig: the settings a domain (or Mozilla's ISPDB) publishes as config-v1.1 XML.

Sources, in Thunderbird's order of preference (all fetched in parallel, the best answer wins, the rest are
cancelled once a trusted answer is in):

1. ``autoconfig``: ``https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>``
   (the spec also allows plain HTTP here; such an answer is used only when nothing trusted exists, is marked
   untrusted, and is fetched without the address in the URL);
2. ``well-known``: ``https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml``;
3. ``ispdb``: ``https://autoconfig.thunderbird.net/v1.1/<domain>`` (Mozilla's ISPDB online);
4. ``ispdb-mx``: the same lookup for the base domain of the domain's MX host (a hosted domain).
5. Exchange Autodiscover (POX over HTTPS, and the ``_autodiscover._tcp`` SRV record): see
   app.core.detect.autodiscover.

Bounds: one deadline for everything, a per-answer size limit, at most a few redirects; host names are
resolved through the injected DNS resolver (the same one discovery uses, so tests answer from a local DNS
server and nothing reaches a real host), and the connection goes to that address with the name as SNI and
Host. HTTPS answers are trusted; an HTTP answer or a redirect to another domain is kept but marked, so the
caller can show it and ask before sending credentials. XML is parsed with defusedxml (no DTD, no entities).

Hand-written on purpose: the fetch pins the address from our resolver and follows redirects itself, to
see every hop (downgrades, other domains); httpx does the HTTP and TLS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from app.core.catalog import Endpoint
from app.core.model import QT_TRANSLATE_NOOP, Text, log_text
from app.core.model import wait_for as _wait_for

log = logging.getLogger(__name__)

ISPDB_URL = "https://autoconfig.thunderbird.net/v1.1/"
DEFAULT_TIMEOUT = 4.0
MAX_BYTES = 64 * 1024  # real config files are 1-5 KB; ISPDB's largest is under 20 KB
MAX_REDIRECTS = 3
MAX_SERVERS = 8
SOURCES = ("autoconfig", "well-known", "ispdb", "ispdb-mx")
HOST_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_SECURITY = {"SSL": "ssl", "STARTTLS": "starttls", "PLAIN": "none"}
# Two-label public suffixes common enough to matter for an MX host's base domain (a full public suffix list
# is not bundled; a wrong guess only costs one ISPDB lookup that finds nothing).
_SECOND_LEVEL = {"co.uk", "com.au", "co.jp", "co.nz", "com.br", "co.za", "com.tr", "com.mx", "co.in", "com.cn"}


class AutoconfigError(Exception):
    """One source gave no usable answer (the message says why; shown in discovery notes)."""


@dataclass(frozen=True)
class AutoconfigResult:
    """SMTP settings from one autoconfig source.

    ``trusted``: fetched over HTTPS with every redirect inside the asked domain. ``login``: the user name
    the config asks for (the address or its local part), "" when it does not say.
    """

    source: str
    url: str
    endpoints: tuple[Endpoint, ...]
    trusted: bool
    login: str = ""
    provider_name: str = ""
    notes: tuple[str, ...] = ()


@dataclass
class Fetcher:
    """Bounded HTTPS GET through our resolver. ``port_override`` maps a scheme to a port (tests)."""

    resolver: Any
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = MAX_BYTES
    max_redirects: int = MAX_REDIRECTS
    ssl_context: ssl.SSLContext | None = None
    port_override: dict[str, int] = field(default_factory=dict)

    async def get(self, url: str, *, post: bytes | None = None) -> tuple[bytes, str, bool]:
        """(body, final URL, stayed on HTTPS inside the first host's domain). Raises AutoconfigError.
        With ``post``, the body is POSTed as text/xml (Autodiscover), also after a redirect."""
        import httpx

        first = urlsplit(url).hostname or ""
        trusted = url.startswith("https://")  # stays True only for HTTPS all the way, inside the first site
        verify = self.ssl_context if self.ssl_context is not None else _default_context()
        limits = httpx.Timeout(self.timeout)
        address = await self._resolve(_checked_host(url))  # before any client exists: most names do not
        async with httpx.AsyncClient(verify=verify, timeout=limits, follow_redirects=False, trust_env=False) as client:
            for hop in range(self.max_redirects + 1):
                parts = urlsplit(url)
                host = _checked_host(url)
                if hop:
                    address = await self._resolve(host)
                port = self.port_override.get(parts.scheme) or parts.port or (443 if parts.scheme == "https" else 80)
                ip = f"[{address}]" if ":" in address else address
                target = f"{parts.scheme}://{ip}:{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
                ext = {"sni_hostname": host} if parts.scheme == "https" else {}
                headers = {"Host": host} if post is None else {"Host": host, "Content-Type": "text/xml; charset=utf-8"}
                method = "GET" if post is None else "POST"
                request = client.build_request(method, target, headers=headers, content=post, extensions=ext)
                try:
                    response = await client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    raise AutoconfigError(f"{host}: {_http_error(exc)}") from None
                try:
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("location", "")
                        nxt = urljoin(url, location)
                        if url.startswith("https://") and not nxt.startswith("https://"):
                            raise AutoconfigError(f"{host} redirected from HTTPS to {nxt!r}; not followed")
                        if not _same_site(first, urlsplit(nxt).hostname or ""):
                            trusted = False
                        url = nxt
                        continue
                    if response.status_code != 200:
                        raise AutoconfigError(f"{host} answered HTTP {response.status_code}")
                    body = await self._read(response, host)
                finally:
                    await response.aclose()
                return body, url, trusted
        raise AutoconfigError(f"more than {self.max_redirects} redirects from {first}")

    async def _read(self, response: Any, host: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise AutoconfigError(f"{host} sent {int(declared)} bytes (limit {self.max_bytes})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > self.max_bytes:
                raise AutoconfigError(f"{host} sent more than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _resolve(self, host: str) -> str:
        from app.core.detect.lookups import query as _query

        for rdtype in ("A", "AAAA"):
            answer, _status = await _query(self.resolver, host, rdtype, self.timeout)
            if answer is not None:
                for record in answer:
                    return str(record.address)
        raise AutoconfigError(f"{host} does not exist in DNS")


def _checked_host(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not HOST_RE.match(host):
        raise AutoconfigError(f"refused URL {url!r}")
    return host


@functools.cache
def _default_context() -> ssl.SSLContext:
    """The system's trust store, verification on; built once (loading it costs tens of milliseconds)."""
    return ssl.create_default_context()


def _http_error(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return "the HTTPS certificate is not valid for this name"
    return text[:200]


def base_domain(host: str) -> str:
    """The registrable domain of ``host`` (``mx1.mail.example.co.uk`` -> ``example.co.uk``), approximately."""
    labels = host.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and ".".join(labels[-2:]) in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _same_site(a: str, b: str) -> bool:
    return bool(a and b) and base_domain(a) == base_domain(b)


def candidate_urls(email: str, domain: str, *, ispdb_url: str = ISPDB_URL) -> list[tuple[str, str]]:
    """[(source, url)] of the domain-based sources, in order of preference."""
    return [
        ("autoconfig", f"https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={quote(email, safe='@')}"),
        ("well-known", f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
        ("ispdb", ispdb_url + domain),
    ]


def mx_url(domain: str, mx_hosts: Sequence[str], *, ispdb_url: str = ISPDB_URL) -> str | None:
    """The ISPDB lookup for the base domain of the first MX host, when that lies outside ``domain``."""
    mx_base = base_domain(mx_hosts[0]) if mx_hosts else ""
    return ispdb_url + mx_base if mx_base and mx_base != base_domain(domain) else None


async def _mx_list(mx: Any) -> tuple[str, ...]:
    """MX host names from a list, or from a future of discovery's MX lookup (() if it failed or was cancelled)."""
    if isinstance(mx, asyncio.Future):
        await asyncio.wait({mx})
        if mx.cancelled() or mx.exception() is not None:
            return ()
        mx = mx.result()
    return tuple(getattr(mx, "hosts", mx))


async def _via_mx(fetcher: Fetcher, mx: Any, email: str, domain: str, ispdb_url: str) -> AutoconfigResult:
    url = mx_url(domain, await _mx_list(mx), ispdb_url=ispdb_url)
    if url is None:
        raise AutoconfigError("no MX host outside the domain")
    return await _one(fetcher, "ispdb-mx", url, email, domain)


def parse_config(data: bytes, email: str, domain: str) -> tuple[tuple[Endpoint, ...], str, str, list[str]]:
    """(SMTP endpoints, login, provider display name, notes) from config-v1.1 XML. Raises AutoconfigError."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise AutoconfigError(f"not a valid config file ({type(exc).__name__})") from None
    provider = root.find("emailProvider") if root.tag == "clientConfig" else None
    if provider is None:
        raise AutoconfigError("not a config-v1.1 file (no clientConfig/emailProvider)")
    local = email.rpartition("@")[0]
    endpoints: list[Endpoint] = []
    logins: list[str] = []
    notes: list[str] = []
    for server in provider.findall("outgoingServer")[:MAX_SERVERS]:
        if server.get("type") != "smtp":
            continue
        host = _fill(server.findtext("hostname") or "", email, local, domain).lower()
        port_text = (server.findtext("port") or "").strip()
        security = _SECURITY.get((server.findtext("socketType") or "").strip().upper())
        if not HOST_RE.match(host) or not port_text.isdigit() or not 1 <= int(port_text) <= 65535 or not security:
            notes.append(f"skipped an unusable server entry ({host or '?'}:{port_text or '?'})")
            continue
        if security == "none":
            notes.append(f"skipped {host}:{port_text}: the config offers it without encryption")
            continue
        auth = {(a.text or "").strip() for a in server.findall("authentication")}
        if auth and auth <= {"OAuth2"}:
            notes.append(f"{host}:{port_text} takes only OAuth2 sign-in")
        endpoint = Endpoint(host=host, port=int(port_text), security=security)
        if endpoint not in endpoints:
            endpoints.append(endpoint)
            logins.append(_fill(server.findtext("username") or "", email, local, domain))
    if not endpoints:
        raise AutoconfigError("the config names no usable SMTP server")
    name = (provider.findtext("displayName") or "").strip()[:100]
    return tuple(endpoints), logins[0], name, notes


def _fill(template: str, email: str, local: str, domain: str) -> str:
    return (
        template.strip()
        .replace("%EMAILADDRESS%", email)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )


async def _one(fetcher: Fetcher, source: str, url: str, email: str, domain: str) -> AutoconfigResult:
    body, final_url, trusted = await fetcher.get(url)
    endpoints, login, name, notes = parse_config(body, email, domain)
    if not trusted:
        notes.insert(0, f"{url} was redirected to {final_url} (another domain): not trusted without confirmation")
    return AutoconfigResult(source, final_url, endpoints, trusted, login, name, tuple(notes))


async def lookup_autoconfig(
    email: str,
    domain: str,
    resolver: Any,
    *,
    mx_hosts: Sequence[str] | asyncio.Future[Any] = (),
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    port_override: dict[str, int] | None = None,
    ispdb_url: str = ISPDB_URL,
    allow_http: bool = True,
    autodiscover: bool = True,
    say: Callable[[Text], None] = lambda _text: None,
) -> tuple[AutoconfigResult | None, list[str]]:
    """The best autoconfig answer for ``email`` (or None) and notes on every source that gave nothing.

    All sources run at once under ``timeout``; the first trusted answer in preference order wins and the
    others are cancelled. ``mx_hosts`` may be a future of discovery's MX lookup, so the domain's own sources
    start while DNS is still answering. With ``allow_http``, ``http://autoconfig.<domain>`` is tried too (as the spec
    allows) and used, marked untrusted, only when no trusted answer exists.
    """
    fetcher = Fetcher(resolver, timeout=timeout, ssl_context=ssl_context, port_override=dict(port_override or {}))
    urls = candidate_urls(email, domain, ispdb_url=ispdb_url)
    jobs = [(source, _one(fetcher, source, url, email, domain)) for source, url in urls]
    jobs.append(("ispdb-mx", _via_mx(fetcher, mx_hosts, email, domain, ispdb_url)))
    if autodiscover:
        from app.core.detect.autodiscover import autodiscover_jobs

        jobs += autodiscover_jobs(fetcher, email, domain)
    if allow_http:
        jobs.append(
            (
                "autoconfig-http",
                _one(fetcher, "autoconfig", f"http://autoconfig.{domain}/mail/config-v1.1.xml", email, domain),
            )
        )
    found, untrusted, notes = await _race(jobs, timeout)
    if found is not None:
        say(log_text(QT_TRANSLATE_NOOP("Log", "Settings found by {source}: {url}"), source=found.source, url=found.url))
        return found, notes
    if untrusted:
        fallback = dataclasses.replace(untrusted[0], trusted=False)
        say(_untrusted_note(fallback))
        return fallback, notes
    return None, notes


async def _race(
    jobs: list[tuple[str, Any]], timeout: float
) -> tuple[AutoconfigResult | None, list[AutoconfigResult], list[str]]:
    """Run every source at once: (the first trusted answer in preference order, the untrusted answers seen
    before it, notes on the sources that gave nothing). The rest are cancelled."""
    sources = [source for source, _job in jobs]
    tasks = [asyncio.ensure_future(job) for _source, job in jobs]
    notes: list[str] = []
    untrusted: list[AutoconfigResult] = []

    async def first_trusted() -> AutoconfigResult | None:
        for source, task in zip(sources, tasks):
            try:
                result = await task
            except AutoconfigError as exc:
                notes.append(f"autoconfig ({source}): {exc}")
                continue
            if result.trusted:
                return result
            untrusted.append(result)
        return None

    try:
        found = await _wait_for(first_trusted(), timeout + 0.5)
    except asyncio.TimeoutError:
        found = None
        notes.append(f"autoconfig: no answer within {timeout:g} s")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return found, untrusted, notes


def _untrusted_note(fallback: AutoconfigResult) -> Text:
    """Why an answer is used only after confirmation: plain HTTP, or a redirect to another domain."""
    if fallback.url.startswith("http://"):
        return log_text(
            QT_TRANSLATE_NOOP(
                "Log", "Settings found by {source} over plain HTTP: {url} (not trusted without confirmation)."
            ),
            source=fallback.source,
            url=fallback.url,
        )
    return log_text(
        QT_TRANSLATE_NOOP(
            "Log",
            "Settings found by {source} after a redirect to another domain: {url} (not trusted without confirmation).",
        ),
        source=fallback.source,
        url=fallback.url,
    )
