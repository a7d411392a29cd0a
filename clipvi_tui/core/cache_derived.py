"""The cache's derived tables: a video's frame index and the thumbnails of its sampled frames.

Both are made from the video itself (a demux pass, a decoded picture), never by a server, so
they carry no checksum or model record like the vectors do: whatever is missing is made again
(:func:`~clipvi_tui.core.videoinfo.probe` demuxes anew, the indexer and
:func:`~clipvi_tui.core.thumbnails.fill_thumbnails` make thumbnails).
:class:`~clipvi_tui.core.cache.EmbeddingCache` owns one of each and hands its calls on to them.
"""

from __future__ import annotations

from collections.abc import Sequence

import lmdb
import numpy as np

from clipvi_tui.core.cache_keys import indexed, indices_under, thumbnail_prefix
from clipvi_tui.core.cache_store import LmdbStore, as_bytes


class FrameIndexTable:
    """The ``frame_index`` db: ``file:<content hash>`` → a stored frame index blob."""

    def __init__(self, store: LmdbStore) -> None:
        """Work on ``store``'s ``frame_index`` database."""
        self._store = store
        self._db = store.dbs["frame_index"]

    def get(self, key: str) -> bytes | None:
        """The blob stored under ``key``, or None."""
        return self._store.read(lambda txn: as_bytes(txn.get(key.encode(), db=self._db)))

    def put(self, key: str, blob: bytes) -> None:
        """Store ``blob`` under ``key`` (replacing an older one)."""

        def write(txn: lmdb.Transaction) -> None:
            txn.put(key.encode(), blob, db=self._db)

        self._store.write(write)


class ThumbnailTable:
    """The ``thumbnails`` db: ``<fingerprint>|`` + frame index → a small JPEG."""

    def __init__(self, store: LmdbStore) -> None:
        """Work on ``store``'s ``thumbnails`` database."""
        self._store = store
        self._db = store.dbs["thumbnails"]

    def put(self, fingerprint: str, indices: Sequence[int], jpegs: Sequence[bytes]) -> None:
        """Store one JPEG per frame index in a single transaction."""
        if len(indices) != len(jpegs):
            raise ValueError("indices and thumbnails differ in length")
        prefix = thumbnail_prefix(fingerprint)

        def write(txn: lmdb.Transaction) -> None:
            for k, blob in zip(indices, jpegs, strict=True):
                txn.put(indexed(prefix, k), blob, db=self._db)

        self._store.write(write)

    def get(self, fingerprint: str, index: int) -> bytes | None:
        """The JPEG stored for one frame, or None."""
        key = indexed(thumbnail_prefix(fingerprint), index)
        return self._store.read(lambda txn: as_bytes(txn.get(key, db=self._db)))

    def indices(self, fingerprint: str) -> np.ndarray:
        """Frame indices of one video that have a thumbnail, ascending."""
        prefix = thumbnail_prefix(fingerprint)
        return self._store.read(lambda txn: indices_under(txn, self._db, prefix))
