"""Write a file completely or not at all.

The data goes to a temporary file in the destination folder, is flushed and
fsynced, then renamed over the destination (atomic on POSIX and Windows).
A failure or a cancel removes the temporary file and leaves any previous
file untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import CrmError


class FileWriteError(CrmError):
    pass


def describe_os_error(exc: OSError, path: Path) -> str:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full: {path.name} was not written. Free some space and try again."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Cannot write {path}: permission denied (or the disk is read-only)."
    if exc.errno == errno.ENOENT:
        return f"Cannot write {path}: the folder does not exist."
    if exc.errno == errno.EISDIR:
        return f"Cannot write {path}: it is a folder."
    return f"Cannot write {path}: {exc.strerror or exc}."


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``."""
    dest = Path(path)
    if dest.is_dir():
        raise FileWriteError(f"Cannot write {dest}: it is a folder.")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise FileWriteError(describe_os_error(exc, dest)) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, mode)
        yield tmp
        with open(tmp, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(dest.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileWriteError(describe_os_error(exc, dest)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
