"""The pieces around the reader: non-reference pictures, conversion pool, thumbnails in the
indexer, thread priority and names."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.conversion import MAX_WAITING, FrameConverter
from clipvi_tui.core.embeddings import upload_frame
from clipvi_tui.core.indexer import Indexer
from clipvi_tui.core.media import h264_disposable, nal_length_size
from clipvi_tui.core.process import limit_malloc_arenas, lower_thread_priority, name_os_thread
from clipvi_tui.core.thumbnails import THUMB_SHORT, decode_thumbnail
from clipvi_tui.core.video import VideoReader, centre_square, probe, shrink_area, to_bgr
from tests.support.videos import write_h264_video


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_h264_video(tmp_path_factory.mktemp("h") / "b.mp4", frames=120, fps=30.0)


class UploadClient:
    """Records what would be uploaded; vectors from the frame's mean colour."""

    model_id = "test/upload"
    preprocess_tag = "area224"
    max_batch = 4
    input_size = 224

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        return upload_frame(frame, self.input_size)

    def embed_images(self, frames: list[np.ndarray]) -> np.ndarray:
        self.shapes.extend(f.shape for f in frames)
        return np.stack([f.reshape(-1, 3).mean(axis=0) + 1 for f in frames]).astype(np.float32)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 3), np.float32)


def test_only_unreferenced_h264_pictures_are_disposable(h264: Path) -> None:
    """Keyframes and P-frames never count as disposable; some B-frames do (x264's b-pyramid
    keeps the middle B as a reference)."""
    with av.open(str(h264)) as container:
        stream = container.streams.video[0]
        size = nal_length_size(bytes(stream.codec_context.extradata))
        flags = [
            (p.is_keyframe, h264_disposable(memoryview(p), size))
            for p in container.demux(stream)
            if p.size
        ]
    assert size == 4
    assert not any(d for key, d in flags if key), "a keyframe is never skipped"
    assert 0.2 < sum(d for _, d in flags) / len(flags) < 0.7


def test_uploads_are_the_centre_square_area_shrunk() -> None:
    """A 16:9 frame uploads as the 224² centre the server keeps; small frames go whole."""
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[:, 280:1000] = 200  # the centre square
    up = upload_frame(frame, 224)
    assert up.shape == (224, 224, 3) and up.min() == 200
    assert upload_frame(up, 224) is up or np.array_equal(upload_frame(up, 224), up)
    small = np.zeros((100, 180, 3), np.uint8)
    assert upload_frame(small, 224) is small
    assert centre_square(frame).shape == (720, 720, 3)
    assert shrink_area(frame, 224).shape == (224, 398, 3)


def test_converter_matches_converting_inline_and_bounds_waiting(h264: Path) -> None:
    """Pool conversions equal the inline conversion; submitting blocks once MAX_WAITING wait."""
    client = UploadClient()
    converter = FrameConverter(0, client.prepare, thumbnails=True)
    info = probe(h264)
    with VideoReader(h264, info) as reader:
        frames = [f for _, f in reader.iter_frames(range(0, 40, 5), lambda f, r: f)]
    try:
        futures = [converter.submit(f) for f in frames]
        for frame, future in zip(frames, futures, strict=True):
            upload, thumb = future.result(5)
            assert np.array_equal(upload, client.prepare(to_bgr(frame)))
            assert thumb is not None and min(decode_thumbnail(thumb).shape[:2]) <= THUMB_SHORT
    finally:
        converter.close()
    gate = threading.Event()
    slow = FrameConverter(0, lambda f: (gate.wait(5), f)[1])
    try:
        for f in frames[:MAX_WAITING]:
            slow.submit(f)
        blocked = threading.Thread(target=slow.submit, args=(frames[0],))
        blocked.start()
        time.sleep(0.2)
        assert blocked.is_alive(), "a fifth frame waits for a converter"
        gate.set()
        blocked.join(5)
        assert not blocked.is_alive()
    finally:
        gate.set()
        slow.close()


def test_indexer_stores_uploads_and_thumbnails(tmp_path: Path, h264: Path) -> None:
    """With thumbnails on, every embedded frame also gets a thumbnail; uploads are 224²."""
    client = UploadClient()
    with EmbeddingCache(tmp_path / "c") as cache:
        indexer = Indexer(h264, client, cache, sample_fps=5.0, thumbnails=True, nice=5)
        final = indexer.run()
        fp = indexer.fingerprint
        assert final.state == "done" and final.done == 20
        assert cache.thumbnail_indices(fp).tolist() == indexer.sampled.tolist()
    assert set(client.shapes) == {(224, 224, 3)}


def test_thread_priority_and_names() -> None:
    """A background thread can lower its own priority and name itself; the main one is kept."""
    seen: dict[str, object] = {}

    def body() -> None:
        seen["lowered"] = lower_thread_priority(5)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        name_os_thread("clipvi-test")
        tid = threading.get_native_id()
        seen["comm"] = Path(f"/proc/self/task/{tid}/comm").read_text().strip()

    before = os.getpriority(os.PRIO_PROCESS, 0)
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen["lowered"] and seen["nice"] == min(19, before + 5)
    assert seen["comm"] == "clipvi-test"
    assert os.getpriority(os.PRIO_PROCESS, 0) == before, "only the calling thread was reniced"
    assert lower_thread_priority(0) is False
    assert isinstance(limit_malloc_arenas(), bool)
