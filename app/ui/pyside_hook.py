"""A cheaper answer to PySide6's per-import question "does this module use PySide6?".

Once PySide6 is imported, its ``__feature__`` support (``shibokensupport.feature``) asks that question
of every module imported afterwards, by ``inspect.getsource(module)`` and a search for "PySide6"
(modules that use PySide may switch on ``snake_case``/``true_property``; MailSetup never does).
``getsource`` goes through linecache and tokenize and costs ~10 ms of a cold start over the ~60
modules the first page imports. The answer below is the same one, found by a byte search of the
module's file; anything that is not a plain ``.py`` file gets PySide's own answer. Written here
because PySide offers no switch for it; if a PySide version lacks the hook, nothing is changed.
"""

from __future__ import annotations

import sys
from typing import Any

_MARK = "_mailsetup_quick"


def _quick(original: Any) -> Any:
    def uses_pyside(module: Any) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as f:
                    return b"PySide6" in f.read()
            except OSError:
                pass  # gone or unreadable: PySide's own check may still find it through the module's loader
        return bool(original(module))

    setattr(uses_pyside, _MARK, True)
    return uses_pyside


def quicken_feature_hook() -> bool:
    """Install the quick answer (once; only after PySide6 has been imported). True when it is in place."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original):
        return False
    if not getattr(original, _MARK, False):
        feature._mod_uses_pyside = _quick(original)  # type: ignore[attr-defined]
    return True
