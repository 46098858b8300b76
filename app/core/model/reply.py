"""One SMTP reply as data: what the engine reads and the classifier judges."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENHANCED_RE = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class Reply:
    """One SMTP reply: numeric code and the text of each line (without the code)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The reply as the server sent it (lines joined with newlines, codes included)."""
        n = len(self.lines)
        return "\n".join(f"{self.code}{'-' if i < n - 1 else ' '}{line}".rstrip() for i, line in enumerate(self.lines))

    @property
    def message(self) -> str:
        return " ".join(self.lines).strip()

    @property
    def enhanced(self) -> str:
        """Enhanced status code such as "5.7.8" if the first line has one."""
        m = _ENHANCED_RE.match(self.lines[0].strip()) if self.lines else None
        return m.group(1) if m else ""

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 400
