"""Network plumbing below SMTP: Happy Eyeballs connect, proxies."""

from __future__ import annotations

from app.core.net.connect import (
    HAPPY_EYEBALLS_DELAY,
    Address,
    Attempt,
    ConnectFailed,
    getaddrinfo,
    interleave,
    open_tcp,
    race,
    resolve,
    show,
)
from app.core.net.proxy import (
    ProxyUrlError,
    connect_via_proxy_sync,
    open_via_proxy,
    parse_proxy_url,
)

__all__ = [
    "HAPPY_EYEBALLS_DELAY",
    "Address",
    "Attempt",
    "ConnectFailed",
    "ProxyUrlError",
    "connect_via_proxy_sync",
    "getaddrinfo",
    "interleave",
    "open_tcp",
    "open_via_proxy",
    "parse_proxy_url",
    "race",
    "resolve",
    "show",
]
