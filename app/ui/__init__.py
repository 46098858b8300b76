"""Qt user interface of MailSetup (the wizard)."""

from app.ui.pyside_hook import quicken_feature_hook

quicken_feature_hook()  # PySide6 already imported (tests, embedding): from here on; else run_wizard installs it
