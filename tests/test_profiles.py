"""ProfileStore: round trip, atomic writes, corrupt files, unwritable folders, odd names."""

from __future__ import annotations

import json
import os
import resource
import signal
from pathlib import Path

import pytest

from app.core.model.settings import Security, SmtpSettings, TlsOptions
from app.core.store.profiles import (
    MAX_NAME_LENGTH,
    SCHEMA_VERSION,
    Profile,
    ProfileErrorKind,
    ProfileStore,
    ProfileStoreError,
    default_profiles_path,
    normalize_name,
)
from app.core.store.proxy_url import join_proxy_secret, split_proxy_secret


def make(name: str = "Work", **kw) -> Profile:
    settings = SmtpSettings(host="smtp.example.com", port=465, security=Security.SSL, username="me@example.com")
    kw.setdefault("from_addr", "me@example.com")
    kw.setdefault("from_name", "Me")
    return Profile(name=name, settings=settings, **kw)


def test_default_path_follows_xdg_config_home(isolated_user_dirs):
    assert default_profiles_path() == isolated_user_dirs / "xdg_config_home" / "mailsetup" / "profiles.json"
    assert ProfileStore().path == default_profiles_path()


def test_save_get_list_delete_roundtrip(tmp_path):
    store = ProfileStore(tmp_path / "cfg" / "profiles.json")
    assert store.list() == []
    saved = store.save(make(has_secret=True, secret_backend="Secret Service", provider_id="gmail"))
    assert saved.created_at and saved.updated_at
    store.save(make("another"))
    got = store.get("Work")
    assert got == saved
    assert got.settings == saved.settings and got.has_secret and got.secret_backend == "Secret Service"
    assert [p.name for p in store.list()] == ["another", "Work"]
    doc = json.loads(store.path.read_text(encoding="utf-8"))
    assert doc["schema"] == SCHEMA_VERSION and set(doc["profiles"]) == {"Work", "another"}
    assert "\n  " in store.path.read_text(encoding="utf-8")  # human-readable (indented)
    assert store.delete("Work") is True
    assert store.delete("Work") is False
    assert store.get("Work") is None


def test_overwrite_keeps_created_and_refuses_without_overwrite(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    first = store.save(make())
    with pytest.raises(ProfileStoreError) as err:
        store.save(make(), overwrite=False)
    assert err.value.kind is ProfileErrorKind.EXISTS and "already exists" in err.value.message
    second = store.save(make(from_name="Renamed"))
    assert second.created_at == first.created_at and second.from_name == "Renamed"


def test_rename(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    store.save(make("a"))
    store.save(make("b"))
    with pytest.raises(ProfileStoreError) as err:
        store.rename("a", "b")
    assert err.value.kind is ProfileErrorKind.EXISTS
    assert store.rename("a", "c").name == "c"
    assert [p.name for p in store.list()] == ["b", "c"]


def test_no_temp_files_left_and_file_mode(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    for i in range(3):
        store.save(make(f"p{i}"))
    # the lock file stays (removing it would race with another process taking it); no temp file does
    assert sorted(p.name for p in tmp_path.iterdir()) == [".profiles.json.lock", "profiles.json"]
    assert (store.path.stat().st_mode & 0o777) == 0o600


def test_proxy_password_never_reaches_the_file(tmp_path):
    settings = SmtpSettings(
        host="smtp.example.com",
        port=587,
        security=Security.STARTTLS,
        proxy="socks5://bob:pr%40xy-s3cret@127.0.0.1:1080",
    )
    store = ProfileStore(tmp_path / "profiles.json")
    saved = store.save(Profile(name="proxied", settings=settings, has_proxy_secret=True))
    text = store.path.read_text(encoding="utf-8")
    assert "s3cret" not in text and "pr%40xy" not in text
    loaded = store.get("proxied")
    assert loaded.settings.proxy == "socks5://bob@127.0.0.1:1080" and loaded.has_proxy_secret
    assert saved.name == "proxied"


def test_split_and_join_proxy_secret():
    clean, pw = split_proxy_secret("http://u%20x:p%3Aw@[::1]:8080")
    assert clean == "http://u%20x@[::1]:8080" and pw == "p:w"
    assert join_proxy_secret(clean, pw) == "http://u%20x:p%3Aw@[::1]:8080"
    assert split_proxy_secret("socks5://127.0.0.1:1080") == ("socks5://127.0.0.1:1080", None)
    assert split_proxy_secret(None) == (None, None)


# -- names ------------------------------------------------------------------------------------------

ODD_NAMES = ['Работа "главная"', "a/b\\c", "../../etc/passwd", "😀 emoji", "$HOME `rm -rf` ; 'x'", "  spaced  "]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_are_stored_safely(tmp_path, name):
    store = ProfileStore(tmp_path / "profiles.json")
    saved = store.save(make(name))
    assert saved.name == name.strip()
    assert store.get(name).name == name.strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".profiles.json.lock",
        "profiles.json",
    ]  # no file named after the profile
    assert json.loads(store.path.read_text(encoding="utf-8"))["profiles"][name.strip()]["name"] == name.strip()


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a\nb", "control character"),
        ("tab\there", "control character"),
        ("x\u2028y", "control character"),
        ("n" * (MAX_NAME_LENGTH + 1), "at most"),
    ],
)
def test_bad_names_are_rejected_clearly(tmp_path, name, fragment):
    store = ProfileStore(tmp_path / "profiles.json")
    with pytest.raises(ProfileStoreError) as err:
        store.save(make(name))
    assert err.value.kind is ProfileErrorKind.INVALID_NAME and fragment in err.value.message
    assert not store.path.exists()


def test_nfc_normalization_makes_one_profile(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    store.save(make("Caf\u00e9"))
    store.save(make("Cafe\u0301"))  # same name, decomposed
    assert [p.name for p in store.list()] == ["Caf\u00e9"]
    assert normalize_name("Cafe\u0301") == "Caf\u00e9"


# -- corrupt, too new, partial entries ----------------------------------------------------------------


def test_corrupt_file_is_moved_aside_and_reported(tmp_path):
    path = tmp_path / "profiles.json"
    garbage = '{"schema": 1, "profiles": {"Work": {"name": "Work", '  # truncated
    path.write_text(garbage, encoding="utf-8")
    store = ProfileStore(path)
    with pytest.raises(ProfileStoreError) as err:
        store.list()
    e = err.value
    assert e.kind is ProfileErrorKind.CORRUPT and "not valid JSON" in e.message and str(e.moved_to) in e.message
    assert e.moved_to.name.startswith("profiles.json.corrupt-")
    assert e.moved_to.read_text(encoding="utf-8") == garbage  # kept byte for byte
    assert not path.exists()
    store.save(make())  # a new file starts; the old one stays aside
    assert e.moved_to.read_text(encoding="utf-8") == garbage
    assert [p.name for p in store.list()] == ["Work"]


@pytest.mark.parametrize("content", ["[1, 2]", '{"profiles": []}', '{"schema": "x"}', "\xff\xfe"])
def test_wrong_structure_counts_as_corrupt(tmp_path, content):
    path = tmp_path / "profiles.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ProfileStoreError) as err:
        ProfileStore(path).list()
    assert err.value.kind is ProfileErrorKind.CORRUPT
    assert err.value.moved_to.read_bytes() == content.encode("latin-1")


def test_newer_schema_is_left_untouched(tmp_path):
    path = tmp_path / "profiles.json"
    content = json.dumps({"schema": SCHEMA_VERSION + 1, "profiles": {}})
    path.write_text(content, encoding="utf-8")
    store = ProfileStore(path)
    with pytest.raises(ProfileStoreError) as err:
        store.save(make())
    assert err.value.kind is ProfileErrorKind.TOO_NEW and "newer version" in err.value.message
    assert path.read_text(encoding="utf-8") == content


def test_one_bad_entry_is_reported_and_kept(tmp_path):
    store = ProfileStore(tmp_path / "profiles.json")
    store.save(make("good"))
    doc = json.loads(store.path.read_text(encoding="utf-8"))
    doc["profiles"]["bad"] = {"name": "bad", "settings": {"host": "h", "port": "many", "security": "starttls"}}
    doc["profiles"]["good"]["future_field"] = {"kept": True}
    store.path.write_text(json.dumps(doc), encoding="utf-8")
    assert [p.name for p in store.list()] == ["good"]
    assert store.problems() == {
        "bad": "profiles.json: profile \"bad\": settings.port: 'many' is not a whole port number (1-65535)"
    }
    with pytest.raises(ProfileStoreError) as err:
        store.require("bad")
    assert err.value.kind is ProfileErrorKind.INVALID
    store.save(make("third"))  # rewriting keeps the unreadable entry and unknown fields
    doc2 = json.loads(store.path.read_text(encoding="utf-8"))
    assert doc2["profiles"]["bad"] == doc["profiles"]["bad"]
    assert doc2["profiles"]["good"]["future_field"] == {"kept": True}


# -- unwritable locations ---------------------------------------------------------------------------


def test_config_dir_that_cannot_be_created(tmp_path):
    """The config dir's parent is a regular file, so nothing can be created below it.

    Tests run as root here, and root ignores permission bits (chmod 0500 would not stop a
    write), so a file-as-parent is the portable real way to make the folder unwritable.
    """
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("I am a file", encoding="utf-8")
    store = ProfileStore(blocker / "mailsetup" / "profiles.json")
    assert store.list() == []
    with pytest.raises(ProfileStoreError) as err:
        store.save(make())
    assert err.value.kind is ProfileErrorKind.WRITE_FAILED
    assert str(store.path) in err.value.message and "Nothing was changed" in err.value.message
    assert blocker.read_text(encoding="utf-8") == "I am a file"


@pytest.fixture
def file_size_limit():
    """Make every file write beyond ``limit`` bytes fail with EFBIG (works for root, unlike chmod)."""
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def apply(limit: int) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old_limit[1]))

    try:
        yield apply
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)


def test_failed_write_loses_nothing(tmp_path, file_size_limit):
    """A write that fails half-way (disk full / quota) leaves the old file intact and no temp file."""
    store = ProfileStore(tmp_path / "profiles.json")
    store.save(make("keep-me"))
    before = store.path.read_bytes()
    file_size_limit(64)
    try:
        with pytest.raises(ProfileStoreError) as err:
            store.save(make("x" * 70, from_name="y" * 500))
    finally:
        file_size_limit(resource.RLIM_INFINITY)
    assert err.value.kind is ProfileErrorKind.WRITE_FAILED and "Nothing was changed" in err.value.message
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".profiles.json.lock", "profiles.json"]
    assert [p.name for p in store.list()] == ["keep-me"]


def test_from_dict_rejects_bad_settings():
    with pytest.raises(ProfileStoreError) as err:
        Profile.from_dict({"name": "x", "settings": {"host": "h", "port": 0, "security": "bogus"}})
    assert err.value.kind is ProfileErrorKind.INVALID


def test_save_rejects_invalid_settings(tmp_path):
    bad = Profile(name="x", settings=SmtpSettings(host="bad host!", port=25, security=Security.NONE))
    with pytest.raises(ProfileStoreError) as err:
        ProfileStore(tmp_path / "p.json").save(bad)
    assert err.value.kind is ProfileErrorKind.INVALID and "host" in err.value.message


def test_tls_options_survive_roundtrip(tmp_path):
    s = SmtpSettings(
        host="127.0.0.1",
        port=2525,
        security=Security.STARTTLS,
        tls=TlsOptions(verify=False, cafile="/x/ca.pem", pinned_sha256="ab" * 32),
    )
    store = ProfileStore(tmp_path / "p.json")
    store.save(Profile(name="t", settings=s))
    assert store.get("t").settings == s
    assert os.path.basename(store.path) == "p.json"
    assert Path(store.path).exists()
