"""MailSetup: set up and verify an SMTP mailbox, with a Qt wizard and a headless command line."""

__version__ = "0.1.0"
