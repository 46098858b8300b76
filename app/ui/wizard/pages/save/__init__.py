"""Step 6: save the profile and export snippets (page.py; the off-thread jobs and export text in jobs.py)."""

from app.ui.wizard.pages.save.page import SavePage

__all__ = ["SavePage"]
