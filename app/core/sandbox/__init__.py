"""The local test SMTP server and its certificate authority."""

from __future__ import annotations

from app.core.sandbox.server import ReceivedMessage, SandboxInfo, SandboxServer

__all__ = [
    "ReceivedMessage",
    "SandboxInfo",
    "SandboxServer",
]
