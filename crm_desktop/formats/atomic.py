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
import re
import secrets
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


# ------------------------------------------------- recorded temporary files
#
# A file whose existence must be on record (an export, a backup) is written
# to a temporary name chosen *before* the file exists, so that the name can
# be committed first: nothing of ours is ever on disk without its record.
# The writer holds a lock on the temporary file while it works (released by
# the system when the process dies, even by kill -9), so that a later start
# can tell a killed run's leftover from one still being written.


def part_path_for(dest: str | os.PathLike) -> Path:
    """A new hidden temporary name beside ``dest`` (not created): ``.NAME.RANDOM.part``."""
    dest = Path(dest)
    return dest.parent / f".{dest.name}.{secrets.token_hex(8)}.part"


def is_part_of(part: str | os.PathLike, dest: str | os.PathLike) -> bool:
    """True if ``part`` is named as :func:`part_path_for` (or this module) names ``dest``'s.

    A check before deleting a recorded name: only a file of that shape, in
    ``dest``'s folder, is ever taken for one of ours.
    """
    part, dest = Path(part), Path(dest)
    return part.parent == dest.parent and bool(
        re.fullmatch(rf"\.{re.escape(dest.name)}\.[A-Za-z0-9_]+\.part", part.name)
    )


def create_part(part: Path, *, mode: int = 0o600) -> int:
    """Create ``part`` (it must not exist) owner-only and lock it; returns the open fd.

    Keep the fd open while the file is being written and until it has been
    renamed into place (or deleted), then ``os.close`` it.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(part, flags, mode)
    except OSError as exc:
        raise FileWriteError(describe_os_error(exc, part)) from exc
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # whatever the umask
        else:
            os.chmod(part, mode)
        _lock(fd)
    except OSError as exc:
        os.close(fd)
        part.unlink(missing_ok=True)
        raise FileWriteError(describe_os_error(exc, part)) from exc
    return fd


def part_in_use(part: str | os.PathLike) -> bool:
    """True while a running program holds ``part`` (made by :func:`create_part`)."""
    try:
        fd = os.open(part, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot even look at it: leave it alone
    try:
        _lock(fd)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the lock we may just have taken
    return False


def _lock(fd: int) -> None:
    """An exclusive lock on ``fd``'s file, never waiting (OSError if someone holds it)."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def publish(part: Path, dest: Path, *, replace: bool) -> None:
    """Rename the finished ``part`` into place at ``dest``, durably.

    Without ``replace`` an existing ``dest`` is refused
    (:class:`FileExistsRefused`), even one that appeared a moment ago.
    """
    try:
        _fsync(part)
        if replace:
            os.replace(part, dest)
        else:
            try:
                _rename_no_replace(part, dest)
            except FileExistsError:
                raise FileExistsRefused(dest) from None
    except OSError as exc:
        raise FileWriteError(describe_os_error(exc, dest)) from exc
    _fsync_folder(dest.parent)


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
