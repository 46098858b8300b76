"""Regenerate resources/ispdb/snapshot.json from Mozilla's ISPDB (the ``thunderbird/autoconfig`` repository)
and, for providers ISPDB does not list by domain, Delta Chat's provider database (``deltachat/provider-db``).

    git clone https://github.com/thunderbird/autoconfig /tmp/autoconfig
    git clone https://github.com/deltachat/provider-db /tmp/provider-db
    python tools/ispdb_snapshot.py /tmp/autoconfig --deltachat /tmp/provider-db [--out resources/ispdb/snapshot.json]

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

# Delta Chat provider-db files (``_providers/<name>.md``) whose domain lists the catalogue uses.
DELTACHAT_FILES = ("fastmail", "rambler.ru", "web.de")

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


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def read_deltachat(markdown: str) -> dict[str, object]:
    """The ``domains:`` list of a provider-db file's YAML front matter (a plain list of names)."""
    front = markdown.split("---", 2)[1] if markdown.startswith("---") else ""
    domains: list[str] = []
    in_list = False
    for line in front.splitlines():
        if line.startswith("domains:"):
            in_list = True
            continue
        if in_list and line.strip().startswith("#"):
            continue
        if in_list and line.lstrip().startswith("- "):
            domains.append(line.strip()[2:].strip().lower())
        elif in_list and line.strip():
            break
    return {"domains": domains}


def build_deltachat(repo: Path) -> dict[str, object]:
    commit = _git(repo, "log", "-1", "--format=%H %cI").split()
    files = {name: read_deltachat(_git(repo, "show", f"HEAD:_providers/{name}.md")) for name in DELTACHAT_FILES}
    return {
        "source": "https://github.com/deltachat/provider-db (_providers/*.md)",
        "commit": commit[0],
        "commit_date": commit[1],
        "files": files,
    }


def build(repo: Path) -> dict[str, object]:
    commit = _git(repo, "log", "-1", "--format=%H %cI").split()
    files = {}
    for name in FILES:
        files[name] = read_file(_git(repo, "show", f"HEAD:ispdb/{name}.xml"))
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
    parser.add_argument("--deltachat", type=Path, help="a clone (or bare mirror) of deltachat/provider-db")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    data = build(args.repo)
    if args.deltachat:
        data["deltachat"] = build_deltachat(args.deltachat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum(len(f["domains"]) for f in data["files"].values())  # type: ignore[attr-defined]
    print(f"{args.out}: {len(FILES)} ISPDB files, {total} domains, commit {data['commit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
