"""Qt-free engine of MailSetup. Nothing under app.core may import PySide6."""
