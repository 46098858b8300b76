"""Regenerate resources/ispdb/snapshot.json from Mozilla's ISPDB (the ``thunderbird/autoconfig`` repository).

    git clone https://github.com/thunderbird/autoconfig /tmp/autoconfig
    python tools/ispdb_snapshot.py /tmp/autoconfig [--out resources/ispdb/snapshot.json]

Only the facts the catalogue uses are kept, per ISPDB file: the mail domains, the names that ISPDB lists as
MX hosts (Thunderbird's MX-based lookup), and the outgoing (SMTP) servers. A provider TOML file names the
ISPDB files it covers (``ispdb = ["hotmail.com", ...]``); the loader adds their domains to the provider and
a test checks that the provider's SMTP hosts include ISPDB's. The snapshot is dated and names the commit, so
a refresh is one command and a reviewable diff.

The XML is read with the standard library's ElementTree on files from a repository we cloned ourselves
(trusted input, no network); the app itself never parses ISPDB XML with this script.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "resources" / "ispdb" / "snapshot.json"

# The ISPDB files whose facts the catalogue uses (file name without ".xml").
FILES = (
    "hotmail.com", "office365.com", "googlemail.com", "yahoo.com", "aol.com", "yandex.ru", "mail.ru",
    "gmx.net", "gmx.com", "web.de", "me.com", "zoho.com", "zoho.eu", "zoho.in", "zoho.jp",
    "zoho.com.au", "zohocloud.ca", "rambler.ru", "t-online.de", "messagingengine.com",
)  # fmt: skip

# ISPDB lists some MX host names among <domain> so that Thunderbird's MX lookup finds the provider;
# they are not mail domains. A name is treated as an MX host when it ends with one of these.
MX_SUFFIXES = ("yahoodns.net", "protection.outlook.com", "mx.microsoft", "messagingengine.com")


def _is_mx_name(name: str) -> bool:
    return any(name == s or name.endswith("." + s) for s in MX_SUFFIXES)


def read_file(xml_text: str) -> dict[str, object]:
    root = ET.fromstring(xml_text)
    provider = root.find("emailProvider")
    if provider is None:
        raise ValueError("no <emailProvider>")
    names = [(d.text or "").strip().lower() for d in provider.findall("domain")]
    smtp = []
    for server in provider.findall("outgoingServer"):
        if server.get("type") != "smtp":
            continue
        smtp.append(
            {
                "host": (server.findtext("hostname") or "").strip().lower(),
                "port": int(server.findtext("port") or 0),
                "socket": (server.findtext("socketType") or "").strip(),
                "auth": [(a.text or "").strip() for a in server.findall("authentication")],
                "username": (server.findtext("username") or "").strip(),
            }
        )
    return {
        "id": provider.get("id", ""),
        "domains": [n for n in names if n and not _is_mx_name(n)],
        "mx_names": [n for n in names if n and _is_mx_name(n)],
        "smtp": smtp,
    }


def build(repo: Path) -> dict[str, object]:
    commit = subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%H %cI"], capture_output=True, text=True, check=True
    ).stdout.split()
    files = {}
    for name in FILES:
        text = subprocess.run(
            ["git", "-C", str(repo), "show", f"HEAD:ispdb/{name}.xml"], capture_output=True, text=True, check=True
        ).stdout
        files[name] = read_file(text)
    return {
        "source": "https://github.com/thunderbird/autoconfig (ispdb/*.xml)",
        "license": "MPL-2.0 (ISPDB data)",
        "commit": commit[0],
        "commit_date": commit[1],
        "generated": datetime.now(timezone.utc).date().isoformat(),
        "files": files,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="a clone (or bare mirror) of thunderbird/autoconfig")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    data = build(args.repo)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum(len(f["domains"]) for f in data["files"].values())  # type: ignore[attr-defined]
    print(f"{args.out}: {len(FILES)} ISPDB files, {total} domains, commit {data['commit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
