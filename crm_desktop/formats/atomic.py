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


class FileExistsRefused(FileWriteError):
    """The file is there already and replacing it was not asked for.

    ``path`` is the file that was left untouched.
    """

    def __init__(self, path: Path):
        super().__init__(
            f"{path.name} already exists in {path.parent}; it was left as it is. "
            "Choose another name (an export replaces a file only when asked to)."
        )
        self.path = path


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
def atomic_output(
    path: str | os.PathLike, *, mode: int = 0o600, replace: bool = True
) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``path``.

    With ``replace=False`` an existing ``path`` is never replaced: it is
    refused before anything is written (:class:`FileExistsRefused`), and the
    final rename refuses too if a file of that name appeared meanwhile. The
    caller may put the file in place itself, earlier, with
    :func:`publish_new` (say, inside a transaction that must not commit
    unless the file is there); the end of the block then only tidies up.
    """
    dest = Path(path)
    if dest.is_dir():
        raise FileWriteError(f"Cannot write {dest}: it is a folder.")
    if not replace and os.path.lexists(dest):
        raise FileExistsRefused(dest)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise FileWriteError(describe_os_error(exc, dest)) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, mode)
        yield tmp
        if _published(tmp, dest):
            tmp.unlink(missing_ok=True)  # publish_new linked it: drop the spare name
            return
        _fsync(tmp)
        if replace:
            os.replace(tmp, dest)
        else:
            try:
                _rename_no_replace(tmp, dest)
            except FileExistsError:
                raise FileExistsRefused(dest) from None
        _fsync_folder(dest.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileWriteError(describe_os_error(exc, dest)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def publish_new(tmp: Path, dest: Path) -> None:
    """Put the finished ``tmp`` in place at ``dest``, never replacing a file.

    Raises :class:`FileExistsRefused` if ``dest`` exists (even one that
    appeared a moment ago). Use inside :func:`atomic_output` (with
    ``replace=False``); undo with ``dest.unlink()`` if what depends on the
    file fails.
    """
    _fsync(tmp)
    try:
        _rename_no_replace(tmp, dest, keep=True)
    except FileExistsError:
        raise FileExistsRefused(dest) from None
    except OSError as exc:
        raise FileWriteError(describe_os_error(exc, dest)) from exc
    _fsync_folder(dest.parent)


def _published(tmp: Path, dest: Path) -> bool:
    if not os.path.lexists(tmp):
        return os.path.lexists(dest)  # moved there (no hard links on this disk)
    try:
        return os.path.samefile(tmp, dest)
    except OSError:
        return False


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # make a rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _rename_no_replace(tmp: Path, dest: Path, *, keep: bool = False) -> None:
    """Move ``tmp`` to ``dest``, failing with FileExistsError if ``dest`` exists.

    A hard link cannot replace a file, so link-then-unlink is a rename that
    never clobbers (POSIX). Where links are not supported (some network or
    FAT disks) fall back to a checked rename; on Windows ``os.rename``
    itself refuses an existing destination.
    """
    if os.name == "nt":
        os.rename(tmp, dest)
        return
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(dest):
            raise FileExistsError(dest) from None
        os.rename(tmp, dest)
        return
    if not keep:
        tmp.unlink()


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
