"""Run CRM Desktop from a source checkout (same as the ``crm-desktop`` command)."""

import sys

from crm_desktop.ui.shell.app import main

if __name__ == "__main__":
    sys.exit(main())
