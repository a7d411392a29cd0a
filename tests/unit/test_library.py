"""A library: finding videos by file, folder and glob; its state; indexing it resumably."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import ServerUnreachable
from clipvi_tui.core.library import LibraryError, find_videos, scan_library
from clipvi_tui.core.library_index import LibraryIndexer, LibraryProgress, VideoIndexed
from tests.support.videos import write_coded_video
from tests.unit.test_indexer import CodeClient


@pytest.fixture
def shelf(tmp_path: Path) -> Path:
    """a.mp4, sub/b.MOV, sub/deeper/c.mkv, plus things that are not videos or are hidden."""
    root = tmp_path / "shelf"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    write_coded_video(root / "a.mp4", frames=12)
    write_coded_video(root / "sub" / "b.MOV", frames=8)
    write_coded_video(root / "sub" / "deeper" / "c.mkv", frames=10)
    write_coded_video(root / ".hidden" / "d.mp4", frames=4)
    (root / "notes.txt").write_text("not a video")
    (root / ".e.mp4").write_bytes(b"")
    return root


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_a_folder_is_searched_recursively_by_extension(shelf: Path) -> None:
    assert names(find_videos([shelf])) == ["a.mp4", "b.MOV", "c.mkv"]


def test_globs_files_and_folders_mix_and_repeat_once(shelf: Path) -> None:
    found = find_videos([str(shelf / "sub" / "**" / "*.mkv"), shelf / "a.mp4", shelf])
    assert names(found) == ["c.mkv", "a.mp4", "b.MOV"]
    assert all(p.is_absolute() for p in found)


def test_an_explicit_file_is_taken_whatever_its_extension(shelf: Path) -> None:
    assert names(find_videos([shelf / "notes.txt"])) == ["notes.txt"]


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("missing.mp4", "no such file or folder: "),
        ("*.nothing", "no videos match"),
    ],
)
def test_paths_that_name_no_video_are_errors(shelf: Path, arg: str, needle: str) -> None:
    with pytest.raises(LibraryError, match=needle):
        find_videos([str(shelf / arg)])


def test_an_empty_folder_says_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match=r"no video files in .*\.mp4"):
        find_videos([tmp_path])
    with pytest.raises(LibraryError, match="no videos given"):
        find_videos([])


def test_scan_reports_new_partial_indexed_and_unreadable(shelf: Path, tmp_path: Path) -> None:
    client = CodeClient()
    broken = shelf / "notes.txt"
    with EmbeddingCache(tmp_path / "cache") as cache:
        videos = [*find_videos([shelf]), broken]
        first = scan_library(videos, cache, client.model_id, client.preprocess_tag, None)
        assert [e.state for e in first] == ["new", "new", "new", "error"]
        assert first[0].total == 12 and first[0].duration == pytest.approx(1.2)
        assert "notes.txt" in (first[3].error or "")
        cache.put_frames(first[0].fingerprint, client.model_id, "raw", list(range(12)), np.eye(12))
        cache.put_frames(first[1].fingerprint, client.model_id, "raw", [0, 1], np.eye(2, 12))
        again = scan_library(videos, cache, client.model_id, client.preprocess_tag, None)
        assert [e.state for e in again] == ["indexed", "partial", "new", "error"]
        assert again[1].cached == 2


def run_library(
    videos: list[Path], cache: EmbeddingCache, client: CodeClient, jobs: int = 1
) -> tuple[list[VideoIndexed], list[LibraryProgress], list[VideoIndexed]]:
    entries = scan_library(videos, cache, client.model_id, client.preprocess_tag, None)
    progress: list[LibraryProgress] = []
    lines: list[VideoIndexed] = []
    runner = LibraryIndexer(
        entries,
        client,
        cache,
        sample_fps=None,
        jobs=jobs,
        on_progress=progress.append,
        on_video=lines.append,
    )
    return runner.run(), progress, lines


@pytest.mark.parametrize("jobs", [1, 3])
def test_every_frame_of_every_video_is_indexed_and_a_rerun_embeds_nothing(
    shelf: Path, tmp_path: Path, jobs: int
) -> None:
    client = CodeClient()
    videos = find_videos([shelf])
    with EmbeddingCache(tmp_path / "cache") as cache:
        results, progress, lines = run_library(videos, cache, client, jobs)
        assert [r.state for r in results] == ["done"] * 3
        assert [r.embedded_now for r in results] == [12, 8, 10]
        assert sorted(names([r.path for r in lines])) == ["a.mp4", "b.MOV", "c.mkv"]
        last = progress[-1]
        assert (last.frames_done, last.frames_total, last.videos_done) == (30, 30, 3)
        assert all(a.frames_done <= b.frames_done for a, b in itertools.pairwise(progress)), (
            "the overall bar never goes backwards"
        )
        seen = len(client.seen)
        again, _, _ = run_library(videos, cache, client, jobs)
        assert [r.embedded_now for r in again] == [0, 0, 0]
        assert len(client.seen) == seen, "a rerun sends nothing"


def test_a_half_indexed_library_resumes_where_it_stopped(shelf: Path, tmp_path: Path) -> None:
    client = CodeClient()
    videos = find_videos([shelf])
    with EmbeddingCache(tmp_path / "cache") as cache:
        entries = scan_library(videos, cache, client.model_id, client.preprocess_tag, None)
        cache.put_frames(entries[0].fingerprint, client.model_id, "raw", [0, 1, 2], np.eye(3, 64))
        results, _, _ = run_library(videos, cache, client)
    assert [r.embedded_now for r in results] == [9, 8, 10]
    assert 0 not in client.seen[:9] and sorted(client.seen[:9]) == list(range(3, 12))


def test_an_unreadable_video_is_reported_and_the_rest_indexed(shelf: Path, tmp_path: Path) -> None:
    client = CodeClient()
    videos = [shelf / "notes.txt", *find_videos([shelf])]
    with EmbeddingCache(tmp_path / "cache") as cache:
        results, _, lines = run_library(videos, cache, client)
    assert [r.state for r in results] == ["failed", "done", "done", "done"]
    assert "notes.txt" in (results[0].error or "")
    assert len(lines) == 4


def test_a_server_that_fails_for_good_stops_the_library(shelf: Path, tmp_path: Path) -> None:
    class Dead(CodeClient):
        def embed_images(self, frames):
            raise ServerUnreachable("cannot reach the Inference server at http://x")

    videos = find_videos([shelf])
    with EmbeddingCache(tmp_path / "cache") as cache:
        results, _, _ = run_library(videos, cache, Dead(), jobs=1)
    assert results[0].state == "failed" and "cannot reach" in (results[0].error or "")
    assert [r.state for r in results[1:]] == ["failed", "failed"], "not tried one by one"
    assert all("cannot reach" in (r.error or "") for r in results)
