"""A start-up cache of the loaded catalogue, keyed on the exact bytes of every provider file.

Parsing and validating the ~20 TOML files costs ~35 ms, the largest single item before the wizard's
first page shows; reading back the result costs ~2 ms. The key holds each file's name and exact bytes
(~170 KB; compared byte for byte, so no hash can collide), the folders' existence, the Python and app
versions and the loader's own modules, so an edited, added or removed provider file (or an upgraded
app) is never served from a stale cache.

The cache is a pickle because the catalogue is a tree of dataclasses, enums and dates that no plain
data format round-trips without re-running the ~35 ms of validation. It is read with an unpickler that
resolves only the catalogue's own dataclasses and enums and ``datetime.date``: a planted file can at
worst describe a wrong catalogue of those types, never name a function to call. Anything unexpected
(unreadable, corrupt, foreign, from another key) is ignored and the catalogue is loaded afresh.

The file holds ``(key, entries, catalogue pickle)``. The outer layer is plain data (read with an
unpickler that resolves no class at all), so a start can show the first page's provider list from the
entries (app.core.catalog.listing) without defining the catalogue's model; the inner pickle is read
when the providers are first needed (``CatalogueSource.catalogue()``).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import io
import logging
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.core.catalog.listing import ProviderEntry, entries_from_plain, entries_of

log = logging.getLogger(__name__)

FORMAT = 2  # (key, first-page entries, pickled catalogue)
_ALLOWED_MODULES = ("app.core.catalog.model", "app.core.catalog.loader", "app.core.catalog.checker")
# The code that decides what a file loads as (every catalogue module, and the settings and codes its
# checker validates against): a change to any of them changes the key.
_LOADER_SOURCES = ("catalog/*.py", "model/settings.py", "model/codes.py")
MAX_BYTES = 16 * 1024 * 1024  # far above a real catalogue with its sources (~330 KB); a bigger file is not read


def cache_file() -> Path:
    """``<user cache dir>/mailsetup/catalogue.pickle``."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mailsetup", appauthor=False)) / "catalogue.pickle"


def user_providers_dir() -> Path:
    """``<user config dir>/mailsetup/providers``: drop a TOML file there to add a provider."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("mailsetup", appauthor=False)) / "providers"


def catalogue_key(folders: Iterable[Path]) -> tuple[Any, ...]:
    """What the catalogue is built from: versions, the loader's modules, every ``*.toml`` name and bytes."""
    from app import __version__

    key: list[Any] = [FORMAT, __version__, sys.version]
    core = Path(__file__).resolve().parents[1]
    for pattern in _LOADER_SOURCES:  # a frozen app has no sources: the app version above stands for them
        for source in sorted(core.glob(pattern)):
            try:
                st = source.stat()
            except OSError:
                continue
            key.append((source.name, st.st_size, st.st_mtime_ns))
    # the ISPDB snapshot adds domains to providers (catalog.facts): its bytes are part of what was loaded
    from app.core.resources import resource_path

    try:
        key.append(("ispdb", (resource_path("ispdb") / "snapshot.json").read_bytes()))
    except OSError:
        key.append(("ispdb", None))
    for folder in folders:
        if not folder.is_dir():
            key.append((str(folder), None))
            continue
        files: list[tuple[str, bytes | int | None]] = []
        for file in sorted(folder.glob("*.toml")):
            try:
                files.append((file.name, file.read_bytes()))
            except OSError as exc:  # the loader reports it; the key only has to differ from a readable file
                files.append((file.name, exc.errno))
        key.append((str(folder), tuple(files)))
    return tuple(key)


def _onefile_bundle() -> bool:
    """A PyInstaller one-file app: it runs from a fresh ``_MEIxxxxxx`` folder each time, and the catalogue
    records its files' full paths, so a cached one would name a folder that is gone."""
    base = getattr(sys, "_MEIPASS", None)
    return bool(getattr(sys, "frozen", False) and base and Path(base).name.startswith("_MEI"))


class _CatalogueUnpickler(pickle.Unpickler):
    """Resolves only the catalogue's dataclasses and enums, and ``datetime.date``."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("datetime", "date"):
            return datetime.date
        if module in _ALLOWED_MODULES:
            obj = getattr(sys.modules.get(module) or __import__(module, fromlist=[name]), name, None)
            if isinstance(obj, type) and (dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)):
                return obj
        raise pickle.UnpicklingError(f"not a catalogue type: {module}.{name}")


class _PlainUnpickler(pickle.Unpickler):
    """The file's outer layer: tuples, bytes, strings, dicts and booleans only; no class at all."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"not plain data: {module}.{name}")


class CatalogueSource:
    """A catalogue as a start needs it: the first page's ``entries`` at once, the providers on first use.

    ``catalogue()`` builds it once (thread-safe) from the very bytes the entries came with, so the list
    and the providers always describe the same files, whatever changes on disk in between. Once built,
    ``entries`` are those of the built providers (a cache file whose entries lied is then corrected).
    """

    def __init__(self, entries: tuple[ProviderEntry, ...], build: Callable[[], Any]):
        self.entries = entries
        self._build: Callable[[], Any] | None = build
        self._catalogue: Any = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, catalogue: Any) -> CatalogueSource:
        """A source for an already loaded catalogue."""
        source = cls(entries_of(catalogue.providers), lambda: catalogue)
        source._build, source._catalogue = None, catalogue
        return source

    @property
    def loaded(self) -> bool:
        return self._build is None

    def catalogue(self) -> Any:  # app.core.catalog.Catalogue
        with self._lock:
            if self._build is not None:
                self._catalogue = self._build()
                self._build = None
                self.entries = entries_of(self._catalogue.providers)
            return self._catalogue


def _read_layers(path: Path, key: tuple[Any, ...]) -> tuple[tuple[ProviderEntry, ...], bytes] | None:
    """The entries and the pickled catalogue stored under ``key`` at ``path`` (None: missing, corrupt,
    foreign or stale). Reads no catalogue class: the providers stay bytes until asked for."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES:
        return None
    try:
        stored = _PlainUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # any malformed cache means "load afresh"
        log.info("catalogue cache ignored: %s", type(exc).__name__)
        return None
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == key and isinstance(stored[2], bytes)):
        return None
    entries = entries_from_plain(stored[1])
    return (entries, stored[2]) if entries is not None else None


def _unpickle_catalogue(blob: bytes) -> Any | None:
    try:
        found = _CatalogueUnpickler(io.BytesIO(blob)).load()
    except Exception as exc:
        log.info("catalogue cache ignored: %s", type(exc).__name__)
        return None
    from app.core.catalog.loader import Catalogue

    return found if isinstance(found, Catalogue) else None


def read_cached(path: Path, key: tuple[Any, ...]) -> Any | None:
    """The catalogue stored under ``key`` at ``path``, or None (missing, corrupt, foreign or stale)."""
    layers = _read_layers(path, key)
    return _unpickle_catalogue(layers[1]) if layers is not None else None


def write_cached(path: Path, key: tuple[Any, ...], catalogue: Any) -> None:
    """Store ``catalogue`` and its entries under ``key`` (atomically: a parallel reader sees the old file
    or the new one)."""
    import tempfile  # only a start that (re)built the catalogue writes

    try:
        blob = pickle.dumps(catalogue, protocol=pickle.HIGHEST_PROTOCOL)
        plain = tuple(tuple(e) for e in entries_of(catalogue.providers))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".catalogue-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((key, plain, blob), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, pickle.PicklingError) as exc:  # a read-only or full disk: run without a cache
        log.info("catalogue cache not written: %s", exc)


def open_source(folders: list[Path], load: Callable[[], Any], path: Path | None = None) -> CatalogueSource:
    """``load()``'s catalogue for ``folders`` as a source: from the cache when its key matches (the
    providers then unpickle on first use), else loaded now and stored."""
    if path is None and _onefile_bundle():
        return CatalogueSource.of(load())  # unpacked to a new temporary folder each start: never matches
    path = path if path is not None else cache_file()
    key = catalogue_key(folders)
    layers = _read_layers(path, key)
    if layers is not None:
        entries, blob = layers

        def build() -> Any:
            found = _unpickle_catalogue(blob)
            if found is None or entries_of(found.providers) != entries:  # a file that lies: load afresh
                found = load()
                write_cached(path, key, found)
            for e in found.errors:
                log.info("provider catalogue: %s", e)
            return found

        return CatalogueSource(entries, build)
    catalogue = load()
    write_cached(path, key, catalogue)
    return CatalogueSource.of(catalogue)


def cached(folders: list[Path], load: Callable[[], Any], path: Path | None = None) -> Any:
    """``load()``'s catalogue for ``folders``, from the cache when its key matches, else loaded and stored."""
    return open_source(folders, load, path).catalogue()


@lru_cache(maxsize=1)
def default_source() -> CatalogueSource:
    """The shipped catalogue plus the user's providers folder (if it exists), as a source; made once
    (``default_catalogue.cache_clear()`` makes it again)."""
    from app.core.resources import resource_path

    user_dir = user_providers_dir()
    extra = [user_dir] if user_dir.is_dir() else []

    def load() -> Any:
        from app.core.catalog.loader import load_catalogue

        return load_catalogue(extra)

    return open_source([resource_path("providers"), *extra], load)
