"""JUnit XML for a fleet run (one testcase per profile), so a CI job or a monitoring cron can read it.

Built with xml.etree (which escapes markup); characters XML 1.0 cannot carry at all (C0 controls,
lone surrogates, U+FFFE/FFFF) are shown as \\uXXXX, so a hostile profile name still gives a valid file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from app.core.fleet.runner import FleetResult, FleetSummary
from app.core.store import atomic_write

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def render_junit(results: Iterable[FleetResult], summary: FleetSummary, *, suite: str = "mailsetup profiles") -> str:
    """The JUnit XML document (str) for ``results``, in the order given."""
    results = list(results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(summary.failed))
    ts = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(summary.failed),
        errors="0",
        time=f"{summary.elapsed_ms / 1000:.3f}",
    )
    for r in results:
        case = ET.SubElement(
            ts, "testcase", classname="mailsetup.profiles", name=_xml_safe(r.profile), time=f"{r.elapsed_ms / 1000:.3f}"
        )
        if not r.ok:
            title, fixes = r.render()
            failure = ET.SubElement(case, "failure", message=_xml_safe(title), type=_xml_safe(r.code or "failed"))
            failure.text = _xml_safe("\n".join([title, *fixes]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str | Path, results: Iterable[FleetResult], summary: FleetSummary) -> Path:
    """Write the JUnit XML atomically (the one atomic_write; mode 0644: a report, no secret in it)."""
    return atomic_write(path, render_junit(results, summary), mode=0o644)
