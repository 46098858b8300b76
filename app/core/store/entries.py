"""Reading profiles.json defensively: parse once, check each entry, keep what cannot be read.

A hand-edited or damaged entry (``"settings": [1]``, a port of ``1e400``, a value nested ten
thousand levels deep) must not take the other profiles down with it. ``parse_document`` reads the
whole file, ``check_entry`` gives the problems of one entry as ``field: message`` strings, and an
entry with problems is reported and skipped by the store, but kept byte for byte in the file.

Deep nesting: CPython's ``json`` gives up with RecursionError on documents nested about a thousand
levels deep. Instead of raising the recursion limit (which can crash the interpreter) any container
deeper than MAX_DEPTH is swapped for a unique placeholder string before parsing; the entry holding
it is reported as "nested too deeply", and ``dump_document`` puts the original text back when the
file is written, so nothing the user had is lost.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 64
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_KNOWN_SECURITY = ("ssl", "starttls", "none")


class DeepValues:
    """The text of containers swapped out of a document for placeholders (see the module docstring)."""

    def __init__(self) -> None:
        self.tag = "\x00mailsetup-deep-" + secrets.token_hex(8) + "-"
        self.originals: dict[str, str] = {}

    def placeholder_in(self, value: Any, depth: int = 0) -> bool:
        """True when ``value`` holds one of our placeholders (it came from a too-deep entry)."""
        if isinstance(value, str):
            return value.startswith(self.tag)
        if depth > MAX_DEPTH + 2:
            return False
        if isinstance(value, Mapping):
            return any(self.placeholder_in(v, depth + 1) for v in value.values())
        if isinstance(value, list):
            return any(self.placeholder_in(v, depth + 1) for v in value)
        return False


def _defuse(text: str, deep: DeepValues) -> str:
    """``text`` with every container deeper than MAX_DEPTH replaced by a placeholder string."""
    out: list[str] = []
    pos = depth = 0
    start = -1  # where the container being cut out began
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok in "[{":
            depth += 1
            if depth == MAX_DEPTH + 1 and start < 0:
                start = m.start()
        elif tok in "]}":
            depth -= 1
            if depth == MAX_DEPTH and start >= 0:
                key = deep.tag + str(len(deep.originals))
                deep.originals[key] = text[start : m.end()]
                out.append(text[pos:start])
                out.append(json.dumps(key))
                pos, start = m.end(), -1
    if start >= 0:  # unbalanced: leave it to json to report the syntax error
        return text
    out.append(text[pos:])
    return "".join(out)


def parse_document(text: str) -> tuple[Any, DeepValues]:
    """``json.loads`` that survives any nesting depth; raises ValueError for text that is not JSON."""
    deep = DeepValues()
    try:
        return json.loads(text), deep
    except RecursionError:
        pass
    defused = _defuse(text, deep)
    try:
        return json.loads(defused), deep
    except RecursionError:
        raise ValueError("it is nested too deeply to read") from None


def dump_document(doc: Any, deep: DeepValues | None) -> str:
    """Inverse of parse_document: JSON text, with swapped-out containers restored verbatim."""
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if deep is not None:
        for key, original in deep.originals.items():
            text = text.replace(json.dumps(key, ensure_ascii=False), original)
    return text


# -- checking one entry ----------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _text(path: str, value: Any, *, optional: bool = True) -> list[str]:
    if value is None and optional:
        return []
    return [] if isinstance(value, str) else [f"{path}: expected text, found {_type_name(value)}"]


def _number(path: str, value: Any) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return [f"{path}: expected a number, found {_type_name(value)}"]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{path}: {value!r} is not a finite number"]
    if value <= 0 or value > 3600:
        return [f"{path}: {value!r} seconds is out of range (more than 0, at most 3600)"]
    return []


def _check_settings(s: Any) -> list[str]:
    if not isinstance(s, Mapping):
        return [f"settings: expected an object, found {_type_name(s)}"]
    errs: list[str] = []
    port = s.get("port")
    if isinstance(port, bool) or not isinstance(port, int):
        shown = "infinity" if isinstance(port, float) and math.isinf(port) else repr(port)
        errs.append(f"settings.port: {shown} is not a whole port number (1-65535)")
    elif not 1 <= port <= 65535:
        errs.append(f"settings.port: {port} is out of range (1-65535)")
    errs += _text("settings.host", s.get("host"), optional=False)
    if s.get("security", "starttls") not in _KNOWN_SECURITY:
        errs.append(f"settings.security: expected one of {', '.join(_KNOWN_SECURITY)}")
    for key in ("username", "auth", "ehlo_name", "proxy"):
        errs += _text(f"settings.{key}", s.get(key))
    timeouts = s.get("timeouts", {})
    if not isinstance(timeouts, Mapping):
        errs.append(f"settings.timeouts: expected an object, found {_type_name(timeouts)}")
    else:
        for key, value in timeouts.items():
            errs += _number(f"settings.timeouts.{key}", value)
    tls = s.get("tls", {})
    if not isinstance(tls, Mapping):
        errs.append(f"settings.tls: expected an object, found {_type_name(tls)}")
    else:
        for key in ("minimum", "cafile", "pinned_sha256"):
            errs += _text(f"settings.tls.{key}", tls.get(key))
        if not isinstance(tls.get("verify", True), bool):
            errs.append("settings.tls.verify: expected true or false")
    return errs


def check_entry(raw: Any, deep: DeepValues | None = None) -> list[str]:
    """The problems of one raw profile entry (empty when it can be read)."""
    if not isinstance(raw, Mapping):
        return [f"expected an object, found {_type_name(raw)}"]
    if deep is not None and deep.placeholder_in(raw):
        return [f"a value is nested more than {MAX_DEPTH} levels deep"]
    errs = _check_settings(raw.get("settings"))
    for key in ("from_addr", "from_name", "provider_id", "secret_backend", "secret_backend_id"):
        errs += _text(key, raw.get(key))
    for key in ("has_secret", "has_proxy_secret", "sandbox"):
        if not isinstance(raw.get(key, False), bool):
            errs.append(f"{key}: expected true or false, found {_type_name(raw.get(key))}")
    return errs
