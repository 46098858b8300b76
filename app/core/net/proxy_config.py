"""A proxy URL parsed into a ProxyConfig whose text forms never show the password, and the proxy failure
built from it (the password scrubbed from every reason)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from app.core.diagnosis import DiagnosedError, detection

log = logging.getLogger(__name__)

# scheme -> (python-socks proxy type name, resolve the target's name at the proxy)
_SCHEMES = {
    "socks4": ("SOCKS4", False),
    "socks4a": ("SOCKS4", True),
    "socks5": ("SOCKS5", False),
    "socks5h": ("SOCKS5", True),
    "http": ("HTTP", True),
}
_DEFAULT_PORTS = {"socks4": 1080, "socks4a": 1080, "socks5": 1080, "socks5h": 1080, "http": 8080}

SUPPORTED_SCHEMES = tuple(_SCHEMES)


class ProxyUrlError(ValueError):
    """The proxy URL cannot be used; the message never contains the password."""


@dataclass(frozen=True)
class ProxyConfig:
    """A parsed proxy URL. ``repr``/``str`` hide the password."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def remote_dns(self) -> bool:
        """Whether the proxy (not this machine) resolves the mail server's name."""
        return _SCHEMES[self.scheme][1]

    @property
    def proxy_type(self) -> str:
        """python-socks ProxyType name: SOCKS4, SOCKS5 or HTTP."""
        return _SCHEMES[self.scheme][0]

    def redacted(self) -> str:
        """``scheme://user:***@host:port`` (or without credentials): safe for logs and messages."""
        cred = ""
        if self.username is not None or self.password is not None:
            cred = f"{self.username or ''}{':***' if self.password else ''}@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{cred}{host}:{self.port}"

    def __str__(self) -> str:
        return self.redacted()


def parse_proxy_url(url: str) -> ProxyConfig:
    """Parse ``socks5://[user:pass@]host:port`` (also socks5h, socks4, socks4a, http).

    Raises ProxyUrlError (a ValueError) with a message that never contains the password.
    """
    text = (url or "").strip()
    if not text:
        raise ProxyUrlError("The proxy address is empty.")
    if "://" not in text:
        raise ProxyUrlError(
            "The proxy address needs a scheme, e.g. socks5://host:1080 or http://host:3128 "
            f"(supported: {', '.join(SUPPORTED_SCHEMES)})."
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ProxyUrlError("The proxy address is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        hint = " (a TLS connection to the proxy is not supported; use http://)" if scheme == "https" else ""
        raise ProxyUrlError(f"Unsupported proxy type '{scheme}'{hint}; use one of: {', '.join(SUPPORTED_SCHEMES)}.")
    host = parts.hostname or ""
    if not host:
        raise ProxyUrlError("The proxy address has no host name.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ProxyUrlError("The proxy address must be just scheme://[user:password@]host:port, without a path.")
    try:
        port = parts.port
    except ValueError:
        raise ProxyUrlError("The proxy port must be a whole number from 1 to 65535.") from None
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise ProxyUrlError("The proxy port must be a whole number from 1 to 65535.")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if scheme == "http" and username and ":" in username:
        raise ProxyUrlError("An HTTP proxy login must not contain ':'.")
    if scheme.startswith("socks5") and (len((username or "").encode()) > 255 or len((password or "").encode()) > 255):
        raise ProxyUrlError("A SOCKS5 login and password can be at most 255 bytes each.")
    return ProxyConfig(scheme=scheme, host=host, port=port, username=username or None, password=password or None)


def scrub(text: str, cfg: ProxyConfig | None) -> str:
    if cfg is not None and cfg.password:
        text = text.replace(cfg.password, "***")
    return text


def fail(variant: str, cfg: ProxyConfig | None, reason: str, target: str = "") -> DiagnosedError:
    reason = scrub(reason, cfg)
    return DiagnosedError(
        detection.proxy_failed(
            variant, reason, cfg.redacted() if cfg else "", cfg.host if cfg else "", cfg.port if cfg else 0, target
        )
    )
