"""Vector files: export → import round-trips exactly, and bad files are refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.handoff import (
    HandoffError,
    VectorFile,
    export_vectors,
    import_vectors,
    read_vectors,
    write_vectors,
)
from clipvi_tui.core.video import VideoInfo, fingerprint, probe
from tests.support.videos import write_coded_video

MODEL, TAG = "clip/test", "area224"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoInfo, str]:
    path = write_coded_video(tmp_path_factory.mktemp("v") / "v.mp4", frames=40)
    info = probe(path)
    return info, fingerprint(path, info)


def _filled(cache: EmbeddingCache, fp: str, frames: np.ndarray, dim: int, seed: int) -> None:
    vecs = np.random.default_rng(seed).standard_normal((len(frames), dim)).astype(np.float32)
    cache.put_frames(fp, MODEL, TAG, frames.tolist(), vecs)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    frames=st.sets(st.integers(0, 39), min_size=1, max_size=40),
    dim=st.sampled_from([3, 64, 512]),
    seed=st.integers(0, 2**16),
)
def test_export_then_import_into_a_fresh_cache_gives_the_same_bytes(
    tmp_path_factory: pytest.TempPathFactory, video, frames, dim, seed
) -> None:
    info, fp = video
    idx = np.array(sorted(frames), dtype=np.int64)
    root = tmp_path_factory.mktemp("rt")
    with EmbeddingCache(root / "a") as a:
        _filled(a, fp, idx, dim, seed)
        out = export_vectors(a, info, fp, MODEL, TAG, idx)
        _, original = a.frame_matrix(fp, MODEL, TAG)
    write_vectors(root / "v.npz", out)
    back = read_vectors(root / "v.npz", info)
    assert np.array_equal(back.frames, idx)
    assert np.allclose(back.times, info.times_of(idx))
    with EmbeddingCache(root / "b") as b:
        assert import_vectors(b, back, info, fp, MODEL, TAG) == []
        got_idx, got = b.frame_matrix(fp, MODEL, TAG)
    assert np.array_equal(got_idx, idx)
    assert np.array_equal(got, original), "the cache's float16 values must survive the trip"


def _file(info: VideoInfo, **over) -> VectorFile:
    base = {
        "vectors": np.eye(4, 8, dtype=np.float32) + 0.1,
        "frames": np.arange(4),
        "times": info.times_of(np.arange(4)),
        "model_id": MODEL,
        "preprocess": TAG,
    }
    base.update(over)
    return VectorFile(**base)


def test_another_model_is_refused_naming_both(tmp_path: Path, video) -> None:
    info, fp = video
    with EmbeddingCache(tmp_path / "c") as cache, pytest.raises(HandoffError) as err:
        import_vectors(cache, _file(info, model_id="clip/ViT-L-14"), info, fp, MODEL, TAG)
    assert "clip/ViT-L-14" in str(err.value) and MODEL in str(err.value)
    assert "--clip-version ViT-L-14" in str(err.value)


def test_a_dimension_other_than_the_models_is_refused(tmp_path: Path, video) -> None:
    info, fp = video
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_texts(MODEL, ["a prompt"], np.ones((1, 16), np.float32))
        with pytest.raises(HandoffError, match="8-dim vectors, but clip/test makes 16-dim"):
            import_vectors(cache, _file(info), info, fp, MODEL, TAG)
        with pytest.raises(HandoffError, match="makes 32-dim"):
            import_vectors(cache, _file(info), info, fp, MODEL, TAG, expected_dim=32)


def test_this_videos_cached_frames_also_fix_the_dimension(tmp_path: Path, video) -> None:
    info, fp = video
    with EmbeddingCache(tmp_path / "c") as cache:
        _filled(cache, fp, np.arange(3), 12, 0)
        with pytest.raises(HandoffError, match="makes 12-dim"):
            import_vectors(cache, _file(info), info, fp, MODEL, TAG)


def test_another_videos_file_needs_force(tmp_path: Path, video) -> None:
    info, fp = video
    other = _file(info, fingerprint="0" * 32, frame_count=99)
    with EmbeddingCache(tmp_path / "c") as cache:
        with pytest.raises(HandoffError, match=r"another video \(99 frames\).*--force"):
            import_vectors(cache, other, info, fp, MODEL, TAG)
        import_vectors(cache, other, info, fp, MODEL, TAG, force=True)
        assert len(cache.frame_indices(fp, MODEL, TAG)) == 4


def test_other_preprocessing_is_accepted_with_a_note(tmp_path: Path, video) -> None:
    info, fp = video
    with EmbeddingCache(tmp_path / "c") as cache:
        notes = import_vectors(cache, _file(info, preprocess="bicubic224"), info, fp, MODEL, TAG)
    assert len(notes) == 1 and "bicubic224" in notes[0]


def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "needle"),
    [
        ({"frames": np.arange(2)}, "no 'vectors' array"),
        ({"vectors": np.ones((2, 4)), "frames": np.arange(2)}, "does not say which model"),
        (
            {"vectors": np.ones((2, 4)), "frames": np.array([0, 99]), "model_id": MODEL},
            "frame 99 is outside",
        ),
        (
            {"vectors": np.ones((2, 4)), "frames": np.array([3, 3]), "model_id": MODEL},
            "more than once",
        ),
        (
            {"vectors": np.array([[1.0, np.nan]]), "frames": np.array([0]), "model_id": MODEL},
            "zero, NaN or infinite",
        ),
        ({"vectors": np.ones((2, 4)), "model_id": MODEL}, "neither 'frames' nor 'times'"),
        (
            {"vectors": np.ones((2, 4)), "frames": np.arange(3), "model_id": MODEL},
            "'frames' must be 2 whole numbers",
        ),
        ({"vectors": np.ones(4), "frames": np.arange(4), "model_id": MODEL}, "[N, D]"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, video, arrays, needle) -> None:
    info, _ = video
    with pytest.raises(HandoffError) as err:
        read_vectors(_npz(tmp_path / "bad.npz", **arrays), info)
    assert needle in str(err.value)


def test_rows_given_by_time_land_on_the_frame_shown_then(tmp_path: Path, video) -> None:
    info, _ = video
    times = info.times_of(np.array([0, 5, 39])) + 0.01
    path = _npz(tmp_path / "t.npz", vectors=np.ones((3, 4)), times=times, model_id=MODEL)
    assert read_vectors(path, info).frames.tolist() == [0, 5, 39]


def test_not_an_npz_and_missing_files_are_one_line_errors(tmp_path: Path, video) -> None:
    info, _ = video
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(HandoffError, match=r"not a readable \.npz"):
        read_vectors(junk, info)
    with pytest.raises(HandoffError, match="not found"):
        read_vectors(tmp_path / "nope.npz", info)


def test_export_refuses_frames_not_embedded_yet(tmp_path: Path, video) -> None:
    info, fp = video
    with EmbeddingCache(tmp_path / "c") as cache:
        _filled(cache, fp, np.arange(3), 8, 0)
        with pytest.raises(HandoffError, match=r"2 of 5 frames .* not embedded yet"):
            export_vectors(cache, info, fp, MODEL, TAG, np.arange(5))


def test_write_is_atomic_and_reports_a_bad_folder(tmp_path: Path, video) -> None:
    info, _ = video
    with pytest.raises(HandoffError, match="cannot write"):
        write_vectors(tmp_path / "missing" / "v.npz", _file(info))
    write_vectors(tmp_path / "v.npz", _file(info))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".vectors-")] == []
