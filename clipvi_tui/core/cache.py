"""The embedding cache: one LMDB environment holding frame and text vectors.

Keys
    frames: ``<fingerprint>|<model id>|<preprocess tag>|`` + 8-byte big-endian frame index, so
            one video's vectors sit together in key order and a prefix scan reads them all.
    texts:  ``<model id>|<prompt>``.

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
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import lmdb
import numpy as np

T = TypeVar("T")

VECTOR_DTYPE = np.dtype("<f2")
_INDEX = struct.Struct(">Q")

# Start small so a fresh cache is small on disk listings; the map doubles on demand.
INITIAL_MAP_SIZE = 64 << 20
# LMDB refuses keys longer than this (511 bytes by default).
MAX_KEY = 511


class CacheError(Exception):
    """The cache directory cannot be opened or written."""


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
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._env = lmdb.open(
                str(self.directory),
                map_size=map_size,
                max_dbs=4,
                # Several reader threads (UI, indexer, exporter) each hold short transactions.
                max_readers=256,
            )
            self._frames = self._env.open_db(b"frames")
            self._texts = self._env.open_db(b"texts")
        except (OSError, lmdb.Error) as exc:
            raise CacheError(f"cannot open cache at {self.directory}: {exc}") from exc
        # Serialises resizes against this process's own transactions (LMDB requires that no
        # transaction is open in the process while the map size changes).
        self._lock = threading.RLock()

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
            except lmdb.Error as exc:
                raise CacheError(f"cache write failed: {exc}") from exc

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
        prefix = self.frame_prefix(fingerprint, model_id, tag)
        blobs = normalise(vectors).astype(VECTOR_DTYPE)

        def write(txn: lmdb.Transaction) -> None:
            for k, blob in zip(indices, blobs, strict=True):
                txn.put(prefix + _INDEX.pack(int(k)), blob.tobytes(), db=self._frames)

        self._write(write)

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
            for k, blob in zip(indices, blobs, strict=True):
                txn.put(prefix + _INDEX.pack(int(k)), blob.tobytes(), db=self._frames)

        self._write(write)

    def frame_indices(self, fingerprint: str, model_id: str, tag: str) -> np.ndarray:
        """All cached frame indices of one video/model/preprocessing, ascending."""
        prefix = self.frame_prefix(fingerprint, model_id, tag)

        def scan(txn: lmdb.Transaction) -> np.ndarray:
            cur = txn.cursor(db=self._frames)
            out: list[int] = []
            if cur.set_range(prefix):
                for raw in cur.iternext(keys=True, values=False):
                    key = bytes(raw)
                    if not key.startswith(prefix):
                        break
                    out.append(_INDEX.unpack(key[len(prefix) :])[0])
            return np.asarray(out, dtype=np.int64)

        return self._read(scan)

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

        def fetch(txn: lmdb.Transaction) -> list[bytes | None]:
            return [_as_bytes(txn.get(prefix + _INDEX.pack(k), db=self._frames)) for k in idx]

        return _decode_rows(self._read(fetch))

    def frame_matrix(
        self, fingerprint: str, model_id: str, tag: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every cached vector of one video in one prefix scan.

        Returns:
            ``(indices, vectors)``: ascending frame indices and a float32 ``[n, D]`` matrix.
        """
        prefix = self.frame_prefix(fingerprint, model_id, tag)

        def scan(txn: lmdb.Transaction) -> tuple[list[int], list[bytes]]:
            cur = txn.cursor(db=self._frames)
            keys: list[int] = []
            vals: list[bytes] = []
            if cur.set_range(prefix):
                for raw, val in cur.iternext(keys=True, values=True):
                    key = bytes(raw)
                    if not key.startswith(prefix):
                        break
                    keys.append(_INDEX.unpack(key[len(prefix) :])[0])
                    vals.append(bytes(val))
            return keys, vals

        keys, vals = self._read(scan)
        if not vals:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        mat = np.frombuffer(b"".join(vals), dtype=VECTOR_DTYPE).reshape(len(vals), -1)
        return np.asarray(keys, dtype=np.int64), mat.astype(np.float32)

    # -- texts ---------------------------------------------------------------------------------

    def put_texts(self, model_id: str, prompts: Sequence[str], vectors: np.ndarray) -> None:
        """Store prompt vectors in one transaction."""
        if len(prompts) != len(vectors):
            raise ValueError("prompts and vectors differ in length")
        blobs = normalise(vectors).astype(VECTOR_DTYPE)

        def write(txn: lmdb.Transaction) -> None:
            for prompt, blob in zip(prompts, blobs, strict=True):
                txn.put(self.text_key(model_id, prompt), blob.tobytes(), db=self._texts)

        self._write(write)

    def get_texts(self, model_id: str, prompts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Look up prompt vectors; same return shape as :meth:`get_frames`."""

        def fetch(txn: lmdb.Transaction) -> list[bytes | None]:
            return [_as_bytes(txn.get(self.text_key(model_id, p), db=self._texts)) for p in prompts]

        return _decode_rows(self._read(fetch))

    def text_dim(self, model_id: str) -> int | None:
        """The length of the prompt vectors cached for ``model_id``, or None if there are none.

        Every vector of one model has this length, so it is what imported vectors must match.
        """
        prefix = f"{model_id}|".encode()

        def first(txn: lmdb.Transaction) -> int | None:
            cur = txn.cursor(db=self._texts)
            if cur.set_range(prefix) and bytes(cur.key()).startswith(prefix):
                return len(bytes(cur.value())) // VECTOR_DTYPE.itemsize
            return None

        return self._read(first)

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


def _as_bytes(value: bytes | memoryview | None) -> bytes | None:
    """LMDB may hand back buffers; copy them out before the transaction ends."""
    return None if value is None else bytes(value)


def _decode_rows(blobs: list[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    """Turn looked-up blobs (None when missing) into a found-mask and a NaN-padded matrix."""
    found = np.array([b is not None for b in blobs], dtype=bool)
    dim = next((len(b) // VECTOR_DTYPE.itemsize for b in blobs if b is not None), 0)
    out = np.full((len(blobs), dim), np.nan, dtype=np.float32)
    for i, b in enumerate(blobs):
        if b is not None:
            out[i] = np.frombuffer(b, dtype=VECTOR_DTYPE)
    return found, out
