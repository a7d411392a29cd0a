"""The embedding cache: one LMDB environment holding frame and text vectors.

Keys (see :mod:`~clipvi_tui.core.cache_keys`) put one video's vectors of one model and
preprocessing together, so a prefix scan reads them all; the sampling rate is not in them, so
every sampling rate shares the vectors already embedded. The environment, its growth and its
one-line errors are :mod:`~clipvi_tui.core.cache_store`'s; the derived frame-index and thumbnail
tables are :mod:`~clipvi_tui.core.cache_derived`'s.

Values are L2-normalised float16. Why float16: a float32 vector of 512 dims is 2 KiB, larger than
LMDB's inline node limit (≈2 KiB on 4 KiB pages), so every value takes a whole overflow page:
4.2 KB per vector on disk. float16 is 1 KiB, stays inline, and two fit a leaf page: 2.1 KB per
vector, half the size and no overflow pages (``bench/cache_size.py`` measures both). Unit vectors
in float16 keep cosines within ≈3e-5 of the float32 result for 512 dims (a unit test checks
< 1e-4), far below what anybody reads off a curve.

Integrity (see :mod:`~clipvi_tui.core.cache_format`, :mod:`~clipvi_tui.core.cache_guard`,
:mod:`~clipvi_tui.core.cache_errors` and :mod:`~clipvi_tui.core.validation`)
    * every value carries a CRC-32 of its key and payload; a damaged value reads as missing (so
      it is embedded again) and is counted in :meth:`EmbeddingCache.take_damage_report`; values
      written before checksums existed are still read;
    * the ``models`` db holds, per model id, the vector dimension and a probe vector; a write of
      another dimension under a known model id is refused (``ModelMismatch``);
    * the folder is created 0700 and its files 0600 (prompts are in plain text in it);
    * a damaged ``data.mdb`` is a :class:`CacheDamaged` naming the file and how to start over;
      a write that fails because the disk is full is a :class:`CacheFull`; data committed
      before either stays readable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import lmdb
import numpy as np

from clipvi_tui.core.cache_derived import FrameIndexTable, ThumbnailTable
from clipvi_tui.core.cache_errors import CacheDamaged, CacheError, CacheFull
from clipvi_tui.core.cache_format import (
    VECTOR_DTYPE,
    ModelRecord,
    decode_batch,
    encode_vector,
)
from clipvi_tui.core.cache_guard import DamageLog, ModelRegistry, common_dim
from clipvi_tui.core.cache_keys import frame_prefix, indexed, indices_of, text_key
from clipvi_tui.core.cache_store import INITIAL_MAP_SIZE, LmdbStore, as_bytes

# Re-exported: callers catch the cache's errors from here.
__all__ = [
    "VECTOR_DTYPE",
    "CacheDamaged",
    "CacheError",
    "CacheFull",
    "EmbeddingCache",
    "normalise",
]


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return the rows of ``vectors`` scaled to unit L2 norm (zero rows stay zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    with np.errstate(over="ignore", under="ignore"):  # handled just below
        norms = np.linalg.norm(v, axis=-1, keepdims=True)
    # Squaring a float32 component under ~1e-19 underflows and over ~1e19 overflows: such rows
    # came out of length 1.00003 (a cosine above 1, found by fuzzing) or zero. Those rare rows
    # are first divided by their largest magnitude, which puts every square in [0, 1]. (NaN
    # compares false: a NaN row stays a zero row, as before.)
    odd = (norms < 1e-18) | (norms > 1e18)
    if odd.any():
        peak = np.max(np.abs(v), axis=-1, keepdims=True, initial=0.0)
        v = np.divide(v, peak, out=v.copy(), where=odd & (peak > 0))
        norms = np.where(odd, np.linalg.norm(v, axis=-1, keepdims=True), norms)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


class EmbeddingCache:
    """Frame and text vectors stored in LMDB, safe to share between threads of one process.

    Open one per process and per directory (LMDB's rule); other processes may open the same
    directory at the same time.
    """

    def __init__(self, directory: str | os.PathLike[str], map_size: int = INITIAL_MAP_SIZE):
        """Open (creating if needed) the cache in ``directory``.

        Raises:
            CacheError: if the directory cannot be created or is not an LMDB cache.
        """
        self._store = LmdbStore(
            directory, ("frames", "texts", "models", "frame_index", "thumbnails"), map_size
        )
        self.directory = self._store.directory
        self._frames = self._store.dbs["frames"]
        self._texts = self._store.dbs["texts"]
        self._models = self._store.dbs["models"]
        self._frame_index = FrameIndexTable(self._store)
        self._thumbnails = ThumbnailTable(self._store)
        self._records: dict[str, ModelRecord] = {}
        self._legacy_dims: dict[str, int | None] = {}
        self._registry = ModelRegistry(self._frames, self._texts, self._models)
        self._damage = DamageLog()

    def close(self) -> None:
        """Close the environment; the object is unusable afterwards."""
        self._store.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def map_size(self) -> int:
        """Current size of the memory map in bytes."""
        return self._store.map_size

    # -- frames --------------------------------------------------------------------------------

    def put_frames(
        self,
        fingerprint: str,
        model_id: str,
        tag: str,
        indices: Sequence[int],
        vectors: np.ndarray,
    ) -> None:
        """Store one vector per frame index in a single transaction (normalised to float16)."""
        if len(indices) != len(vectors):
            raise ValueError("indices and vectors differ in length")
        blobs = normalise(vectors).astype(VECTOR_DTYPE)
        self.put_stored_frames(fingerprint, model_id, tag, indices, blobs)

    # -- vectors handed over from elsewhere (core/handoff.py) ----------------------------------

    def put_stored_frames(
        self,
        fingerprint: str,
        model_id: str,
        tag: str,
        indices: Sequence[int],
        blobs: np.ndarray,
    ) -> None:
        """Store vectors already in the cache's own form (unit length, float16), byte for byte.

        Re-normalising such a vector can move a float16 value by one step; vectors that were
        read out of a cache (an exported vector file) go back in unchanged this way.
        """
        if len(indices) != len(blobs) or blobs.dtype != VECTOR_DTYPE:
            raise ValueError("need one float16 vector per index")
        prefix = frame_prefix(fingerprint, model_id, tag)

        def write(txn: lmdb.Transaction) -> None:
            self._claim_dim(txn, model_id, blobs)
            for k, blob in zip(indices, blobs, strict=True):
                key = indexed(prefix, k)
                txn.put(key, encode_vector(key, blob), db=self._frames)

        self._store.write(write)
        self._after_write(model_id, (indexed(prefix, k) for k in indices))

    def frame_indices(self, fingerprint: str, model_id: str, tag: str) -> np.ndarray:
        """All cached frame indices of one video/model/preprocessing, ascending."""
        prefix = frame_prefix(fingerprint, model_id, tag)

        keys, vals = self._store.read(lambda txn: self._scan(txn, prefix))
        found, _ = self._decode_rows(model_id, keys, list(vals))
        return indices_of(keys, prefix)[found]

    def get_frames(
        self, fingerprint: str, model_id: str, tag: str, indices: Iterable[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Look up vectors for ``indices``.

        Returns:
            ``(found, vectors)``: a bool mask over ``indices`` and a float32 matrix with one row
            per index (rows of missing frames are NaN).
        """
        idx = [int(k) for k in indices]
        prefix = frame_prefix(fingerprint, model_id, tag)

        keys = [indexed(prefix, k) for k in idx]

        def fetch(txn: lmdb.Transaction) -> list[bytes | None]:
            return [as_bytes(txn.get(key, db=self._frames)) for key in keys]

        return self._decode_rows(model_id, keys, self._store.read(fetch))

    def frame_matrix(
        self, fingerprint: str, model_id: str, tag: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every cached vector of one video in one prefix scan.

        Returns:
            ``(indices, vectors)``: ascending frame indices and a float32 ``[n, D]`` matrix.
        """
        prefix = frame_prefix(fingerprint, model_id, tag)
        keys, vals = self._store.read(lambda txn: self._scan(txn, prefix))
        found, vectors = self._decode_rows(model_id, keys, list(vals))
        if not found.any():
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return indices_of(keys, prefix)[found], vectors[found]

    def _scan(self, txn: lmdb.Transaction, prefix: bytes) -> tuple[list[bytes], list[bytes]]:
        """Every (key, value) of the frames db under ``prefix``, in key order."""
        cur = txn.cursor(db=self._frames)
        keys: list[bytes] = []
        vals: list[bytes] = []
        if cur.set_range(prefix):
            for raw, val in cur.iternext(keys=True, values=True):
                key = bytes(raw)
                if not key.startswith(prefix):
                    break
                keys.append(key)
                vals.append(bytes(val))
        return keys, vals

    # -- texts ---------------------------------------------------------------------------------

    def put_texts(self, model_id: str, prompts: Sequence[str], vectors: np.ndarray) -> None:
        """Store prompt vectors in one transaction."""
        if len(prompts) != len(vectors):
            raise ValueError("prompts and vectors differ in length")
        blobs = normalise(vectors).astype(VECTOR_DTYPE)

        def write(txn: lmdb.Transaction) -> None:
            self._claim_dim(txn, model_id, blobs)
            for prompt, blob in zip(prompts, blobs, strict=True):
                key = text_key(model_id, prompt)
                txn.put(key, encode_vector(key, blob), db=self._texts)

        self._store.write(write)
        self._after_write(model_id, (text_key(model_id, p) for p in prompts))

    def get_texts(self, model_id: str, prompts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Look up prompt vectors; same return shape as :meth:`get_frames`."""

        keys = [text_key(model_id, p) for p in prompts]

        def fetch(txn: lmdb.Transaction) -> list[bytes | None]:
            return [as_bytes(txn.get(key, db=self._texts)) for key in keys]

        return self._decode_rows(model_id, keys, self._store.read(fetch))

    # -- integrity: model records, checksums, damage reports -----------------------------------

    def model_record(self, model_id: str) -> ModelRecord | None:
        """The dimension and probe vector stored for ``model_id``, if any."""
        known = self._records.get(model_id)
        if known is not None:
            return known

        record = self._store.read(lambda txn: self._registry.record(txn, model_id))
        if record is not None:
            self._records[model_id] = record
        return record

    def set_model_record(self, model_id: str, dim: int, probe: np.ndarray | None) -> None:
        """Record ``model_id``'s dimension (and probe vector) unless another dimension is known.

        Raises:
            ModelMismatch: if the cache already holds another dimension for ``model_id``.
        """
        record = ModelRecord(dim, None if probe is None else np.asarray(probe, np.float32))

        def write(txn: lmdb.Transaction) -> None:
            self._check_dim(txn, model_id, dim)
            txn.put(model_id.encode(), record.to_bytes(), db=self._models)

        self._store.write(write)
        self._records[model_id] = record

    def legacy_dim(self, model_id: str) -> int | None:
        """The dimension of vectors stored for ``model_id`` before model records existed."""
        return self._store.read(lambda txn: self._legacy_dim(txn, model_id))

    def take_damage_report(self) -> int:
        """How many damaged entries were found since the last call (each is reported once)."""
        return self._damage.take_report()

    def _check_dim(self, txn: lmdb.Transaction, model_id: str, dim: int) -> bool:
        """Raise if ``model_id`` is known with another dimension; True if it has a record."""
        return self._registry.check(txn, model_id, dim)

    def _claim_dim(self, txn: lmdb.Transaction, model_id: str, blobs: np.ndarray) -> None:
        """Inside a write: refuse vectors of another size than ``model_id``'s, record new ones."""
        self._registry.claim(txn, model_id, blobs, self._records.get(model_id))

    def _legacy_dim(self, txn: lmdb.Transaction, model_id: str) -> int | None:
        return self._registry.legacy_dim(txn, model_id)

    def _decode_rows(
        self, model_id: str, keys: list[bytes], blobs: list[bytes | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decode stored values; damaged ones read as missing and are remembered for the report.

        Returns:
            ``(found, vectors)``: a bool mask and a float32 matrix, NaN rows where not found.
        """
        record = self.model_record(model_id)
        # Without a record (a cache from before records existed) the model's dimension is that of
        # its first vector found; rows of another size (stored by older versions from a broken
        # server) then read as damaged instead of breaking every score.
        dim = record.dim if record is not None else self._legacy_dim_of(model_id, blobs)
        found, vectors, damaged = decode_batch(keys, blobs, dim)
        self._damage.add(keys[i] for i in damaged)
        return found, vectors

    def _legacy_dim_of(self, model_id: str, blobs: Sequence[bytes | None]) -> int | None:
        if model_id not in self._legacy_dims:
            self._legacy_dims[model_id] = self.legacy_dim(model_id) or common_dim(blobs)
        return self._legacy_dims[model_id]

    def _after_write(self, model_id: str, keys: Iterable[bytes]) -> None:
        """Entries just rewritten are whole again; the model's record is now known for sure."""
        self._damage.forget(keys)
        if model_id not in self._records:
            self.model_record(model_id)  # later writes check the dimension in memory

    def text_dim(self, model_id: str) -> int | None:
        """The length of the prompt vectors cached for ``model_id``, or None if there are none.

        Every vector of one model has this length, so it is what imported vectors must match.
        """
        record = self.model_record(model_id)
        return record.dim if record is not None else self.legacy_dim(model_id)

    # -- derived tables (frame indices, thumbnails), see core/cache_derived.py ----------------

    def get_frame_index(self, key: str) -> bytes | None:
        """The stored frame index blob under ``key`` (see :func:`clipvi_tui.core.video.probe`)."""
        return self._frame_index.get(key)

    def put_frame_index(self, key: str, blob: bytes) -> None:
        """Store a frame index blob under ``key`` (replacing an older one)."""
        self._frame_index.put(key, blob)

    def put_thumbnails(
        self, fingerprint: str, indices: Sequence[int], jpegs: Sequence[bytes]
    ) -> None:
        """Store one JPEG per frame index in a single transaction."""
        self._thumbnails.put(fingerprint, indices, jpegs)

    def get_thumbnail(self, fingerprint: str, index: int) -> bytes | None:
        """The JPEG stored for one frame, or None."""
        return self._thumbnails.get(fingerprint, index)

    def thumbnail_indices(self, fingerprint: str) -> np.ndarray:
        """Frame indices of one video that have a thumbnail, ascending."""
        return self._thumbnails.indices(fingerprint)

    def stats(self) -> dict[str, int]:
        """Entry counts and sizes, for ``--verbose`` output and benchmarks."""

        def count(txn: lmdb.Transaction) -> dict[str, int]:
            f = txn.stat(self._frames)
            t = txn.stat(self._texts)
            pages = sum(s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"] for s in (f, t))
            return {
                "frames": f["entries"],
                "texts": t["entries"],
                "bytes_used": pages * f["psize"],
                "overflow_pages": f["overflow_pages"] + t["overflow_pages"],
            }

        return self._store.read(count)
