"""How one vector is stored in the cache: float16 payload plus a checksum, old format still read.

Format 1 (written since the reliability work)::

    <D little-endian float16> <CRC-32 of key + payload, 4 bytes LE> <0x01>

The 5-byte trailer makes every format-1 value odd in length, while the values written before it
(format 0: the bare float16 payload) are always even, so the two are told apart without a
version field in the database. Format-0 values cannot be verified and are read as they are.

The checksum covers the key too: a damaged page that swaps or shifts entries fails the check.
A value that fails is *damaged*: readers treat it as missing, so it is embedded again and the
new vector overwrites it.

The model record (``models`` db) is a small JSON document per model id: its vector dimension and
its probe vector (see :mod:`clipvi_tui.core.validation`).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np

VECTOR_DTYPE = np.dtype("<f2")
FORMAT_1 = 1
_TRAILER = struct.Struct("<IB")


def encode_vector(key: bytes, vector: np.ndarray | np.generic) -> bytes:
    """Format-1 bytes for ``vector`` (already float16) stored under ``key``."""
    payload = np.ascontiguousarray(vector, dtype=VECTOR_DTYPE).tobytes()
    return payload + _TRAILER.pack(zlib.crc32(key + payload), FORMAT_1)


def decode_vector(key: bytes, blob: bytes, dim: int | None = None) -> np.ndarray | None:
    """The float16 vector in ``blob``, or None when it is damaged.

    Args:
        key: the key it was stored under (part of the checksum).
        blob: the stored value (format 1, or format 0 from older versions).
        dim: the model's dimension when known; a vector of another size counts as damaged.
    """
    n = len(blob)
    if n % 2 == 1:
        if n < _TRAILER.size + 2:
            return None
        payload = blob[: -_TRAILER.size]
        crc, version = _TRAILER.unpack(blob[-_TRAILER.size :])
        if version != FORMAT_1 or zlib.crc32(key + payload) != crc:
            return None
    else:
        payload = blob  # format 0: no checksum to verify
    if not payload or (dim is not None and len(payload) != dim * VECTOR_DTYPE.itemsize):
        return None
    vec = np.frombuffer(payload, dtype=VECTOR_DTYPE)
    if not np.isfinite(vec).all():
        return None
    return vec


def decode_batch(
    keys: list[bytes], blobs: list[bytes | None], dim: int | None
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Decode many stored values at once (what readers of whole videos use).

    Args:
        keys: the keys the values were stored under.
        blobs: the values, None where nothing is stored.
        dim: the model's dimension; values of another size count as damaged.

    Returns:
        ``(found, vectors, damaged)``: a bool mask, a float32 ``[n, dim]`` matrix with NaN rows
        where nothing usable is stored, and the positions of damaged values.
    """
    n = len(blobs)
    if dim is None:
        dim = next((payload_dim(b) for b in blobs if b is not None), 0)
    width = dim * VECTOR_DTYPE.itemsize
    good: list[int] = []
    payloads: list[memoryview] = []
    damaged: list[int] = []
    for i, (key, blob) in enumerate(zip(keys, blobs, strict=True)):
        if blob is None:
            continue
        view = memoryview(blob)  # slices without copying a kilobyte per vector
        if len(blob) % 2 == 1:
            payload = view[: -_TRAILER.size]
            crc, version = _TRAILER.unpack_from(blob, len(blob) - _TRAILER.size)
            ok = version == FORMAT_1 and zlib.crc32(payload, zlib.crc32(key)) == crc
        else:
            payload, ok = view, True  # format 0: no checksum to verify
        if ok and width and len(payload) == width:
            good.append(i)
            payloads.append(payload)
        else:
            damaged.append(i)
    mat = np.frombuffer(b"".join(payloads), dtype=VECTOR_DTYPE).reshape(len(good), dim)
    finite = np.isfinite(mat).all(axis=1)
    if len(good) == n and finite.all():  # the usual case: everything there and whole
        return np.ones(n, dtype=bool), mat.astype(np.float32), []
    out = np.full((n, dim), np.nan, dtype=np.float32)
    found = np.zeros(n, dtype=bool)
    if good:
        rows = np.asarray(good)
        out[rows[finite]] = mat[finite]
        found[rows[finite]] = True
        damaged.extend(int(r) for r in rows[~finite])
    return found, out, sorted(damaged)


def payload_dim(blob: bytes) -> int:
    """The dimension a stored value claims (either format), without verifying it."""
    n = len(blob) - (_TRAILER.size if len(blob) % 2 else 0)
    return max(0, n // VECTOR_DTYPE.itemsize)


@dataclass(frozen=True)
class ModelRecord:
    """What the cache knows about one model id."""

    dim: int
    probe: np.ndarray | None = None

    def to_bytes(self) -> bytes:
        """JSON bytes for the ``models`` db."""
        doc: dict[str, object] = {"dim": self.dim}
        if self.probe is not None:
            raw = np.asarray(self.probe, dtype="<f4").tobytes()
            doc["probe_f32"] = base64.b64encode(raw).decode("ascii")
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ModelRecord | None:
        """Parse a stored record; None when it is unreadable (treated as absent)."""
        try:
            doc = json.loads(raw)
            dim = int(doc["dim"])
            probe = None
            if "probe_f32" in doc:
                probe = np.frombuffer(base64.b64decode(doc["probe_f32"]), dtype="<f4").copy()
                if probe.shape[0] != dim:
                    probe = None
        except (ValueError, KeyError, TypeError):
            return None
        return cls(dim, probe) if dim > 0 else None
