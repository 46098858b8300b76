"""Server text in the GUI is plain text: an HTML reply shows as its characters, never as markup or a link."""

from __future__ import annotations

from app.core.diagnosis import classify as rc
from app.core.model import Reply, Security, SmtpSettings

HTML = "<b style='color:green'>Connection OK</b> <a href='http://evil.test'>click</a>"


def test_diagnosis_panel_shows_a_html_reply_as_plain_text(qtbot):
    from PySide6.QtCore import Qt

    from app.ui.widgets.diagnosis_panel import DiagnosisPanel

    panel = DiagnosisPanel()
    qtbot.addWidget(panel)
    settings = SmtpSettings(host="127.0.0.1", port=2525, security=Security.NONE)
    panel.show_diagnosis(rc.greeting_refused(settings, Reply(554, (HTML,))))
    for label in (panel.title, panel.explanation, panel.reply):
        assert label.textFormat() == Qt.TextFormat.PlainText
    assert HTML in panel.reply.text()
    assert panel.reply.openExternalLinks() is False


def test_log_view_keeps_html_as_text(qtbot):
    from app.core.model import TranscriptLine
    from app.ui.widgets.log_view import LogView

    view = LogView()
    qtbot.addWidget(view)
    view.level.setCurrentIndex(2)
    view.add_event(TranscriptLine("S", f"554 {HTML}"))
    assert view.text.toPlainText() == f"S: 554 {HTML}"
