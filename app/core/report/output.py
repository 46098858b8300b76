"""Writing a report file: the target is checked first (a clear message, nothing written), then written
atomically through the one atomic write (app.core.store.atomic_write)."""

from __future__ import annotations

import os
from pathlib import Path

from app.core.store import TargetError, atomic_write, check_target


class ReportTargetError(Exception):
    """The report cannot be written there; ``message`` says why in one sentence."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def check_report_target(path: str | os.PathLike[str]) -> Path:
    """``path`` when a report may be written there: a new file or a regular file, in a writable folder."""
    if not str(path).strip():
        raise ReportTargetError("No file name was given for the report.")
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise ReportTargetError(f"The folder {folder} does not exist.")
    if not folder.is_dir():
        raise ReportTargetError(f"{folder} is not a folder.")
    try:
        check_target(target)
    except TargetError as exc:
        raise ReportTargetError(exc.message) from None
    except OSError as exc:
        raise ReportTargetError(f"{target}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportTargetError(f"The folder {folder} is not writable: choose another place for the report.")
    return target


def write_report(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (mode 0600: the owner decides whom to share it with)."""
    target = check_report_target(path)
    try:
        return atomic_write(target, text, mode=0o600)
    except TargetError as exc:
        raise ReportTargetError(exc.message) from None
    except OSError as exc:
        raise ReportTargetError(f"{target}: {exc.strerror or exc}") from None


__all__ = ["ReportTargetError", "check_report_target", "write_report"]
