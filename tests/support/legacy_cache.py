"""Caches as clipvi-tui wrote them before checksums and model records (format 0), and helpers
that damage cache files the way a disk or a hostile user would.

:func:`write_format0` is a frozen copy of the old writer (same LMDB layout, keys and values: bare
L2-normalised float16), so tests prove that caches users already have stay readable.
"""

from __future__ import annotations

import os
from pathlib import Path

import lmdb
import numpy as np

FP, MODEL, TAG = "f" * 32, "clip/test", "area224"


def vectors(n: int, dim: int = 512, seed: int = 0) -> np.ndarray:
    """``n`` random float32 vectors."""
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _unit_f16(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype("<f2")


def write_format0(
    directory: Path,
    frames: dict[tuple[str, str, str], tuple[list[int], np.ndarray]] | None = None,
    texts: dict[str, tuple[list[str], np.ndarray]] | None = None,
) -> Path:
    """Write a cache exactly as the code before format 1 did."""
    directory.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(directory), map_size=64 << 20, max_dbs=4, max_readers=256)
    fdb, tdb = env.open_db(b"frames"), env.open_db(b"texts")
    with env.begin(write=True) as txn:
        for (fp, model, tag), (indices, vecs) in (frames or {}).items():
            prefix = f"{fp}|{model}|{tag}|".encode()
            for k, blob in zip(indices, _unit_f16(vecs), strict=True):
                txn.put(prefix + int(k).to_bytes(8, "big"), blob.tobytes(), db=fdb)
        for model, (prompts, vecs) in (texts or {}).items():
            for prompt, blob in zip(prompts, _unit_f16(vecs), strict=True):
                txn.put(f"{model}|{prompt}".encode(), blob.tobytes(), db=tdb)
    env.close()
    return directory


# Derived from the video file itself, not from a server: any command that opens a video may add
# its frame index (and the app its thumbnails); existing entries are never rewritten.
DERIVED_DBS = (b"frame_index", b"thumbnails")


def snapshot(directory: Path, *, derived: bool = False) -> dict[tuple[bytes, bytes], bytes]:
    """Every (db, key) → value in a cache, read with plain LMDB (for "nothing changed" checks).

    The databases of :data:`DERIVED_DBS` are left out unless ``derived``.
    """
    if not (directory / "data.mdb").exists():
        return {}
    env = lmdb.open(str(directory), readonly=True, lock=False, max_dbs=16)
    out: dict[tuple[bytes, bytes], bytes] = {}
    with env.begin() as txn:
        names = [bytes(k) for k, _ in txn.cursor()]
    for name in names:
        if name in DERIVED_DBS and not derived:
            continue
        db = env.open_db(name, create=False)
        with env.begin(db=db) as txn:
            for k, v in txn.cursor():
                out[(name, bytes(k))] = bytes(v)
    env.close()
    return out


def damage_values(data_mdb: Path, payloads: list[bytes], seed: int = 0) -> int:
    """Overwrite 8 random bytes inside each of ``payloads`` wherever it sits in ``data_mdb``.

    Every copy is hit: LMDB writes pages copy-on-write, so stale copies of a value may sit in
    free pages next to the live one.

    Returns:
        How many of ``payloads`` were found and damaged.
    """
    data = bytearray(data_mdb.read_bytes())
    rng = np.random.default_rng(seed)
    hit = 0
    for payload in payloads:
        at = data.find(payload)
        found = at >= 0
        while at >= 0:
            off = at + int(rng.integers(0, len(payload) - 8))
            data[off : off + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
            at = data.find(payload, at + len(payload))
        hit += found
    data_mdb.write_bytes(bytes(data))
    return hit


def overwrite_head(data_mdb: Path, nbytes: int = 8192) -> None:
    """Replace the first ``nbytes`` (LMDB's two meta pages) with random bytes."""
    with data_mdb.open("r+b") as fh:
        fh.write(os.urandom(nbytes))
