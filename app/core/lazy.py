"""Lazy package surfaces: a package's public names are imported from their module on first use.

The wizard's first page needs a handful of names from ``app.core.model`` and ``app.core.catalog``;
importing every submodule of those packages up front (dataclasses and enums are built at import, each
costing ~0.5-1 ms on CPython 3.11) was ~25 ms of the cold start. A package lists where each public
name lives; ``from package import name`` and ``package.name`` import that one module when first asked
(PEP 562). Type checkers and import-linter read the same imports from the package's
``if TYPE_CHECKING:`` block; a test checks that block and the table agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, sources: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose ``sources`` map a submodule to its names."""
    where = {name: module for module, names in sources.items() for name in names}
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
