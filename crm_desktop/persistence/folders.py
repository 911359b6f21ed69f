"""Folders the app creates hold personal data: owner-only (0700), whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FOLDER_MODE = 0o700


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each readable by its owner only.

    Folders that already exist are left as they are (a person's own
    Documents folder is theirs to set). A folder made here is set to 0700
    explicitly, since the mode given to mkdir is narrowed by the umask and
    pathlib makes missing parents with the umask's default. Raises OSError.
    """
    missing: list[Path] = []
    current = Path(folder)
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, PRIVATE_FOLDER_MODE)
        except FileExistsError:
            if not path.is_dir():
                raise
            continue  # made meanwhile by someone else: theirs to set
        if os.name == "posix":
            os.chmod(path, PRIVATE_FOLDER_MODE)
