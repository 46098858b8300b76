"""After add + check + export (no --include-password), the password is in no file, log or output.

The profile is added through the real CLI against a real STARTTLS server, with the password
in a real Secret Service (gnome-keyring). Then every file under the isolated config, data,
cache and state (log) folders, the exports, the captured output and a DEBUG log of the whole
run are searched for the password: raw, JSON/Python-escaped, base64 (alone, at every byte
alignment, and as the AUTH PLAIN blob) and URL-encoded.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from app.cli.main import main
from app.core.store.export import EXPORT_FORMATS
from tests.test_profiles_cli import USER, conn_args

CANARY = "Leak-Canary-7f3a \"q\" 's' $HOME \\ ü"
PROXY_CANARY = "Proxy-Canary-91c2"


def needles(secret: str) -> set[bytes]:
    """Byte strings that would betray ``secret`` in a file, in the encodings software typically uses."""
    raw = secret.encode()
    forms = {
        raw,
        quote(secret, safe="").encode(),
        quote_plus(secret).encode(),
        quote(secret).encode(),
        json.dumps(secret)[1:-1].encode(),
        json.dumps(secret, ensure_ascii=False)[1:-1].encode(),
        repr(secret)[1:-1].encode(),
        base64.b64encode(raw),
        base64.b64encode(f"\0{USER}\0{secret}".encode()),  # AUTH PLAIN
    }
    for k in range(3):  # base64 of the secret inside a larger blob, at each alignment
        enc = base64.b64encode(b"\0" * k + raw).rstrip(b"=")
        forms.add(enc[4 if k else 0 : -4])
    return {f for f in forms if len(f) >= 8}


def scan(paths: list[Path], secret: str) -> list[str]:
    hits = []
    wanted = needles(secret)
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for f in files:
            data = f.read_bytes()
            hits += [f"{f}: {n!r}" for n in wanted if n in data]
    return hits


@pytest.fixture
def debug_log(isolated_user_dirs):
    """Send every log record of the run (DEBUG and up) to a file in the state (log) folder."""
    log_dir = isolated_user_dirs / "xdg_state_home" / "mailsetup" / "log"
    log_dir.mkdir(parents=True)
    handler = logging.FileHandler(log_dir / "run.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield log_dir / "run.log"
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def test_password_appears_nowhere(
    secret_service, smtp_server, isolated_user_dirs, debug_log, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MS_CANARY", CANARY)
    server = smtp_server("starttls", username=USER, password=CANARY)
    outputs: list[str] = []

    def cli(*argv: str) -> int:
        code = main(list(argv))
        out, err = capsys.readouterr()
        outputs.append(out + err)
        return code

    assert cli("profiles", "add", "leaky", *conn_args(server, password_env="MS_CANARY"), "-vv", "--from", USER) == 0, (
        outputs[-1]
    )
    assert cli("profiles", "check", "leaky", "-vv") == 0, outputs[-1]
    assert cli("profiles", "check", "leaky", "--json") == 0
    assert cli("profiles", "show", "leaky") == 0 and cli("profiles", "list", "--json") == 0
    # a profile whose proxy URL carries a password (saved without a check: no proxy runs here)
    assert (
        cli(
            "profiles",
            "add",
            "proxied",
            "--host",
            "127.0.0.1",
            "--port",
            "2525",
            "--security",
            "starttls",
            "--proxy",
            f"socks5://bob:{PROXY_CANARY}@127.0.0.1:1080",
            "--no-check",
        )
        == 0
    ), outputs[-1]
    exports = tmp_path / "exports"
    exports.mkdir()
    for fmt in EXPORT_FORMATS:
        assert cli("profiles", "export", "leaky", "--format", fmt, "--output", str(exports / f"out.{fmt}")) == 0
        assert cli("profiles", "export", "leaky", "--format", fmt) == 0

    # the secrets really are stored (so the scan below is meaningful) ...
    from app.core.store.secrets import PROXY_SERVICE, SecretStore

    assert SecretStore().get("leaky") == CANARY
    assert SecretStore().get("proxied", service=PROXY_SERVICE) == PROXY_CANARY
    assert debug_log.stat().st_size > 0 and len(list(exports.iterdir())) == len(EXPORT_FORMATS)
    # ... and the scanner finds them when present (self-test of the needles)
    canary_file = tmp_path / "canary.bin"
    canary_file.write_bytes(base64.b64encode(f"\0{USER}\0{CANARY}".encode()))
    assert scan([canary_file], CANARY)

    dirs = [isolated_user_dirs / d for d in ("xdg_config_home", "xdg_data_home", "xdg_cache_home", "xdg_state_home")]
    for secret in (CANARY, PROXY_CANARY):
        assert scan(dirs + [exports], secret) == []
        assert not any(n in "\n".join(outputs).encode() for n in needles(secret))
