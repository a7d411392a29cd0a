"""The LMDB cache: round trips, prefix scans, growth, other processes, compact storage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache, normalise

FP, MODEL, TAG = "f" * 32, "clip/test", "area224"


def vectors(n: int, dim: int = 512, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def test_frames_round_trip_normalised(tmp_path: Path) -> None:
    v = vectors(20)
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_frames(FP, MODEL, TAG, range(0, 40, 2), v)
        found, got = cache.get_frames(FP, MODEL, TAG, [0, 1, 2, 38])
        assert found.tolist() == [True, False, True, True]
        assert np.isnan(got[1]).all()
        np.testing.assert_allclose(got[[0, 2, 3]], normalise(v[[0, 1, 19]]), atol=1e-3)
        idx, mat = cache.frame_matrix(FP, MODEL, TAG)
        assert idx.tolist() == list(range(0, 40, 2))
        assert mat.shape == (20, 512)


def test_float16_storage_keeps_cosines_within_1e4(tmp_path: Path) -> None:
    """Why float16 is safe: cosines from stored vectors match float32 cosines closely."""
    frames, texts = vectors(200, seed=1), vectors(5, seed=2)
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_frames(FP, MODEL, TAG, range(200), frames)
        cache.put_texts(MODEL, [f"p{i}" for i in range(5)], texts)
        _, f = cache.frame_matrix(FP, MODEL, TAG)
        _, t = cache.get_texts(MODEL, [f"p{i}" for i in range(5)])
    exact = normalise(frames) @ normalise(texts).T
    assert np.abs(f @ t.T - exact).max() < 1e-4


def test_keys_separate_videos_models_and_preprocessing(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_frames(FP, MODEL, TAG, [1], vectors(1))
        assert cache.frame_indices("g" * 32, MODEL, TAG).size == 0
        assert cache.frame_indices(FP, "clip/other", TAG).size == 0
        assert cache.frame_indices(FP, MODEL, "area336").size == 0
        assert cache.frame_indices(FP, MODEL, TAG).tolist() == [1]


def test_texts_and_long_prompts(tmp_path: Path) -> None:
    long_prompt = "word " * 300
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_texts(MODEL, ["dog", long_prompt], vectors(2))
        found, got = cache.get_texts(MODEL, ["dog", "cat", long_prompt])
    assert found.tolist() == [True, False, True]
    assert got.shape == (3, 512)


def test_map_grows_when_full_and_keeps_data(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c", map_size=1 << 20) as cache:
        for chunk in range(10):
            cache.put_frames(FP, MODEL, TAG, range(chunk * 500, chunk * 500 + 500), vectors(500))
        assert cache.map_size > 1 << 20
        assert cache.frame_indices(FP, MODEL, TAG).size == 5000


def test_vectors_stay_inline_no_overflow_pages(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_frames(FP, MODEL, TAG, range(1000), vectors(1000))
        stats = cache.stats()
    assert stats["overflow_pages"] == 0, "float16 x 512 should fit in a node"
    # float32 would take a 4 KiB overflow page per vector; float16 packs two per leaf page.
    assert stats["bytes_used"] < 1000 * 2200


READER = """
import sys, numpy as np
from clipvi_tui.core.cache import EmbeddingCache
c = EmbeddingCache(sys.argv[1])
print(c.frame_indices(sys.argv[2], sys.argv[3], sys.argv[4]).size)
"""


def test_another_process_reads_while_this_one_grows_the_map(tmp_path: Path) -> None:
    """A reader in another process sees all data after the writer grew the map."""
    with EmbeddingCache(tmp_path / "c", map_size=1 << 20) as cache:
        cache.put_frames(FP, MODEL, TAG, range(100), vectors(100))
        for chunk in range(1, 8):
            cache.put_frames(FP, MODEL, TAG, range(chunk * 500, chunk * 500 + 500), vectors(500))
        out = subprocess.run(
            [sys.executable, "-c", READER, str(tmp_path / "c"), FP, MODEL, TAG],
            capture_output=True,
            text=True,
            check=True,
        )
    assert out.stdout.strip() == str(100 + 7 * 500)


def test_unwritable_cache_dir_is_a_clear_error(tmp_path: Path) -> None:
    from clipvi_tui.core.cache import CacheError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError, match="cannot open cache"):
        EmbeddingCache(blocker / "sub")
