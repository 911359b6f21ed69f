"""``python -m crm_desktop.cli``: the same as the ``crm`` command."""

from __future__ import annotations

import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())
