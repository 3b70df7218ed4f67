"""Small disk operations the emulator's storage relies on for crash safety.

Flushing a file or a folder to disk, linking a file (or copying it where links are not
supported), removing an entry whatever it is, and telling a full disk from other errors.
Every function blocks; call them from worker threads.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

#: the errors a full disk (or an exhausted quota) raises
FULL_DISK_ERRNOS = frozenset(
    code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None
)
#: what a 507 answer says
DISK_FULL_MESSAGE = (
    "the emulator's disk is full (no space left on device): nothing was stored; "
    "free some space in its data folder and retry"
)
_NO_LINKS = frozenset(
    code
    for code in (
        errno.EXDEV,
        errno.EPERM,
        errno.EMLINK,
        getattr(errno, "ENOTSUP", None),
        getattr(errno, "EOPNOTSUPP", None),
    )
    if code is not None
)


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` says the disk (or the quota) is full."""
    return isinstance(err, OSError) and err.errno in FULL_DISK_ERRNOS


def disk_full_from_sqlite(err: sqlite3.Error) -> OSError | None:
    """An ``OSError(ENOSPC)`` for SQLite's "database or disk is full", else ``None``."""
    code = getattr(err, "sqlite_errorcode", None)  # Python 3.11+
    if code == getattr(sqlite3, "SQLITE_FULL", 13) or (code is None and "is full" in str(err)):
        return OSError(errno.ENOSPC, "no space left on device (the database is full)")
    return None


def fsync_file(path: Path) -> None:
    """Flush a closed file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (renames, new names) to disk, where the OS allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # folders cannot be opened on some systems (Windows)
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.EBADF):  # not supported for folders here
            raise
    finally:
        os.close(fd)


def link_or_copy(source: Path, target: Path) -> None:
    """Give ``source``'s bytes a second name ``target`` (a hard link, else a flushed copy)."""
    try:
        os.link(source, target)
    except OSError as err:
        if err.errno not in _NO_LINKS:
            raise
        shutil.copyfile(source, target)
        fsync_file(target)


def remove(path: Path) -> None:
    """Remove a file or a folder tree; nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
