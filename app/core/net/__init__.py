"""Network plumbing below SMTP: proxies."""

from __future__ import annotations

from app.core.net.proxy import (
    ProxyUrlError,
    connect_via_proxy_sync,
    open_via_proxy,
    parse_proxy_url,
)

__all__ = [
    "ProxyUrlError",
    "connect_via_proxy_sync",
    "open_via_proxy",
    "parse_proxy_url",
]
