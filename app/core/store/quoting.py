"""Quoting for every export language: string literals, comments, the From header, a one-line description.

Every value placed in an export goes through one of these: a literal for its language
(``py_str``, ``js_str``, ``php_str``, ``dotenv_quote``) or, in a comment, ``comment`` (one line,
and nothing that ends the comment or the code mode: PHP ``?>``, a JavaScript ``*/``, Python
triple quotes).
"""

from __future__ import annotations

import json
import re
from email.headerregistry import Address

from app.core.model import Security, SmtpSettings


class ExportError(ValueError):
    """The export cannot be produced (unknown format, or a value that the format cannot hold safely)."""


_DOTENV_BARE = re.compile(r"^[A-Za-z0-9_@.,:/+=%-]*$")


def dotenv_quote(value: str) -> str:
    """Quote ``value`` for a .env file so python-dotenv, Node's dotenv and docker compose read it back.

    Plain values stay bare; values with spaces, ``$``, ``#``, quotes and the like go in single
    quotes (literal, no ``$`` expansion); values that single quotes cannot hold (a ``'``, a line
    break, ``\\\\`` or a trailing backslash) use double quotes with backslash escapes. ``${`` is
    expanded by python-dotenv inside any quotes, and ``$NAME`` inside double quotes by other readers:
    such values raise ExportError (use the JSON export).
    """
    if _DOTENV_BARE.match(value):
        return value
    if "${" in value:
        raise ExportError(
            "A value contains '${', which python-dotenv expands as a variable whatever the quoting, so it cannot "
            "be written to a .env file safely. Use the JSON export, or set that variable in your host directly."
        )
    needs_double = (
        "'" in value or "\\\\" in value or value.endswith("\\") or any(ord(c) < 0x20 or c == "\x7f" for c in value)
    )
    if not needs_double:
        return f"'{value}'"
    if re.search(r"\$[A-Za-z_]", value):
        raise ExportError(
            "A value contains both characters that need double quotes (a ' or a line break) and a '$' "
            "followed by a name, which some .env readers would expand. Use the JSON export instead."
        )
    out = []
    for c in value:
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or c == "\x7f":
            raise ExportError("A value contains a control character that a .env file cannot hold.")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def py_str(value: str) -> str:
    """A Python string literal that evaluates to exactly ``value``."""
    return repr(str(value))


def js_str(value: str) -> str:
    """A JavaScript string literal (JSON, ASCII-only, so U+2028 and friends are escaped)."""
    return json.dumps(str(value), ensure_ascii=True)


def php_str(value: str) -> str:
    """A PHP single-quoted string literal (no ``$`` interpolation; only ``\\\\`` and ``\\'`` escapes)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def one_line(value: str) -> str:
    """Text for a comment line: line breaks removed so it cannot end the comment."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+", " ", value)


# -- helpers ---------------------------------------------------------------------------------------


def from_header(addr: str, name: str) -> str:
    if not addr:
        return ""
    if not name:
        return addr
    try:
        return str(Address(display_name=name, addr_spec=addr))
    except (ValueError, IndexError, TypeError):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{addr}>'


def describe(settings: SmtpSettings) -> str:
    mode = {
        Security.SSL: "implicit TLS (encrypted from the first byte)",
        Security.STARTTLS: "STARTTLS (plain greeting, then upgraded to TLS)",
        Security.NONE: "NO encryption",
    }[settings.security]
    return f"{settings.host}:{settings.port}, {mode}"


# What would end a comment, or the code mode around it, in each language.
_COMMENT_BREAKERS = {
    "php": ("?>", "? >"),  # ends PHP mode even inside a // comment
    "js": ("*/", "* /"),
    "py": ('"""', '" " "'),
}


def comment(value: str, lang: str = "") -> str:
    """``value`` for a one-line comment in ``lang`` ("php", "js", "py" or "" for .env)."""
    text = one_line(value)
    breaker = _COMMENT_BREAKERS.get(lang)
    if breaker:
        while breaker[0] in text:
            text = text.replace(*breaker)
    if lang == "php":
        text = text.replace("<?", "< ?")
    return text
