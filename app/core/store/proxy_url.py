"""A proxy URL's password, split out before anything is saved and put back only to connect."""

from __future__ import annotations

from urllib.parse import quote, unquote

__all__ = ["join_proxy_secret", "split_proxy_secret"]


def _userinfo_split(proxy: str) -> tuple[str, str, str | None, str] | None:
    """(scheme, user, password or None, host part) of a proxy URL, or None when it has no user part.

    The user part ends at the LAST ``@``: a password may contain ``@``, ``#``, ``/``, ``?`` or ``:``
    unencoded, which ``urlsplit`` would take for the fragment, path or query and so leave in the URL.
    """
    scheme, sep, rest = proxy.partition("://")
    if not sep or "@" not in rest:
        return None
    userinfo, _, hostpart = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return scheme, unquote(user), (unquote(password) if colon else None), hostpart


def split_proxy_secret(proxy: str | None) -> tuple[str | None, str | None]:
    """``socks5://user:pw@h:1`` -> (``socks5://user@h:1``, ``pw``); URLs without a password unchanged.

    Works whatever characters the password holds (see _userinfo_split); percent-escapes are decoded.
    """
    if not proxy:
        return proxy or None, None
    parts = _userinfo_split(proxy)
    if parts is None or parts[2] is None:
        return proxy, None
    scheme, user, password, hostpart = parts
    prefix = quote(user, safe="") + "@" if user else ""
    return f"{scheme}://{prefix}{hostpart}", password or None


def join_proxy_secret(proxy: str | None, password: str | None) -> str | None:
    """Inverse of split_proxy_secret: put ``password`` back into the proxy URL for connecting."""
    if not proxy or not password:
        return proxy
    parts = _userinfo_split(proxy)
    if parts is None:
        scheme, _, hostpart = proxy.partition("://")
        user = ""
    else:
        scheme, user, _, hostpart = parts
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{hostpart}"
