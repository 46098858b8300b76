"""Before Qt starts: are the system libraries of Qt's X11 (xcb) platform plugin installed?

Without them Qt aborts with a core dump and a misleading hint ("xcb-cursor0 is needed") even when
other libraries are the missing ones. We try to load each library the plugin links against (the
dynamic loader's own search, so the answer is exact) and name the Debian/Ubuntu packages to install.
Hand-written: no library answers "which shared objects are missing" for a Qt plugin.
"""

from __future__ import annotations

import ctypes
import os
import sys

# shared object the xcb plugin needs -> the Debian/Ubuntu package that provides it
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
}


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ: dict[str, str] | None = None) -> bool:
    """Whether Qt will use its X11 platform plugin here (Linux, no other platform chosen, no Wayland)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def missing_xcb_packages(loads: object = None) -> list[str]:
    """The packages whose libraries cannot be loaded (empty when all are there)."""
    try_load = loads if callable(loads) else _loads
    return [pkg for soname, pkg in XCB_LIBRARIES.items() if not try_load(soname)]


def xcb_problem(loads: object = None, environ: dict[str, str] | None = None) -> str:
    """A message naming the packages to install, or "" when the wizard can start."""
    if not uses_xcb(environ):
        return ""
    missing = missing_xcb_packages(loads)
    if not missing:
        return ""
    return (
        "The setup wizard cannot open a window: Qt's X11 support needs system libraries that are missing.\n"
        f"Install them (Debian/Ubuntu): sudo apt-get install {' '.join(missing)}\n"
        "Or use the command line: 'mailsetup --help' (check, send, detect, profiles, sandbox)."
    )
