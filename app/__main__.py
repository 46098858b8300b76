"""``python -m app`` runs the same entry point as the ``mailsetup`` command."""

import sys

from app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
