"""The LMDB environment under the cache: opening it, and transactions that survive map growth.

:class:`LmdbStore` creates the folder (0700, files 0600: prompts are in plain text in it), opens
the named databases and turns LMDB's failures into the one-line errors of
:mod:`clipvi_tui.core.cache_errors`. Its transactions double the map when it is full and adopt a
map that another process grew, so callers never see either.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import lmdb

from clipvi_tui.core.cache_errors import (
    CACHE_DIR_MODE,
    CACHE_FILE_MODE,
    DAMAGE_ERRORS,
    CacheDamaged,
    CacheError,
    CacheFull,
    check_length,
    damaged_message,
    disk_full,
    restrict,
)

T = TypeVar("T")

# Start small so a fresh cache is small on disk listings; the map doubles on demand.
INITIAL_MAP_SIZE = 64 << 20


class LmdbStore:
    """One LMDB environment and its named databases, safe to share between threads.

    Attributes:
        directory: the cache folder.
        env: the LMDB environment.
        dbs: the named databases' handles, by name.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        names: Sequence[str],
        map_size: int = INITIAL_MAP_SIZE,
    ) -> None:
        """Open (creating if needed) the environment in ``directory`` with databases ``names``.

        Raises:
            CacheError: if the directory cannot be created or is not an LMDB cache.
        """
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise CacheError(
                f"cannot open cache at {self.directory}: it is a file, not a folder "
                "(choose a folder with --cache-dir or cache_dir:)"
            )
        try:
            self.directory.mkdir(mode=CACHE_DIR_MODE, parents=True, exist_ok=True)
            restrict(self.directory)
            self.env = lmdb.open(
                str(self.directory),
                map_size=map_size,
                max_dbs=8,  # frames, texts, models, frame_index, thumbnails (+ room)
                # Several reader threads (UI, indexer, exporter) each hold short transactions.
                max_readers=256,
                mode=CACHE_FILE_MODE,
            )
            check_length(self.env, self.directory)
            self.dbs: dict[str, Any] = {name: self.env.open_db(name.encode()) for name in names}
        except DAMAGE_ERRORS as exc:
            raise CacheDamaged(damaged_message(self.directory, exc)) from exc
        except (OSError, lmdb.Error) as exc:
            reason = " ".join(str(getattr(exc, "strerror", None) or exc).split())
            raise CacheError(f"cannot open cache at {self.directory}: {reason}") from exc
        restrict(self.directory)
        # Serialises resizes against this process's own transactions (LMDB requires that no
        # transaction is open in the process while the map size changes).
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the environment; the object is unusable afterwards."""
        with self._lock:
            self.env.close()

    @property
    def map_size(self) -> int:
        """Current size of the memory map in bytes."""
        return int(self.env.info()["map_size"])

    def read(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        """Run ``fn`` in a read transaction, adopting a map that another process grew."""
        for _ in range(3):
            try:
                with self.env.begin(write=False) as txn:
                    return fn(txn)
            except lmdb.MapResizedError:
                with self._lock:
                    self.env.set_mapsize(0)  # 0 = adopt the size the writer set
            except DAMAGE_ERRORS as exc:
                raise CacheDamaged(damaged_message(self.directory, exc)) from exc
            except lmdb.Error as exc:
                raise CacheError(f"cache read failed in {self.directory}: {exc}") from exc
        raise CacheError("cache map keeps being resized by another process")

    def write(self, fn: Callable[[lmdb.Transaction], None]) -> None:
        """Run ``fn`` in one write transaction, doubling the map and retrying when it is full.

        An aborted transaction leaves committed data untouched, so the retry is safe.
        """
        while True:
            try:
                with self._lock, self.env.begin(write=True) as txn:
                    fn(txn)
                return
            except lmdb.MapFullError:
                with self._lock:
                    self.env.set_mapsize(self.map_size * 2)
            except lmdb.MapResizedError:
                with self._lock:
                    self.env.set_mapsize(0)
            except DAMAGE_ERRORS as exc:
                raise CacheDamaged(damaged_message(self.directory, exc)) from exc
            except lmdb.Error as exc:
                reason = " ".join(str(exc).split())
                if disk_full(self.directory, exc):
                    raise CacheFull(
                        f"cache at {self.directory}: disk full ({reason}); what was stored "
                        "before is kept: free some space, or use --cache-dir on another disk"
                    ) from exc
                raise CacheError(f"cache write failed in {self.directory}: {reason}") from exc


def as_bytes(value: bytes | memoryview | None) -> bytes | None:
    """LMDB may hand back buffers; copy them out before the transaction ends."""
    return None if value is None else bytes(value)
