"""The cache never serves or stores a wrong vector: old caches, checksums, dimensions, files.

Every test works on a real LMDB file; damage is done to the bytes of ``data.mdb`` itself.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.core.cache import CacheDamaged, EmbeddingCache, normalise
from clipvi_tui.core.cache_format import ModelRecord, decode_vector, encode_vector
from clipvi_tui.core.failures import ModelMismatch
from tests.support.legacy_cache import (
    FP,
    MODEL,
    TAG,
    damage_values,
    overwrite_head,
    snapshot,
    vectors,
    write_format0,
)


def payloads(v: np.ndarray) -> list[bytes]:
    """The float16 bytes each vector is stored as."""
    return [row.tobytes() for row in normalise(v).astype("<f2")]


def test_a_cache_written_before_checksums_is_read_as_it_was(tmp_path: Path) -> None:
    """Given a format-0 cache (bare float16 values, no model record), everything in it reads
    back, nothing counts as damaged, and new writes (format 1) sit beside the old ones."""
    frames, texts = vectors(30), vectors(2, seed=1)
    write_format0(
        tmp_path / "c",
        frames={(FP, MODEL, TAG): (list(range(30)), frames)},
        texts={MODEL: (["dog", "cat"], texts)},
    )
    with EmbeddingCache(tmp_path / "c") as cache:
        idx, mat = cache.frame_matrix(FP, MODEL, TAG)
        assert idx.tolist() == list(range(30))
        np.testing.assert_allclose(mat, normalise(frames), atol=1e-3)
        found, got = cache.get_texts(MODEL, ["dog", "cat"])
        assert found.all()
        np.testing.assert_allclose(got, normalise(texts), atol=1e-3)
        assert cache.take_damage_report() == 0, "old values are not damage"
        cache.put_frames(FP, MODEL, TAG, [30, 31], vectors(2, seed=2))
        assert cache.frame_indices(FP, MODEL, TAG).tolist() == list(range(32))
        assert cache.model_record(MODEL) is not None and cache.model_record(MODEL).dim == 512


def test_another_dimension_under_an_old_caches_model_id_is_refused(tmp_path: Path) -> None:
    """Given a format-0 cache of 512-dim vectors, 7-dim vectors under the same model id are
    refused and nothing at all is written (the cache's bytes are unchanged)."""
    write_format0(tmp_path / "c", frames={(FP, MODEL, TAG): (list(range(10)), vectors(10))})
    before = snapshot(tmp_path / "c")
    with EmbeddingCache(tmp_path / "c") as cache:
        with pytest.raises(ModelMismatch, match=r"7-dim.*512-dim.*clip_version.*--cache-dir"):
            cache.put_frames("g" * 32, MODEL, TAG, [0, 1], vectors(2, dim=7))
        with pytest.raises(ModelMismatch):
            cache.put_texts(MODEL, ["dog"], vectors(1, dim=7))
    assert snapshot(tmp_path / "c") == before, "a refused write changed the cache"


def test_the_first_dimension_of_a_model_is_recorded_and_kept(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_texts(MODEL, ["dog"], vectors(1))
        with pytest.raises(ModelMismatch):
            cache.put_frames(FP, MODEL, TAG, [0], vectors(1, dim=256))
        cache.put_frames(FP, "clip/other", TAG, [0], vectors(1, dim=256))  # another id: fine
    with EmbeddingCache(tmp_path / "c") as cache:  # the record survives reopening
        assert cache.model_record(MODEL).dim == 512
        assert cache.model_record("clip/other").dim == 256
        with pytest.raises(ModelMismatch):
            cache.put_texts(MODEL, ["cat"], vectors(1, dim=7))


def test_a_cache_poisoned_by_the_old_code_reads_without_crashing(tmp_path: Path) -> None:
    """Given a format-0 cache where the old code stored a broken server's 7-dim vectors beside
    the model's 512-dim ones, the 7-dim rows read as damaged (to be embedded again), not as a
    matrix that breaks every score."""
    write_format0(
        tmp_path / "c",
        frames={
            (FP, MODEL, TAG): (list(range(5)), vectors(5)),
            ("g" * 32, MODEL, TAG): (list(range(4)), vectors(4, dim=7)),
        },
        texts={MODEL: (["dog"], vectors(1))},
    )
    with EmbeddingCache(tmp_path / "c") as cache:
        assert cache.frame_matrix(FP, MODEL, TAG)[1].shape == (5, 512)
        idx, mat = cache.frame_matrix("g" * 32, MODEL, TAG)
        assert idx.size == 0 and mat.size == 0
        assert cache.take_damage_report() == 4
        cache.put_frames("g" * 32, MODEL, TAG, range(4), vectors(4))  # re-embedded: whole again
        assert cache.frame_matrix("g" * 32, MODEL, TAG)[1].shape == (4, 512)


def test_damaged_vectors_read_as_missing_and_are_reported_once(tmp_path: Path) -> None:
    """Given random bytes written into five vectors' bytes inside data.mdb, those frames and
    the damaged prompt read as missing (so they get embedded again), the rest reads exactly,
    and the damage is reported once; rewriting them makes the cache whole again."""
    frames, texts = vectors(40), vectors(3, seed=5)
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_frames(FP, MODEL, TAG, range(40), frames)
        cache.put_texts(MODEL, ["a", "b", "c"], texts)
    bad = [3, 11, 12, 30, 39]
    hit = damage_values(tmp_path / "c" / "data.mdb", payloads(frames[bad]) + payloads(texts[[1]]))
    assert hit == 6, "the damage must land inside the stored vectors"
    with EmbeddingCache(tmp_path / "c") as cache:
        idx = cache.frame_indices(FP, MODEL, TAG)
        assert sorted(set(range(40)) - set(idx.tolist())) == bad
        found, _ = cache.get_texts(MODEL, ["a", "b", "c"])
        assert found.tolist() == [True, False, True]
        good = [k for k in range(40) if k not in bad]
        _, mat = cache.frame_matrix(FP, MODEL, TAG)
        np.testing.assert_allclose(mat, normalise(frames[good]), atol=1e-3)
        assert cache.take_damage_report() == 6
        assert cache.take_damage_report() == 0, "reported once"
        cache.frame_indices(FP, MODEL, TAG)
        assert cache.take_damage_report() == 0, "the same entries are not reported again"
        cache.put_frames(FP, MODEL, TAG, bad, frames[bad])
        cache.put_texts(MODEL, ["b"], texts[[1]])
        assert cache.frame_indices(FP, MODEL, TAG).size == 40
        assert cache.get_texts(MODEL, ["b"])[0].all()


def test_format1_values_carry_their_key_in_the_checksum() -> None:
    blob = encode_vector(b"k1", np.ones(4, dtype="<f2"))
    assert len(blob) % 2 == 1, "format 1 is odd-length, format 0 even"
    assert decode_vector(b"k1", blob) is not None
    assert decode_vector(b"k2", blob) is None, "a value moved to another key is damage"
    assert decode_vector(b"k1", blob, dim=8) is None, "another size than the model's is damage"
    assert decode_vector(b"k1", np.ones(4, dtype="<f2").tobytes()) is not None, "format 0"
    assert decode_vector(b"k1", b"") is None


def test_model_records_round_trip_and_garbage_reads_as_absent() -> None:
    rec = ModelRecord(4, np.arange(4, dtype=np.float32))
    back = ModelRecord.from_bytes(rec.to_bytes())
    assert back is not None and back.dim == 4 and np.array_equal(back.probe, rec.probe)
    assert ModelRecord.from_bytes(b"\xff\x00garbage") is None
    assert ModelRecord.from_bytes(b'{"dim": 0}') is None


def test_cache_folder_is_0700_and_its_files_0600(tmp_path: Path) -> None:
    """Prompts are stored in plain text: only the owner may read the cache."""
    with EmbeddingCache(tmp_path / "new" / "c") as cache:
        cache.put_texts(MODEL, ["my secret prompt"], vectors(1))
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "new" / "c") == 0o700
    assert mode(tmp_path / "new" / "c" / "data.mdb") == 0o600
    assert mode(tmp_path / "new" / "c" / "lock.mdb") == 0o600

    # A cache made by an older version (755/644) is tightened when opened.
    old = write_format0(tmp_path / "old", texts={MODEL: (["dog"], vectors(1))})
    os.chmod(old, 0o755)
    os.chmod(old / "data.mdb", 0o644)
    EmbeddingCache(old).close()
    assert mode(old) == 0o700 and mode(old / "data.mdb") == 0o600


def test_a_damaged_data_file_is_one_clear_error(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_frames(FP, MODEL, TAG, range(10), vectors(10))
    overwrite_head(tmp_path / "c" / "data.mdb")
    with pytest.raises(CacheDamaged) as info:
        EmbeddingCache(tmp_path / "c")
    message = str(info.value)
    assert str(tmp_path / "c" / "data.mdb") in message and "delete the folder" in message
    assert "\n" not in message


CUT_OFF = """
import sys
from clipvi_tui.core.cache import CacheError, EmbeddingCache
try:
    with EmbeddingCache(sys.argv[1]) as c:
        c.frame_matrix("f" * 32, "clip/test", "area224")
except CacheError as exc:
    print(exc)
"""


def test_a_cut_off_data_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """LMDB maps the file: reading a page past a truncated end is SIGBUS, so the length is
    checked first (in a child process, so a crash could not take the test run down)."""
    with EmbeddingCache(tmp_path / "c") as cache:
        cache.put_frames(FP, MODEL, TAG, range(300), vectors(300))
    data = tmp_path / "c" / "data.mdb"
    os.truncate(data, data.stat().st_size // 3)
    out = subprocess.run(
        [sys.executable, "-c", CUT_OFF, str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, f"the reader crashed (signal {-out.returncode}): {out.stderr}"
    assert "is damaged (it is cut off" in out.stdout and str(data) in out.stdout
