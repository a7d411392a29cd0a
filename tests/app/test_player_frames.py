"""The player's frame pipeline without a terminal: clock by timestamps, renderer, pump, previews.

Videos are PyAV-written H.264 with a 250-frame GOP and B-frames whose frames carry their index
as a bit code (tests/support/videos.py), so each test checks which frame really came out.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.thumbnails import decode_thumbnail, fill_thumbnails
from clipvi_tui.core.video import DecodeInterrupted, probe, sample_indices
from clipvi_tui.player.clock import PlaybackClock
from clipvi_tui.player.frames import FrameMailbox, FrameRequest, pump_frames
from clipvi_tui.player.messages import FrameDecoded
from clipvi_tui.player.renderer import FrameRenderer
from tests.support.videos import read_code, vfr_times, write_h264_video


def code_of(rgb: np.ndarray) -> int:
    """The bit code of a frame rendered as RGB (the code reader takes BGR, colours are grey)."""
    return read_code(rgb[..., ::-1])


@pytest.fixture(scope="module")
def long_gop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 frames at 30 fps, 320×240, one keyframe every 250 frames, 3 B-frames."""
    return write_h264_video(tmp_path_factory.mktemp("gop") / "gop.mp4", frames=300, fps=30.0)


def renderer_for(video: Path, **kwargs: Any) -> FrameRenderer:
    """A renderer whose 'prepared' image is the scaled RGB array itself (big enough to read)."""
    info = probe(video)
    return FrameRenderer(video, "kitty", (8, 16), lambda rgb: rgb, info=info, **kwargs)


def test_vfr_plays_at_real_speed() -> None:
    """A 30/10/15 fps clip: one second of wall time is one second of video in every section."""
    times = np.asarray(vfr_times([(30.0, 60), (10.0, 20), (15.0, 30)]))
    clock = PlaybackClock(fps=18.6, frame_count=len(times), times=times)
    clock.start(0, now=100.0)
    assert clock.position(101.0) == 30, "30 fps section: 30 frames in a second"
    assert clock.position(102.5) == 65, "2.5 s is in the 10 fps section: frame 60 + 5"
    assert clock.position(104.5) == 87, "4.5 s is in the 15 fps section: frame 80 + 7"
    clock.start(60, now=200.0)
    assert clock.position(201.0) == 70, "from frame 60 (2 s), 1 s later is 3 s: 10 frames"
    assert clock.tick_hz == pytest.approx(30.0)


def test_renderer_shows_the_exact_frame_and_caches_it(long_gop: Path) -> None:
    """Random frames come out exact; a frame asked for again is served from the cache."""
    with renderer_for(long_gop) as renderer:
        for k in (0, 299, 120, 121, 7):
            got = renderer.render(FrameRequest(k, 0, 40, 15)).image
            assert code_of(got) == k
        again = renderer.render(FrameRequest(120, 0, 40, 15))
        assert code_of(again.image) == 120
        assert not renderer.expensive(FrameRequest(120, 0, 40, 15)), "cached: no preview needed"
        assert renderer.expensive(FrameRequest(240, 0, 40, 15)), "a seek back through the GOP"


def test_a_newer_seek_interrupts_a_long_decode(long_gop: Path) -> None:
    """Decoding from the keyframe to frame 240 stops as soon as the interrupt answers True."""
    calls = []

    def interrupt() -> bool:
        calls.append(1)
        return len(calls) > 5

    with renderer_for(long_gop) as renderer:
        renderer.render(FrameRequest(10, 0, 40, 15))
        with pytest.raises(DecodeInterrupted):
            renderer.render(FrameRequest(240, 1, 40, 15), interrupt)
        assert code_of(renderer.render(FrameRequest(241, 2, 40, 15)).image) == 241


def test_prefetch_prepares_frames_ahead(long_gop: Path) -> None:
    """While playing, frames decoded ahead are rendered without decoding again."""
    with renderer_for(long_gop) as renderer:
        renderer.render(FrameRequest(50, 0, 40, 15, True))
        for k in range(51, 55):
            renderer.prefetch(FrameRequest(k, 0, 40, 15, True), lambda: False)
        decoded = renderer._reader.decoded
        for k in range(51, 55):
            assert code_of(renderer.render(FrameRequest(k, 0, 40, 15, True)).image) == k
        assert renderer._reader.decoded == decoded, "prefetched frames were decoded again"


def test_a_long_seek_shows_the_nearest_thumbnail_first(tmp_path: Path, long_gop: Path) -> None:
    """With thumbnails cached, a seek through the GOP posts a preview, then the exact frame."""
    info = probe(long_gop)
    sampled = sample_indices(info, 5.0)
    with EmbeddingCache(tmp_path / "cache") as cache:
        assert fill_thumbnails(info, cache, sampled, 0, lambda: False) == len(sampled)
        assert fill_thumbnails(info, cache, sampled, 0, lambda: False) == 0, "made once"
        blob = cache.get_thumbnail(info.fingerprint or "", 246)
        assert blob is not None and code_of(_grown(decode_thumbnail(blob))) == 246

        def thumbnail(frame: int) -> bytes | None:
            return cache.get_thumbnail(info.fingerprint or "", frame)

        renderer = renderer_for(long_gop, sampled=sampled, thumbnail=thumbnail)
        mailbox, posted = FrameMailbox(), []
        done = threading.Event()

        def post(message: Any) -> None:
            posted.append(message)
            mailbox.painted()
            if isinstance(message, FrameDecoded) and not message.preview:
                done.set()

        with renderer:
            renderer.render(FrameRequest(260, 0, 40, 15))  # the decoder is past frame 245 now
            worker = threading.Thread(
                target=pump_frames, args=(mailbox, renderer, post, lambda: done.is_set())
            )
            worker.start()
            mailbox.request(FrameRequest(245, 1, 40, 15))
            assert done.wait(10)
            mailbox.close()
            worker.join(5)
    kinds = [(m.preview, m.decoded.request.frame) for m in posted]
    assert kinds == [(True, 245), (False, 245)], "a preview first, then the exact frame"
    assert code_of(posted[1].decoded.image) == 245
    assert code_of(posted[0].decoded.image) in (240, 246), "the nearest sampled frame"


def _grown(rgb: np.ndarray | None) -> np.ndarray:
    """A thumbnail scaled back to the code's size (the code blocks are 16 px at 320 wide)."""
    import cv2

    assert rgb is not None
    return cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_NEAREST)
