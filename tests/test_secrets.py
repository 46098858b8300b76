"""SecretStore against a real Secret Service (gnome-keyring) and against failing backends."""

from __future__ import annotations

import threading
import time

import keyring.backend
import keyring.errors
import pytest
from keyring.compat.properties import classproperty

from app.core.store.secrets import (
    PROXY_SERVICE,
    SERVICE,
    SecretErrorKind,
    SecretStore,
    SecretStoreError,
    backend_display_name,
    is_secure_backend,
)

PASSWORD = "pä$$ 'w\"ord\\ \n😀"


# -- test doubles for the *backend* (the thing behind our wrapper) ----------------------------------
# keyring registers every KeyringBackend subclass; a priority that raises makes these doubles
# "not viable", so keyring's own detection (here or in other tests) never picks them.


def _not_for_detection(cls):
    raise RuntimeError("test double: use explicitly")


class LockedKeyring(keyring.backend.KeyringBackend):
    """A backend whose unlock prompt was dismissed: every call raises KeyringLocked."""

    priority = classproperty(_not_for_detection)

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class HangingKeyring(keyring.backend.KeyringBackend):
    """A Secret Service that never answers: calls block until the test releases them."""

    priority = classproperty(_not_for_detection)
    release = threading.Event()

    def get_password(self, service, username, *rest):
        self.release.wait()
        return None

    set_password = delete_password = get_password  # type: ignore[assignment]


class EchoErrorKeyring(keyring.backend.KeyringBackend):
    """A backend whose error message repeats the password (a badly behaved store)."""

    priority = classproperty(_not_for_detection)

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError(f"cannot store {password}")

    def delete_password(self, service, username):
        raise keyring.errors.PasswordDeleteError("No such password!")


# -- real Secret Service ----------------------------------------------------------------------------


def test_roundtrip_in_real_secret_service(secret_service):
    store = SecretStore()
    info = store.info()
    assert info.qualname == "keyring.backends.SecretService.Keyring"
    assert info.name.startswith("Secret Service")
    assert store.get('Work ✉ "quotes"') is None
    assert store.set('Work ✉ "quotes"', PASSWORD).name == info.name
    assert store.get('Work ✉ "quotes"') == PASSWORD
    # a second, independent client (new D-Bus connection) sees the same item
    assert keyring.backends.SecretService.Keyring().get_password(SERVICE, 'Work ✉ "quotes"') == PASSWORD
    store.set('Work ✉ "quotes"', "replaced")
    assert store.get('Work ✉ "quotes"') == "replaced"
    store.set('Work ✉ "quotes"', "proxy-pw", service=PROXY_SERVICE)
    assert store.get('Work ✉ "quotes"') == "replaced"
    assert store.delete('Work ✉ "quotes"') is True
    assert store.get('Work ✉ "quotes"') is None
    assert store.delete('Work ✉ "quotes"') is False
    assert store.get('Work ✉ "quotes"', service=PROXY_SERVICE) == "proxy-pw"
    assert store.delete('Work ✉ "quotes"', service=PROXY_SERVICE) is True
    assert ("Login", False) in secret_service.collections()


def test_real_locked_collection_is_reported_as_locked(secret_service):
    """gnome-keyring with its collection locked and no prompter available: LOCKED, quickly, no hang."""
    store = SecretStore(timeout=5)
    store.set("locked-test", "hunter2")
    secret_service.lock_default()
    try:
        assert ("Login", True) in secret_service.collections()
        with pytest.raises(SecretStoreError) as err:
            store.get("locked-test")
        assert err.value.kind is SecretErrorKind.LOCKED
    finally:
        secret_service.unlock_default()
    assert ("Login", False) in secret_service.collections()
    assert store.get("locked-test") == "hunter2"
    assert store.delete("locked-test") is True


def test_real_secret_service_picked_without_env_override(secret_service, monkeypatch):
    """With no PYTHON_KEYRING_BACKEND, detection finds the running Secret Service (not a file)."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    store = SecretStore()
    backend = store.backend()
    assert is_secure_backend(backend)
    assert "Secret Service" in backend_display_name(backend)


def test_chainer_backend_is_reduced_to_its_best_secure_member(secret_service, monkeypatch):
    """keyring's ChainerBackend would fall through to the next store on error; we use one secure store."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.chainer.ChainerBackend")
    assert SecretStore().info().qualname == "keyring.backends.SecretService.Keyring"


# -- no / insecure backends -------------------------------------------------------------------------


def test_fail_backend_gives_clear_error_and_writes_nothing(isolated_user_dirs):
    before = sorted(p for p in isolated_user_dirs.rglob("*"))
    store = SecretStore()
    with pytest.raises(SecretStoreError) as err:
        store.set("work", "hunter2")
    e = err.value
    assert e.kind is SecretErrorKind.NO_BACKEND
    assert "gnome-keyring" in e.message and "without the password" in e.message
    assert "hunter2" not in str(e)
    assert sorted(p for p in isolated_user_dirs.rglob("*")) == before
    with pytest.raises(SecretStoreError) as err2:
        store.get("work")
    assert err2.value.kind is SecretErrorKind.NO_BACKEND


@pytest.mark.parametrize("backend", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"])
def test_null_and_fail_backends_are_rejected(monkeypatch, backend):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    with pytest.raises(SecretStoreError) as err:
        SecretStore().info()
    assert err.value.kind is SecretErrorKind.NO_BACKEND


def test_plaintext_file_backend_is_rejected_as_not_secure(tmp_path):
    """A backend living in keyrings.alt.file is refused before anything is written."""
    ns: dict = {}
    exec(  # a class whose module is keyrings.alt.file, as keyrings.alt's PlaintextKeyring is
        "import keyring.backend\n"
        "class PlaintextKeyring(keyring.backend.KeyringBackend):\n"
        "    priority = 0.5\n"
        "    written = []\n"
        "    def get_password(self, s, u): return None\n"
        "    def set_password(self, s, u, p): self.written.append(p)\n"
        "    def delete_password(self, s, u): pass\n",
        {"__name__": "keyrings.alt.file"},
        ns,
    )
    plain = ns["PlaintextKeyring"]()
    assert not is_secure_backend(plain)
    with pytest.raises(SecretStoreError) as err:
        SecretStore(plain).set("work", "hunter2")
    assert err.value.kind is SecretErrorKind.INSECURE_BACKEND
    assert "not secure" in err.value.title.lower() and "file" in err.value.message
    assert plain.written == []


def test_unavailable_configured_backend_is_init_failure(monkeypatch):
    """PYTHON_KEYRING_BACKEND=SecretService with no bus at all: a clear init error, no hang."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mailsetup-test-bus")
    with pytest.raises(SecretStoreError) as err:
        SecretStore(timeout=5).get("work")
    assert err.value.kind is SecretErrorKind.INIT_FAILED
    assert "gnome-keyring" in err.value.message


# -- locked / hanging / erroring backends ----------------------------------------------------------


def test_locked_backend_is_reported_as_locked():
    store = SecretStore(LockedKeyring())
    for call in (lambda: store.get("w"), lambda: store.set("w", "hunter2"), lambda: store.delete("w")):
        with pytest.raises(SecretStoreError) as err:
            call()
        assert err.value.kind is SecretErrorKind.LOCKED
        assert "unlock" in err.value.message.lower()


def test_hanging_backend_is_bounded_by_timeout():
    HangingKeyring.release.clear()
    store = SecretStore(HangingKeyring(), timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(SecretStoreError) as err:
            store.set("w", "hunter2")
        elapsed = time.monotonic() - started
    finally:
        HangingKeyring.release.set()  # let the abandoned worker thread finish
    assert err.value.kind is SecretErrorKind.TIMEOUT
    assert 0.25 <= elapsed < 2.0
    assert "0.3 seconds" in err.value.message
    assert "hunter2" not in str(err.value)


def test_backend_error_never_echoes_the_secret():
    with pytest.raises(SecretStoreError) as err:
        SecretStore(EchoErrorKeyring()).set("w", "hunter2-secret")
    assert err.value.kind is SecretErrorKind.BACKEND_ERROR
    assert "hunter2-secret" not in str(err.value) and "***" in err.value.message
    assert SecretStore(EchoErrorKeyring()).delete("w") is False


def test_error_to_dict_and_empty_secret_rejected():
    e = SecretStoreError(SecretErrorKind.LOCKED, "t", "m")
    assert e.to_dict() == {"kind": "locked", "title": "t", "message": "m"}
    with pytest.raises(ValueError):
        SecretStore(LockedKeyring()).set("w", "")


def test_display_names():
    import keyring.backends.macOS
    import keyring.backends.Windows

    assert backend_display_name(keyring.backends.macOS.Keyring) == "macOS Keychain"
    assert backend_display_name(keyring.backends.Windows.WinVaultKeyring) == "Windows Credential Locker"
    assert is_secure_backend(keyring.backends.macOS.Keyring)
