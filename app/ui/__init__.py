"""Qt user interface of MailSetup (the wizard)."""
