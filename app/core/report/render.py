"""The two renderers of a Report: one self-contained HTML page and its plain-text twin.

The HTML page has inline CSS only: no script, no external asset, no link that loads anything (a
Content-Security-Policy forbids it besides), readable offline and printable (``@media print``).
Every value is escaped with ``html.escape``: a server reply holding ``<script>`` or ``</html>`` is
shown as text. The plain text is the same report for a ticket or an e-mail body.
"""

from __future__ import annotations

import html
import textwrap

from app.core.report.model import Report, Section

REPORT_FORMATS = ("html", "text")
_MARKS = {"ok": "OK", "failed": "FAILED", "warn": "WARNING", "skipped": "skipped"}

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #1d1d1f; background: #f4f5f7;
       margin: 0; padding: 24px; }
main { max-width: 960px; margin: 0 auto; }
header { background: #fff; border-radius: 8px; padding: 18px 22px; border-left: 8px solid #888; margin-bottom: 16px; }
header.ok { border-left-color: #1a7f37; } header.failed { border-left-color: #c62828; }
h1 { font-size: 20px; margin: 0 0 6px; overflow-wrap: anywhere; }
.headline { font-size: 17px; font-weight: 600; overflow-wrap: anywhere; white-space: pre-wrap; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 10px; font-weight: 700; font-size: 13px;
         color: #fff; background: #666; margin-right: 8px; }
.badge.ok { background: #1a7f37; } .badge.failed { background: #c62828; } .badge.warn { background: #b26a00; }
section { background: #fff; border-radius: 8px; padding: 14px 22px; margin-bottom: 14px; border-top: 4px solid #ddd; }
section.ok { border-top-color: #1a7f37; } section.failed { border-top-color: #c62828; }
section.warn { border-top-color: #b26a00; }
h2 { font-size: 16px; margin: 0 0 10px; overflow-wrap: anywhere; }
h3 { font-size: 14px; margin: 12px 0 6px; }
p { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; table-layout: auto; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #eceef1;
         overflow-wrap: anywhere; word-break: break-word; white-space: pre-wrap; }
table.kv th { width: 28%; color: #555; font-weight: 600; }
table.grid th { background: #f0f2f5; }
tr.ok td:first-child { border-left: 4px solid #1a7f37; } tr.failed td:first-child { border-left: 4px solid #c62828; }
tr.warn td:first-child { border-left: 4px solid #b26a00; } tr.skipped td { color: #777; }
ul { margin: 0 0 8px; padding-left: 22px; } li { overflow-wrap: anywhere; white-space: pre-wrap; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 6px; padding: 8px 10px; margin: 0;
      font: 12px/1.4 "DejaVu Sans Mono", Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { color: #666; font-size: 12px; text-align: center; margin-top: 8px; }
@media print {
  body { background: #fff; padding: 0; font-size: 11pt; }
  header, section { border: 1px solid #bbb; break-inside: avoid-page; margin-bottom: 8pt; }
  section#transcript, section#log { break-inside: auto; }
  pre { border: none; background: #fff; }
  .badge { border: 1px solid #000; color: #000; background: #fff; }
}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _status_class(status: str) -> str:
    return status if status in _MARKS else ""


def _html_section(s: Section) -> list[str]:
    cls = _status_class(s.status)
    out = [f'<section id="{_e(s.key)}" class="{cls}">', f"<h2>{_e(s.title)}</h2>"]
    if s.text:
        out.append(f"<p>{_e(s.text)}</p>")
    if s.rows:
        out.append('<table class="kv">')
        out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in s.rows]
        out.append("</table>")
    if s.table:
        header, *rows = s.table
        out.append('<table class="grid"><tr>' + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
        for i, row in enumerate(rows):
            st = _status_class(s.table_status[i]) if i < len(s.table_status) else ""
            out.append(f'<tr class="{st}">' + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>")
        out.append("</table>")
    if s.lines:
        if s.lines_title:
            out.append(f"<h3>{_e(s.lines_title)}</h3>")
        out.append("<pre>" + "\n".join(_e(ln) for ln in s.lines) + "</pre>")
    if s.items:
        if s.items_title:
            out.append(f"<h3>{_e(s.items_title)}</h3>")
        tag = "ol" if s.items_title else "ul"
        out.append(f"<{tag}>" + "".join(f"<li>{_e(i)}</li>" for i in s.items) + f"</{tag}>")
    out.append("</section>")
    return out


def render_html(report: Report) -> str:
    """One self-contained HTML page (inline CSS, no scripts, no external assets)."""
    state = "ok" if report.ok else "failed"
    badge = "WORKS" if report.ok else "FAILED"
    body = [
        f'<header class="{state}">',
        f"<h1>{_e(report.title)}</h1>",
        f'<div class="headline"><span class="badge {state}">{badge}</span>{_e(report.headline)}</div>',
        "</header>",
    ]
    for s in report.sections:
        body += _html_section(s)
    masked = " E-mail addresses are masked." if report.masked_addresses else ""
    body.append(f"<footer>Created by MailSetup on {_e(report.created)}.{_e(masked)}</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body><main>\n"
        + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def _text_section(s: Section) -> list[str]:
    mark = f" [{_MARKS[s.status]}]" if s.status in _MARKS else ""
    out = ["", f"== {s.title}{mark}"]
    if s.text:
        out += [textwrap.indent(s.text, "  ")]
    if s.rows:
        width = min(max(len(k) for k, _ in s.rows) + 1, 32)
        for k, v in s.rows:
            lines = v.split("\n") or [""]
            out.append(f"  {k + ':':<{width}} {lines[0]}")
            out += [f"  {'':<{width}} {ln}" for ln in lines[1:]]
    if s.table:
        header, *rows = s.table
        out.append("  " + " | ".join(header))
        out += ["  - " + " | ".join(v.replace("\n", " / ") for v in row) for row in rows]
    if s.lines:
        if s.lines_title:
            out.append(f"  {s.lines_title}:")
        out += [f"    {ln}" for ln in s.lines]
    if s.items:
        if s.items_title:
            out.append(f"  {s.items_title}:")
        numbered = bool(s.items_title)
        out += [f"    {n}. {i}" if numbered else f"    - {i}" for n, i in enumerate(s.items, 1)]
    return out


def render_text(report: Report) -> str:
    """The plain-text twin of the HTML page."""
    state = "WORKS" if report.ok else "FAILED"
    out = [report.title, "=" * min(len(report.title), 78), f"{state}: {report.headline}"]
    for s in report.sections:
        out += _text_section(s)
    if report.masked_addresses:
        out += ["", "E-mail addresses are masked."]
    return "\n".join(out) + "\n"


def render_report(report: Report, fmt: str) -> str:
    """``fmt``: "html" or "text" (ValueError otherwise)."""
    if fmt == "html":
        return render_html(report)
    if fmt == "text":
        return render_text(report)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")


__all__ = ["REPORT_FORMATS", "render_html", "render_report", "render_text"]
