"""What checksums and dimension checks cost: the cache as it is (format 1) against bare float16
values (format 0, what the cache wrote before), same run, same machine.

Writes N random 512-d vectors through ``EmbeddingCache.put_frames`` (checksum, model-record
check) and the same vectors as bare float16 with plain LMDB, then reads each back whole:
``frame_matrix`` (which verifies every checksum) against a bare ``frombuffer`` of the values.
Prints bytes per vector and the time ratios (absolute times drift on a shared machine).

Usage: .venv/bin/python bench/cache_integrity.py [--n 20000]
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import time
from pathlib import Path

import lmdb
import numpy as np

from clipvi_tui.core.cache import EmbeddingCache, normalise

FP, MODEL, TAG = "f" * 32, "clip/ViT-B-16", "area224"
BATCH = 64


def bytes_used(env: lmdb.Environment, db: object) -> int:
    """Pages of ``db`` times the page size."""
    with env.begin() as txn:
        st = txn.stat(db)
    return (st["branch_pages"] + st["leaf_pages"] + st["overflow_pages"]) * st["psize"]


def format1(folder: Path, vecs: np.ndarray, order: np.ndarray) -> tuple[float, float, int]:
    """Write and read through the cache; (write s, read s, bytes)."""
    with EmbeddingCache(folder) as cache:
        t0 = time.perf_counter()
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            cache.put_frames(FP, MODEL, TAG, idx.tolist(), vecs[idx])
        write = time.perf_counter() - t0
        t0 = time.perf_counter()
        _, mat = cache.frame_matrix(FP, MODEL, TAG)
        read = time.perf_counter() - t0
        assert mat.shape == vecs.shape
        size = bytes_used(cache._store.env, cache._frames)
    return write, read, size


def format0(folder: Path, vecs: np.ndarray, order: np.ndarray) -> tuple[float, float, int]:
    """The old layout with plain LMDB: bare float16 values, no checks; (write s, read s, bytes)."""
    env = lmdb.open(str(folder), map_size=1 << 32, max_dbs=4)
    db = env.open_db(b"frames")
    prefix = f"{FP}|{MODEL}|{TAG}|".encode()
    blobs = normalise(vecs).astype("<f2")
    t0 = time.perf_counter()
    for start in range(0, len(order), BATCH):
        with env.begin(write=True) as txn:
            for k in order[start : start + BATCH]:
                txn.put(prefix + struct.pack(">Q", int(k)), blobs[k].tobytes(), db=db)
    write = time.perf_counter() - t0
    t0 = time.perf_counter()
    with env.begin() as txn:
        vals = [bytes(v) for _, v in txn.cursor(db=db)]
    mat = np.frombuffer(b"".join(vals), dtype="<f2").reshape(len(vals), -1).astype(np.float32)
    read = time.perf_counter() - t0
    assert mat.shape == vecs.shape
    size = bytes_used(env, db)
    env.close()
    return write, read, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs; the fastest counts")
    args = ap.parse_args()
    n = args.n
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, 512)).astype(np.float32)
    order = rng.permutation(n)  # the indexer writes in playhead order, not key order
    runs: dict[str, list[tuple[float, float, int]]] = {"0": [], "1": []}
    for _ in range(args.repeat):  # alternate, so machine noise hits both alike
        for name, run in (("0", format0), ("1", format1)):
            with tempfile.TemporaryDirectory() as d:
                runs[name].append(run(Path(d), vecs, order))
    w0, r0, s0 = min(x[0] for x in runs["0"]), min(x[1] for x in runs["0"]), runs["0"][0][2]
    w1, r1, s1 = min(x[0] for x in runs["1"]), min(x[1] for x in runs["1"]), runs["1"][0][2]
    print(f"{n} vectors of 512 dims, batches of {BATCH} in playhead (random) order, ", end="")
    print(f"fastest of {args.repeat}")
    print(f"format 0 (bare float16): {s0 / n:6.0f} B/vector  write {w0:6.2f} s  read {r0:6.3f} s")
    print(f"format 1 (checksummed):  {s1 / n:6.0f} B/vector  write {w1:6.2f} s  read {r1:6.3f} s")
    print(f"format 1 / format 0: size {s1 / s0:.3f}x, write {w1 / w0:.2f}x, read {r1 / r0:.2f}x")


if __name__ == "__main__":
    main()
