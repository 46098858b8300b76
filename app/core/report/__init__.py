"""Shareable diagnostic reports: a Report built from a check's Verdict (and what ran beside it), rendered as
one self-contained HTML page or plain text. No secret is ever given to it (redaction by construction)."""

from __future__ import annotations

from app.core.report.build import build_report, default_app_version, default_os
from app.core.report.model import NEVER_INCLUDED, Report, Section
from app.core.report.output import ReportTargetError, check_report_target, write_report
from app.core.report.recorder import ReportRecorder, StageRecord, TranscriptRecord, merge_recorders
from app.core.report.redact import Cleaner, mask_transcript, proxy_display
from app.core.report.render import REPORT_FORMATS, render_html, render_report, render_text

__all__ = [
    "NEVER_INCLUDED",
    "REPORT_FORMATS",
    "Cleaner",
    "Report",
    "ReportRecorder",
    "ReportTargetError",
    "Section",
    "StageRecord",
    "TranscriptRecord",
    "build_report",
    "check_report_target",
    "default_app_version",
    "default_os",
    "mask_transcript",
    "merge_recorders",
    "proxy_display",
    "render_html",
    "render_report",
    "render_text",
    "write_report",
]
