"""The HTTP library under authlib's httpx integration, for our transport, timeouts and exceptions.

Authlib (1.9+) runs its ``AsyncOAuth2Client`` on ``httpx2`` when that package is installed and falls back
to ``httpx`` otherwise. ``httpx2`` arrives with dnspython's ``doh`` extra, which checkdmarc (the sender-domain
audit, app.core.audit) requires. A ``Timeout``, a transport or an exception class from the other library is
not accepted or not caught (``TypeError: Invalid timeout``), so the oauth package takes them from here: the
same choice, in the same order, as authlib's own compatibility shim.
"""

from __future__ import annotations

try:
    import httpx2 as httpx
except ImportError:  # authlib's deprecated fallback, still supported
    import httpx  # type: ignore[no-redef]

__all__ = ["httpx"]
