"""The indexer pipeline: completeness, playhead priority, skipping cached frames, cancel, retry.

These drive the pipeline with a local in-process client that computes a vector from the frame's
own bit code, so ordering and content can be checked exactly. The real server is exercised in
``tests/integration``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import ServerUnreachable
from clipvi_tui.core.indexer import Indexer, Progress, prompt_vectors
from clipvi_tui.core.video import fingerprint, probe
from tests.support.videos import read_code


class CodeClient:
    """Embeds a frame as a one-hot of its drawn index; records the order it saw frames in."""

    model_id = "test/code"
    preprocess_tag = "raw"
    max_batch = 4

    def __init__(self, fail_first: int = 0, dim: int = 64, delay: float = 0.0) -> None:
        self.seen: list[int] = []
        self.delay = delay
        self.fail_first = fail_first
        self.dim = dim
        self.lock = threading.Lock()

    def embed_images(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)  # a server takes time; lets the test observe ordering
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                raise ServerUnreachable("down for the test")
            codes = [read_code(f) for f in frames]
            self.seen.extend(codes)
        out = np.zeros((len(frames), self.dim), np.float32)
        out[np.arange(len(frames)), [c % self.dim for c in codes]] = 1.0
        return out

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), self.dim), np.float32)


def test_indexes_every_sampled_frame_with_the_right_vector(
    tmp_path: Path, coded_video: Path
) -> None:
    client = CodeClient()
    with EmbeddingCache(tmp_path / "c") as cache:
        final = Indexer(coded_video, client, cache, sample_fps=5.0).run()
        assert final.state == "done" and final.done == final.total == 30
        fp = fingerprint(coded_video, probe(coded_video))
        idx, vecs = cache.frame_matrix(fp, client.model_id, client.preprocess_tag)
    assert idx.tolist() == list(range(0, 60, 2))
    assert (vecs.argmax(axis=1) == idx % 64).all(), (
        "a frame's vector was stored under another index"
    )


def test_second_run_embeds_nothing(tmp_path: Path, coded_video: Path) -> None:
    with EmbeddingCache(tmp_path / "c") as cache:
        Indexer(coded_video, CodeClient(), cache, sample_fps=None).run()
        again = CodeClient()
        final = Indexer(coded_video, again, cache, sample_fps=5.0).run()
    assert final.state == "done" and again.seen == [], "cached frames were embedded again"


def test_playhead_goes_first_then_wraps(tmp_path: Path, coded_video: Path) -> None:
    client = CodeClient()
    with EmbeddingCache(tmp_path / "c") as cache:
        indexer = Indexer(coded_video, client, cache, sample_fps=None, concurrency=1)
        indexer.set_playhead(40)
        indexer.run()
    assert sorted(client.seen) == list(range(60))
    assert client.seen[:20] == list(range(40, 60)), "frames after the playhead were not first"


def test_moving_the_playhead_mid_run_reprioritises(tmp_path: Path, coded_video: Path) -> None:
    client = CodeClient(delay=0.02)
    with EmbeddingCache(tmp_path / "c") as cache:
        indexer = Indexer(coded_video, client, cache, sample_fps=None, concurrency=1)
        moved = threading.Event()

        def on_progress(p: Progress) -> None:
            if p.done >= 8 and not moved.is_set():
                indexer.set_playhead(50)
                moved.set()

        indexer.on_progress = on_progress
        indexer.run()
    # After the move, frames from 50 on come next: batches decoded before the seek are thrown
    # back, so at most the batch being embedded at that moment (4 frames) comes in between.
    first_after = client.seen.index(50)
    assert first_after <= 8 + 4 * 2, f"playhead move ignored: order {client.seen}"


def test_cancel_keeps_what_was_done(tmp_path: Path, coded_video: Path) -> None:
    client = CodeClient(delay=0.02)  # a server takes time: the cancel lands mid-run
    with EmbeddingCache(tmp_path / "c") as cache:
        indexer = Indexer(coded_video, client, cache, sample_fps=None, concurrency=1)

        def on_progress(p: Progress) -> None:
            if p.done >= 8:
                indexer.cancel()

        indexer.on_progress = on_progress
        final = indexer.run()
        fp = fingerprint(coded_video, probe(coded_video))
        stored = cache.frame_indices(fp, client.model_id, client.preprocess_tag)
    assert final.state == "cancelled"
    assert 8 <= len(stored) < 60 and len(stored) == final.done


def test_keeps_retrying_while_the_server_is_down(tmp_path: Path, coded_video: Path) -> None:
    client = CodeClient(fail_first=3)
    states: list[str] = []
    with EmbeddingCache(tmp_path / "c") as cache:
        indexer = Indexer(
            coded_video,
            client,
            cache,
            sample_fps=5.0,
            keep_retrying=True,
            on_progress=lambda p: states.append(p.state),
        )
        final = indexer.run()
    assert final.state == "done" and final.done == 30
    assert "retrying" in states, "server trouble was not reported"


def test_fails_cleanly_without_keep_retrying(tmp_path: Path, coded_video: Path) -> None:
    client = CodeClient(fail_first=1000)
    with EmbeddingCache(tmp_path / "c") as cache:
        indexer = Indexer(coded_video, client, cache, sample_fps=5.0)
        final = indexer.run()
    assert final.state == "failed"
    assert isinstance(indexer.last_exception, ServerUnreachable)


def test_prompt_vectors_embed_only_missing(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    class TextClient(CodeClient):
        def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
            calls.append(list(texts))
            return np.ones((len(texts), 8), np.float32)

    client = TextClient()
    with EmbeddingCache(tmp_path / "c") as cache:
        prompt_vectors(client, cache, ["a", "b"])
        vecs = prompt_vectors(client, cache, ["b", "c", "a"])
    assert calls == [["a", "b"], ["c"]]
    assert vecs.shape == (3, 8)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_results_are_complete_under_concurrency(
    tmp_path: Path, coded_video: Path, concurrency: int
) -> None:
    client = CodeClient()
    with EmbeddingCache(tmp_path / "c") as cache:
        final = Indexer(coded_video, client, cache, sample_fps=None, concurrency=concurrency).run()
    assert final.done == 60 and sorted(client.seen) == list(range(60))
