"""Bytes per vector in LMDB: float16 (what the cache stores) against float32.

Writes N random 512-d vectors both ways with the same key layout and prints the pages used.

Usage: .venv/bin/python bench/cache_size.py [--n 20000]
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import time

import lmdb
import numpy as np


def store(n: int, dtype: str) -> tuple[int, int, float]:
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, 512)).astype(dtype)
    order = rng.permutation(n)  # the indexer writes in playhead order, not key order
    with tempfile.TemporaryDirectory() as d:
        env = lmdb.open(d, map_size=1 << 32)
        t0 = time.perf_counter()
        prefix = b"f" * 32 + b"|clip/ViT-B-16|area224|"
        for start in range(0, n, 64):
            with env.begin(write=True) as txn:
                for k in order[start : start + 64]:
                    txn.put(prefix + struct.pack(">Q", int(k)), vecs[k].tobytes())
        secs = time.perf_counter() - t0
        st = env.stat()
        pages = st["branch_pages"] + st["leaf_pages"] + st["overflow_pages"]
        env.close()
    return pages * st["psize"], st["overflow_pages"], n / secs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    n = ap.parse_args().n
    f32, o32, r32 = store(n, "float32")
    f16, o16, r16 = store(n, "float16")
    print(f"{n} vectors of 512 dims, batched writes in playhead (random) order")
    print(f"float32: {f32 / n:7.0f} B/vector, {o32} overflow pages, {r32:9.0f} puts/s")
    print(f"float16: {f16 / n:7.0f} B/vector, {o16} overflow pages, {r16:9.0f} puts/s")
    print(f"float16 / float32 size: {f16 / f32:.2f}x")


if __name__ == "__main__":
    main()
