"""Screenshots of the screens a test drives, for people to look at.

Saved only when ``CRM_TEST_SHOTS`` names a folder (for example
``CRM_TEST_SHOTS=shots pytest tests/ui``); otherwise a test writes no file.
"""

from __future__ import annotations

import os
from pathlib import Path


def save_shot(widget, group: str, name: str) -> Path | None:
    folder = os.environ.get("CRM_TEST_SHOTS")
    if not folder:
        return None
    target = Path(folder) / group
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    widget.grab().save(str(path))
    return path
