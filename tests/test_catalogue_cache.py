"""The catalogue's start-up cache: served only for the exact files it was built from, never trusted blindly."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.catalog import cache
from app.core.catalog.loader import default_catalogue, load_catalogue, user_providers_dir
from app.core.resources import resource_path

SHIPPED = resource_path("providers")

EXTRA = """\
id = "acme"
kind = "preset"
domains = ["acme.example"]
[name]
en = "Acme Mail"
ru = "Акме"
[[smtp]]
host = "smtp.acme.example"
port = 465
security = "ssl"
[[guide.en.steps]]
text = "step"
[[guide.ru.steps]]
text = "шаг"
"""


@pytest.fixture(autouse=True)
def fresh_default_catalogue():
    default_catalogue.cache_clear()
    yield
    default_catalogue.cache_clear()


class CountingLoad:
    def __init__(self, *extra: Path):
        self.calls = 0
        self.extra = list(extra)

    def __call__(self):
        self.calls += 1
        return load_catalogue(self.extra)


def folders(*extra: Path) -> list[Path]:
    return [SHIPPED, *extra]


def test_second_load_is_served_from_the_cache_and_equals_a_fresh_load(tmp_path):
    path = tmp_path / "catalogue.pickle"
    load = CountingLoad()
    first = cache.cached(folders(), load, path)
    second = cache.cached(folders(), load, path)
    assert load.calls == 1 and path.is_file()
    assert second is not first and second.providers == load_catalogue().providers
    assert second.by_domain("gmail.com").id == "gmail" and second.by_email("a@yandex.ru").id == "yandex"
    assert second.by_mx("mx.yandex.net").id == "yandex"


def test_default_catalogue_writes_the_cache_in_the_user_cache_dir_and_reads_it_back():
    first = default_catalogue()
    assert cache.cache_file().is_file()
    assert str(cache.cache_file()).startswith(os.environ["XDG_CACHE_HOME"])
    default_catalogue.cache_clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("app.core.catalog.loader.load_catalogue", lambda *a, **k: pytest.fail("parsed again"))
        second = default_catalogue()
    assert second.providers == first.providers


def test_an_edit_of_the_same_size_and_time_is_not_served_stale(tmp_path):
    extra = tmp_path / "providers"
    extra.mkdir()
    file = extra / "acme.toml"
    file.write_text(EXTRA, encoding="utf-8")
    stamp = file.stat().st_mtime_ns
    path = tmp_path / "catalogue.pickle"
    before = cache.cached(folders(extra), CountingLoad(extra), path)
    file.write_text(EXTRA.replace("smtp.acme.example", "smtp.acme.exampla"), encoding="utf-8")
    os.utime(file, ns=(stamp, stamp))  # same size, same mtime: only the bytes differ
    load = CountingLoad(extra)
    after = cache.cached(folders(extra), load, path)
    assert before.by_id("acme").smtp[0].host == "smtp.acme.example"
    assert load.calls == 1 and after.by_id("acme").smtp[0].host == "smtp.acme.exampla"


def test_an_added_and_a_removed_file_change_the_answer(tmp_path):
    extra = tmp_path / "providers"
    path = tmp_path / "catalogue.pickle"
    assert cache.cached(folders(extra), CountingLoad(extra), path).by_id("acme") is None
    extra.mkdir()
    (extra / "acme.toml").write_text(EXTRA, encoding="utf-8")
    assert cache.cached(folders(extra), CountingLoad(extra), path).by_id("acme").display_name("ru") == "Акме"
    (extra / "acme.toml").unlink()
    assert cache.cached(folders(extra), CountingLoad(extra), path).by_id("acme") is None


def test_a_user_provider_dropped_in_after_a_cached_start_shows_up():
    default_catalogue()
    user_providers_dir().mkdir(parents=True)
    (user_providers_dir() / "acme.toml").write_text(EXTRA, encoding="utf-8")
    default_catalogue.cache_clear()
    assert default_catalogue().by_domain("acme.example").id == "acme"


class Planted:
    """A pickle that would call a function when loaded: the cache must never resolve it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_naming_a_function_is_never_called(tmp_path):
    path = tmp_path / "catalogue.pickle"
    marker = tmp_path / "pwned"
    key = cache.catalogue_key(folders())
    path.write_bytes(pickle.dumps((key, Planted(marker))))
    load = CountingLoad()
    catalogue = cache.cached(folders(), load, path)
    assert not marker.exists()
    assert load.calls == 1 and catalogue.by_id("gmail") is not None
    # ...and the planted file was replaced by a good cache
    assert cache.read_cached(path, key).providers == catalogue.providers


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage\x00\xff", pickle.dumps(("other key", None))[:-3], pickle.dumps(["not", "a", "tuple"])],
    ids=["empty", "garbage", "truncated", "wrong-shape"],
)
def test_a_corrupt_cache_is_ignored_and_rewritten(tmp_path, content):
    path = tmp_path / "catalogue.pickle"
    path.write_bytes(content)
    load = CountingLoad()
    catalogue = cache.cached(folders(), load, path)
    assert load.calls == 1 and catalogue.by_id("yandex") is not None
    assert cache.read_cached(path, cache.catalogue_key(folders())) is not None


def test_a_cache_of_another_key_or_a_non_catalogue_is_not_served(tmp_path):
    path = tmp_path / "catalogue.pickle"
    key = cache.catalogue_key(folders())
    path.write_bytes(pickle.dumps((key[:-1] + ("changed",), load_catalogue())))
    assert cache.read_cached(path, key) is None
    path.write_bytes(pickle.dumps((key, ("not", "a", "catalogue"))))
    assert cache.read_cached(path, key) is None


def test_an_oversized_cache_file_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "catalogue.pickle"
    key = cache.catalogue_key(folders())
    cache.write_cached(path, key, load_catalogue())
    assert cache.read_cached(path, key) is not None
    monkeypatch.setattr(cache, "MAX_BYTES", path.stat().st_size - 1)
    assert cache.read_cached(path, key) is None


def test_an_unwritable_cache_location_still_loads(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    load = CountingLoad()
    catalogue = cache.cached(folders(), load, blocker / "catalogue.pickle")
    assert load.calls == 1 and catalogue.by_id("gmail") is not None
    assert blocker.read_text() == "a file where the cache folder should be"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-dir"]  # no temp file left behind


def test_parallel_starts_all_get_the_catalogue_and_leave_one_good_file(tmp_path):
    path = tmp_path / "catalogue.pickle"
    results: list = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait(timeout=10)
        results.append(cache.cached(folders(), CountingLoad(), path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    expected = load_catalogue().providers
    assert len(results) == 8 and all(r.providers == expected for r in results)
    assert cache.read_cached(path, cache.catalogue_key(folders())).providers == expected
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.pickle"]  # no temp files left


def test_catalogue_errors_are_kept_in_the_cache(tmp_path):
    extra = tmp_path / "providers"
    extra.mkdir()
    (extra / "broken.toml").write_text("id = [", encoding="utf-8")
    path = tmp_path / "catalogue.pickle"
    first = cache.cached(folders(extra), CountingLoad(extra), path)
    load = CountingLoad(extra)
    second = cache.cached(folders(extra), load, path)
    assert load.calls == 0
    assert [e.file for e in second.errors] == [e.file for e in first.errors] == ["broken.toml"]
    assert "not valid TOML" in second.errors[0].message


def test_a_changed_ispdb_snapshot_or_loader_source_changes_the_key(tmp_path, monkeypatch):
    import shutil

    from app.core.resources import ENV_OVERRIDE, resource_dir

    copy = tmp_path / "resources"
    shutil.copytree(SHIPPED.parent, copy)
    monkeypatch.setenv(ENV_OVERRIDE, str(copy))
    resource_dir.cache_clear()
    try:
        _check_key_changes(copy)
    finally:
        monkeypatch.delenv(ENV_OVERRIDE)
        resource_dir.cache_clear()
        resource_dir()  # computed again from the real checkout


def _check_key_changes(copy):
    providers = copy / "providers"
    before = cache.catalogue_key([providers])
    snapshot = copy / "ispdb" / "snapshot.json"
    snapshot.write_bytes(snapshot.read_bytes().replace(b'"', b'"', 1) + b" ")  # one more byte
    assert cache.catalogue_key([providers]) != before
    # every catalogue module, and the settings and codes the checker validates against, are in the key
    names = {part[0] for part in cache.catalogue_key([providers]) if isinstance(part, tuple)}
    assert {"oauth.py", "sections.py", "facts.py", "cache.py", "settings.py", "codes.py"} <= names


def test_a_onefile_bundle_loads_without_the_cache(monkeypatch, tmp_path):
    import sys

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_MEI123456"), raising=False)
    calls: list[int] = []

    stand_in = SimpleNamespace(providers=(), errors=[])

    def load():  # touches no resource path: sys._MEIPASS is faked here
        calls.append(1)
        return stand_in

    assert cache.cached(folders(), load) is cache.cached(folders(), load) is stand_in
    assert len(calls) == 2 and not cache.cache_file().exists()


def test_a_cached_start_gives_the_entries_at_once_and_the_providers_on_first_use(tmp_path):
    from app.core.catalog import entries_of

    path = tmp_path / "catalogue.pickle"
    cache.cached(folders(), CountingLoad(), path)
    load = CountingLoad()
    source = cache.open_source(folders(), load, path)
    fresh = load_catalogue()
    assert source.entries == entries_of(fresh.providers) and not source.loaded
    gmail = next(e for e in source.entries if e.id == "gmail")
    assert (gmail.kind, gmail.audience, gmail.regional, gmail.guided) == ("preset", "personal", False, True)
    assert next(e for e in source.entries if e.id == "zoho").regional is True
    assert next(e for e in source.entries if e.id == "custom").guided is False
    catalogue = source.catalogue()
    assert source.loaded and source.catalogue() is catalogue and load.calls == 0
    assert catalogue.providers == fresh.providers


def test_a_source_built_from_several_threads_at_once_is_built_once(tmp_path):
    path = tmp_path / "catalogue.pickle"
    cache.cached(folders(), CountingLoad(), path)
    source = cache.open_source(folders(), CountingLoad(), path)
    barrier = threading.Barrier(6)
    got: list = []

    def use() -> None:
        barrier.wait(timeout=10)
        got.append(source.catalogue())

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(got) == 6 and all(c is got[0] for c in got)


def test_a_planted_inner_pickle_is_never_called_and_the_files_are_loaded_afresh(tmp_path):
    path = tmp_path / "catalogue.pickle"
    marker = tmp_path / "pwned"
    key = cache.catalogue_key(folders())
    cache.cached(folders(), CountingLoad(), path)
    _, plain, _ = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps((key, plain, pickle.dumps(Planted(marker)))))
    load = CountingLoad()
    source = cache.open_source(folders(), load, path)
    assert not source.loaded and load.calls == 0  # the outer layer is fine: the list can show
    catalogue = source.catalogue()
    assert not marker.exists() and load.calls == 1 and catalogue.by_id("gmail") is not None
    assert cache.read_cached(path, key).providers == catalogue.providers  # rewritten


def test_a_planted_outer_layer_is_never_called(tmp_path):
    path = tmp_path / "catalogue.pickle"
    marker = tmp_path / "pwned"
    key = cache.catalogue_key(folders())
    path.write_bytes(pickle.dumps((key, (Planted(marker),), b"")))
    load = CountingLoad()
    source = cache.open_source(folders(), load, path)
    assert not marker.exists() and load.calls == 1 and source.loaded


def test_entries_that_do_not_match_their_providers_are_not_trusted(tmp_path):
    from app.core.catalog import entries_of

    path = tmp_path / "catalogue.pickle"
    key = cache.catalogue_key(folders())
    fresh = load_catalogue()
    lying = tuple(tuple(e._replace(name={"en": "Evil"})) for e in entries_of(fresh.providers))
    path.write_bytes(pickle.dumps((key, lying, pickle.dumps(fresh))))
    load = CountingLoad()
    source = cache.open_source(folders(), load, path)
    assert source.entries[0].name == {"en": "Evil"}  # shown as the file says, until the providers load...
    assert source.catalogue().providers == fresh.providers and load.calls == 1  # ...which loads afresh
    assert source.entries == entries_of(fresh.providers)  # and the entries now say what was loaded
    assert cache.open_source(folders(), CountingLoad(), path).entries == entries_of(fresh.providers)


@pytest.mark.parametrize(
    "plain",
    [("not", "rows"), (("gmail", "preset", {"en": 1}, "", False, True),), (("gmail", "preset", {}, "", 0, True),)],
    ids=["not-rows", "non-text-name", "non-bool-flag"],
)
def test_malformed_entries_are_ignored(tmp_path, plain):
    path = tmp_path / "catalogue.pickle"
    key = cache.catalogue_key(folders())
    path.write_bytes(pickle.dumps((key, plain, pickle.dumps(load_catalogue()))))
    load = CountingLoad()
    assert cache.open_source(folders(), load, path).loaded and load.calls == 1
