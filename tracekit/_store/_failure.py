"""What went wrong with the local store, in words: one line naming the file and the
real cause (disk full, not a database, a directory, not writable, locked by another
process), for the app's log. The traceback only with ``TRACEKIT_DEBUG``."""

from __future__ import annotations

import errno
import os
from pathlib import Path


def cause(exc: BaseException, path: Path) -> str:
    """A short reason for ``exc`` raised while writing the store at ``path``.

    >>> cause(OSError(errno.ENOSPC, "No space left on device"), Path("/x/t.db"))
    'disk full'
    """
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "disk is full" in text or "disk full" in text:
        return "disk full"
    if code == errno.EDQUOT:
        return "disk quota exceeded"
    if code == errno.EFBIG or "file too large" in text:
        return "file size limit reached"
    if code == errno.ENOTDIR or any(p.exists() and not p.is_dir() for p in path.parents):
        return "a parent of the path is a file, not a directory"
    if path.is_dir():
        return "it is a directory, not a store file"
    if "not a database" in text or "malformed" in text:
        return "not a tracekit store (the file is not a SQLite database, or is corrupt)"
    if "locked" in text or "busy" in text:
        return "locked by another process"
    if _read_only(path):
        return "not writable (read-only file system)"
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM) or "readonly" in text or "unable to open" in text:
        return "not writable (permission denied)"
    if "disk i/o error" in text:
        # sqlite says no more than this: look at the disk and the process's file size limit
        if _nearly_full(path):
            return "disk full"
        if _size_limited():
            return "file size limit reached"
        return "disk I/O error"
    return f"{type(exc).__name__}: {exc}"


def _existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(_existing(path)).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _nearly_full(path: Path) -> bool:
    try:
        stats = os.statvfs(_existing(path))
    except (OSError, AttributeError):
        return False
    return stats.f_bavail * stats.f_frsize < 256 * 1024


def _size_limited() -> bool:
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (ImportError, OSError, ValueError):
        return False
    return bool(soft != resource.RLIM_INFINITY)
