"""Command line of MailSetup (headless, same engine as the wizard)."""
