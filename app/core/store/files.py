"""The one atomic file write, and the check that an export target is a place we may write to.

``atomic_write`` puts the data in a new temp file in the target's folder (created with the final
mode, so it is never readable by others even for a moment), fsyncs it, ``os.replace``-s it onto the
target and fsyncs the folder: a reader sees the old file or the new one, never half of either, and a
crash or a full disk leaves the old file as it was. Every file MailSetup writes whole goes through it
(profiles.json, exports, the sandbox's certificate and login).

``os.replace`` replaces a symlink itself, not the file it points to, so a write never goes *through*
a symlink into another file; ``check_target`` refuses FIFOs, devices, sockets, directories and
symlinks up front with a clear message (replacing ``/dev/null`` or a FIFO with a regular file is
never what was meant).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["TargetError", "atomic_write", "check_target"]


class TargetError(OSError):
    """The path exists but is not a regular file we may replace (``message`` says what it is)."""

    def __init__(self, path: Path, what: str):
        self.path = path
        self.message = (
            f"{path} is {what}, not a regular file; MailSetup writes only to a new path or over a regular file. "
            "Choose another file name."
        )
        super().__init__(self.message)
        self.strerror = self.message


def _kind(mode: int) -> str | None:
    """What a non-regular file is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link (writing would follow it into another file)"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def check_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path when it is new or a regular file; TargetError for anything else."""
    target = Path(path)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    what = _kind(st.st_mode)
    if what is not None:
        raise TargetError(target, what)
    return target


def atomic_write(
    path: str | os.PathLike[str], data: str | bytes, *, mode: int = 0o600, refuse_special: bool = True
) -> Path:
    """Replace ``path`` with ``data`` atomically (see the module docstring); returns the path.

    ``mode`` is the new file's permission (0600 unless the content is public). With
    ``refuse_special`` (the default) a target that is not a regular file raises TargetError and
    nothing is written. Raises OSError on failure; the temp file never outlives the call.
    """
    target = check_target(path) if refuse_special else Path(path)
    folder = target.parent
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        try:
            os.fchmod(fd, mode)
        except (AttributeError, OSError):  # no POSIX modes (Windows): mkstemp's private default stays
            pass
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if refuse_special:
            check_target(target)  # it may have become a FIFO or a link since the first look
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
    return target


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
