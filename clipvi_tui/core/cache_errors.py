"""Why the cache cannot be used, as one-line errors, and the file checks behind them.

LMDB's own errors say little a user can act on ("MDB_INVALID", "Input/output error"); these name
the cache folder or file and what to do: start over when the file is damaged, free space when the
disk is full.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import lmdb


class CacheError(Exception):
    """The cache directory cannot be opened or written."""


class CacheDamaged(CacheError):
    """The LMDB file itself is damaged (not just one value): it must be moved away."""


class CacheFull(CacheError):
    """A write failed because the disk under the cache is full."""


# LMDB errors that mean the file's structure is broken, not that one operation failed.
DAMAGE_ERRORS: tuple[type[lmdb.Error], ...] = (
    lmdb.CorruptedError,
    lmdb.PageNotFoundError,
    lmdb.PanicError,
    lmdb.InvalidError,
    lmdb.VersionMismatchError,
    lmdb.BadValsizeError,
)
# Below this much free space a failed write is reported as "disk full": LMDB reports a short
# write as EIO ("Input/output error"), not ENOSPC, so the errno alone cannot tell.
DISK_FULL_BELOW = 16 << 20
CACHE_DIR_MODE = 0o700
CACHE_FILE_MODE = 0o600


def damaged_message(directory: Path, exc: BaseException | str) -> str:
    """One line naming the damaged cache file and how to start over."""
    reason = " ".join(str(exc).replace(f"{directory}: ", "").split())
    return (
        f"the cache file {directory / 'data.mdb'} is damaged ({reason}); move it away or delete "
        f"the folder {directory} to start an empty cache (videos are not touched)"
    )


def disk_full(directory: Path, exc: BaseException) -> bool:
    """True when a failed write looks like a full disk (by message, or little space left)."""
    text = str(exc).lower()
    if "no space" in text or "quota" in text or "file too large" in text:
        return True
    try:
        return shutil.disk_usage(directory).free < DISK_FULL_BELOW
    except OSError:
        return False


def restrict(directory: Path) -> None:
    """Make the folder 0700 and its LMDB files 0600 (also folders made by older versions)."""
    with contextlib.suppress(OSError):
        if directory.stat().st_uid == os.getuid():
            os.chmod(directory, CACHE_DIR_MODE)
            for name in ("data.mdb", "lock.mdb"):
                f = directory / name
                if f.exists():
                    os.chmod(f, CACHE_FILE_MODE)


def check_length(env: lmdb.Environment, directory: Path) -> None:
    """Refuse a ``data.mdb`` shorter than its own last page (a cut-off copy or write).

    LMDB maps the file into memory; reading a page past its end would kill the process with
    SIGBUS instead of raising an error.

    Raises:
        CacheDamaged: naming the file (``env`` is closed first).
    """
    data = directory / "data.mdb"
    needed = (int(env.info()["last_pgno"]) + 1) * int(env.stat()["psize"])
    size = data.stat().st_size if data.exists() else 0
    if size < needed:
        env.close()
        raise CacheDamaged(
            damaged_message(directory, f"it is cut off: {size} bytes, its pages need {needed}")
        )
