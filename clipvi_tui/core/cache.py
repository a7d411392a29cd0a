"""The embedding cache: one LMDB environment holding frame and text vectors.

Keys
    frames: ``<fingerprint>|<model id>|<preprocess tag>|`` + 8-byte big-endian frame index, so
            one video's vectors sit together in key order and a prefix scan reads them all.
    texts:  ``<model id>|<prompt>``.
    frame_index: ``file:<content hash>`` → a video's frame index (timestamps, keyframes; see
            :mod:`clipvi_tui.core.frameindex`), so a video is demuxed once, not on every start.
    thumbnails: ``<fingerprint>|`` + 8-byte frame index → a small JPEG of that sampled frame
            (:mod:`clipvi_tui.core.thumbnails`): a seek shows it at once, before the exact frame.

The sampling rate is deliberately *not* part of a frame key: frame indices are raw indices of the
video, so a vector for frame k is the same whether 5 fps or every frame asked for it, and moving
from ``--sample-fps 5`` to ``all`` reuses everything already embedded. What does change a frame's
vector — the model and how the frame was shrunk before upload — is in the key.

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
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import lmdb
import numpy as np

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
from clipvi_tui.core.cache_format import (
    VECTOR_DTYPE,
    ModelRecord,
    decode_batch,
    encode_vector,
)
from clipvi_tui.core.cache_guard import DamageLog, ModelRegistry, common_dim

T = TypeVar("T")

_INDEX = struct.Struct(">Q")

# Start small so a fresh cache is small on disk listings; the map doubles on demand.
INITIAL_MAP_SIZE = 64 << 20
# LMDB refuses keys longer than this (511 bytes by default).
MAX_KEY = 511


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return the rows of ``vectors`` scaled to unit L2 norm (zero rows stay zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
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
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise CacheError(
                f"cannot open cache at {self.directory}: it is a file, not a folder "
                "(choose a folder with --cache-dir or cache_dir:)"
            )
        try:
            self.directory.mkdir(mode=CACHE_DIR_MODE, parents=True, exist_ok=True)
            restrict(self.directory)
            self._env = lmdb.open(
                str(self.directory),
                map_size=map_size,
                max_dbs=8,  # frames, texts, models, frame_index, thumbnails (+ room)
                # Several reader threads (UI, indexer, exporter) each hold short transactions.
                max_readers=256,
                mode=CACHE_FILE_MODE,
            )
            check_length(self._env, self.directory)
            self._frames = self._env.open_db(b"frames")
            self._texts = self._env.open_db(b"texts")
            self._models = self._env.open_db(b"models")
            self._frame_index = self._env.open_db(b"frame_index")
            self._thumbnails = self._env.open_db(b"thumbnails")
        except DAMAGE_ERRORS as exc:
            raise CacheDamaged(damaged_message(self.directory, exc)) from exc
        except (OSError, lmdb.Error) as exc:
            reason = " ".join(str(getattr(exc, "strerror", None) or exc).split())
            raise CacheError(f"cannot open cache at {self.directory}: {reason}") from exc
        restrict(self.directory)
        # Serialises resizes against this process's own transactions (LMDB requires that no
        # transaction is open in the process while the map size changes).
        self._lock = threading.RLock()
        self._records: dict[str, ModelRecord] = {}
        self._legacy_dims: dict[str, int | None] = {}
        self._registry = ModelRegistry(self._frames, self._texts, self._models)
        self._damage = DamageLog()

    def close(self) -> None:
        """Close the environment; the object is unusable afterwards."""
        with self._lock:
            self._env.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def map_size(self) -> int:
        """Current size of the memory map in bytes."""
        return int(self._env.info()["map_size"])

    # -- keys ----------------------------------------------------------------------------------

    @staticmethod
    def frame_prefix(fingerprint: str, model_id: str, tag: str) -> bytes:
        """Key prefix shared by every frame vector of one video, model and preprocessing."""
        return f"{fingerprint}|{model_id}|{tag}|".encode()

    @staticmethod
    def text_key(model_id: str, prompt: str) -> bytes:
        """Key of one prompt's vector; long prompts are hashed to fit LMDB's key limit."""
        key = f"{model_id}|{prompt}".encode()
        if len(key) > MAX_KEY:
            import hashlib

            key = f"{model_id}|#sha256:{hashlib.sha256(prompt.encode()).hexdigest()}".encode()
        return key

    # -- transactions with growth and resize handling ------------------------------------------

    def _read(self, fn: Callable[[lmdb.Transaction], T]) -> T:
        """Run ``fn`` in a read transaction, adopting a map that another process grew."""
        for _ in range(3):
            try:
                with self._env.begin(write=False) as txn:
                    return fn(txn)
            except lmdb.MapResizedError:
                with self._lock:
                    self._env.set_mapsize(0)  # 0 = adopt the size the writer set
            except DAMAGE_ERRORS as exc:
                raise CacheDamaged(damaged_message(self.directory, exc)) from exc
            except lmdb.Error as exc:
                raise CacheError(f"cache read failed in {self.directory}: {exc}") from exc
        raise CacheError("cache map keeps being resized by another process")

    def _write(self, fn: Callable[[lmdb.Transaction], None]) -> None:
        """Run ``fn`` in one write transaction, doubling the map and retrying when it is full.

        An aborted transaction leaves committed data untouched, so the retry is safe.
        """
        while True:
            try:
                with self._lock, self._env.begin(write=True) as txn:
                    fn(txn)
                return
            except lmdb.MapFullError:
                with self._lock:
                    self._env.set_mapsize(self.map_size * 2)
            except lmdb.MapResizedError:
                with self._lock:
                    self._env.set_mapsize(0)
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
        prefix = self.frame_prefix(fingerprint, model_id, tag)

        def write(txn: lmdb.Transaction) -> None:
            self._claim_dim(txn, model_id, blobs)
            for k, blob in zip(indices, blobs, strict=True):
                key = prefix + _INDEX.pack(int(k))
                txn.put(key, encode_vector(key, blob), db=self._frames)

        self._write(write)
        self._after_write(model_id, (prefix + _INDEX.pack(int(k)) for k in indices))

    def frame_indices(self, fingerprint: str, model_id: str, tag: str) -> np.ndarray:
        """All cached frame indices of one video/model/preprocessing, ascending."""
        prefix = self.frame_prefix(fingerprint, model_id, tag)

        keys, vals = self._read(lambda txn: self._scan(txn, prefix))
        found, _ = self._decode_rows(model_id, keys, list(vals))
        return _indices_of(keys, prefix)[found]

    def get_frames(
        self, fingerprint: str, model_id: str, tag: str, indices: Iterable[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Look up vectors for ``indices``.

        Returns:
            ``(found, vectors)``: a bool mask over ``indices`` and a float32 matrix with one row
            per index (rows of missing frames are NaN).
        """
        idx = [int(k) for k in indices]
        prefix = self.frame_prefix(fingerprint, model_id, tag)

        keys = [prefix + _INDEX.pack(k) for k in idx]

        def fetch(txn: lmdb.Transaction) -> list[bytes | None]:
            return [_as_bytes(txn.get(key, db=self._frames)) for key in keys]

        return self._decode_rows(model_id, keys, self._read(fetch))

    def frame_matrix(
        self, fingerprint: str, model_id: str, tag: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every cached vector of one video in one prefix scan.

        Returns:
            ``(indices, vectors)``: ascending frame indices and a float32 ``[n, D]`` matrix.
        """
        prefix = self.frame_prefix(fingerprint, model_id, tag)
        keys, vals = self._read(lambda txn: self._scan(txn, prefix))
        found, vectors = self._decode_rows(model_id, keys, list(vals))
        if not found.any():
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return _indices_of(keys, prefix)[found], vectors[found]

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
                key = self.text_key(model_id, prompt)
                txn.put(key, encode_vector(key, blob), db=self._texts)

        self._write(write)
        self._after_write(model_id, (self.text_key(model_id, p) for p in prompts))

    def get_texts(self, model_id: str, prompts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Look up prompt vectors; same return shape as :meth:`get_frames`."""

        keys = [self.text_key(model_id, p) for p in prompts]

        def fetch(txn: lmdb.Transaction) -> list[bytes | None]:
            return [_as_bytes(txn.get(key, db=self._texts)) for key in keys]

        return self._decode_rows(model_id, keys, self._read(fetch))

    # -- integrity: model records, checksums, damage reports -----------------------------------

    def model_record(self, model_id: str) -> ModelRecord | None:
        """The dimension and probe vector stored for ``model_id``, if any."""
        known = self._records.get(model_id)
        if known is not None:
            return known

        record = self._read(lambda txn: self._registry.record(txn, model_id))
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

        self._write(write)
        self._records[model_id] = record

    def legacy_dim(self, model_id: str) -> int | None:
        """The dimension of vectors stored for ``model_id`` before model records existed."""
        return self._read(lambda txn: self._legacy_dim(txn, model_id))

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

    # -- frame indices (timestamps and keyframes of a video) -----------------------------------

    def get_frame_index(self, key: str) -> bytes | None:
        """The stored frame index blob under ``key`` (see :func:`clipvi_tui.core.video.probe`)."""
        return self._read(lambda txn: _as_bytes(txn.get(key.encode(), db=self._frame_index)))

    def put_frame_index(self, key: str, blob: bytes) -> None:
        """Store a frame index blob under ``key`` (replacing an older one)."""

        def write(txn: lmdb.Transaction) -> None:
            txn.put(key.encode(), blob, db=self._frame_index)

        self._write(write)

    # -- thumbnails (small JPEGs of sampled frames, for instant seeks) -------------------------

    @staticmethod
    def _thumb_key(fingerprint: str, index: int) -> bytes:
        return f"{fingerprint}|".encode() + _INDEX.pack(int(index))

    def put_thumbnails(
        self, fingerprint: str, indices: Sequence[int], jpegs: Sequence[bytes]
    ) -> None:
        """Store one JPEG per frame index in a single transaction."""
        if len(indices) != len(jpegs):
            raise ValueError("indices and thumbnails differ in length")

        def write(txn: lmdb.Transaction) -> None:
            for k, blob in zip(indices, jpegs, strict=True):
                txn.put(self._thumb_key(fingerprint, k), blob, db=self._thumbnails)

        self._write(write)

    def get_thumbnail(self, fingerprint: str, index: int) -> bytes | None:
        """The JPEG stored for one frame, or None."""
        key = self._thumb_key(fingerprint, index)
        return self._read(lambda txn: _as_bytes(txn.get(key, db=self._thumbnails)))

    def thumbnail_indices(self, fingerprint: str) -> np.ndarray:
        """Frame indices of one video that have a thumbnail, ascending."""
        prefix = f"{fingerprint}|".encode()
        return self._read(lambda txn: _indices_under(txn, self._thumbnails, prefix))

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

        return self._read(count)


def _indices_under(txn: lmdb.Transaction, db: Any, prefix: bytes) -> np.ndarray:
    """The 8-byte big-endian frame indices that follow ``prefix`` in ``db``'s keys, ascending."""
    cur = txn.cursor(db=db)
    out: list[int] = []
    if cur.set_range(prefix):
        for raw in cur.iternext(keys=True, values=False):
            key = bytes(raw)
            if not key.startswith(prefix):
                break
            out.append(_INDEX.unpack(key[len(prefix) :])[0])
    return np.asarray(out, dtype=np.int64)


def _as_bytes(value: bytes | memoryview | None) -> bytes | None:
    """LMDB may hand back buffers; copy them out before the transaction ends."""
    return None if value is None else bytes(value)


def _indices_of(keys: list[bytes], prefix: bytes) -> np.ndarray:
    """The frame indices encoded at the end of frame keys."""
    return np.asarray([_INDEX.unpack(k[len(prefix) :])[0] for k in keys], dtype=np.int64)
