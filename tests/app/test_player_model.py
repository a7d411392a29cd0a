"""Unit tests of the player's pure parts: score board, clock, frame mailbox, geometry, helpers."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from clipvi_tui.core.indexer import Progress
from clipvi_tui.player.clock import PlaybackClock
from clipvi_tui.player.colours import PALETTE
from clipvi_tui.player.context import Abandoned, run_abandonable
from clipvi_tui.player.display import FrameDisplay
from clipvi_tui.player.frames import ACK_TIMEOUT_S, DecodedFrame, FrameMailbox, FrameRequest
from clipvi_tui.player.geometry import FrameGeometry, fit_frame
from clipvi_tui.player.messages import IndexProgressed, ServerStateChanged
from clipvi_tui.player.scoreboard import READY, REJECTED, ScoreBoard
from clipvi_tui.player.stats import PlayerStats


def _board() -> ScoreBoard:
    return ScoreBoard(np.arange(0, 20, 2), fps=10.0)  # 10 sampled frames: 0, 2, … 18


def test_board_scores_new_prompt_over_cached_frames() -> None:
    """Given frames already embedded, a prompt's vector scores all of them at once; frames
    embedded later are scored incrementally; unsampled frames are ignored."""
    board = _board()
    vecs = np.eye(3, dtype=np.float32)[[0, 1, 0]]
    assert board.add_frames(np.array([0, 2, 3]), vecs) == 2, "frame 3 is not sampled"
    i, added = board.add_prompt("x")
    assert (i, added) == (0, True)
    assert board.pending() == ["x"]
    board.set_vector("x", np.array([1.0, 0.0, 0.0]))
    entry = board.prompts[0]
    assert entry.state == READY
    assert entry.scores[0] == pytest.approx(1.0) and entry.scores[1] == pytest.approx(0.0)
    assert np.isnan(entry.scores[2:]).all(), "not embedded yet: NaN, never 0"
    board.add_frames(np.array([4]), np.array([[2.0, 0.0, 0.0]]))
    assert entry.scores[2] == pytest.approx(1.0), "new rows are scored (normalised) on arrival"
    assert board.embedded == 3


def test_board_prompt_list_operations() -> None:
    """Duplicates are not added twice, colours stay with their prompt, toggle/remove work."""
    board = _board()
    board.add_prompt("a")
    board.add_prompt("b")
    board.toggle(0)
    assert board.add_prompt("  a ") == (0, False)
    assert board.prompts[0].visible, "re-adding a hidden prompt shows it again"
    colour_b = board.prompts[1].color
    board.remove_prompt(0)
    board.add_prompt("c")
    assert board.prompts[0].color == colour_b
    assert board.prompts[1].color != colour_b
    assert board.toggle(5) is None and board.remove_prompt(5) is None
    board.mark("c", REJECTED, "too long")
    assert board.prompts[1].state == REJECTED and board.pending() == ["b"]
    assert not board.set_vector("gone", np.ones(3)), "a deleted prompt's late vector is ignored"
    for n in range(20):
        board.add_prompt(f"p{n}")
    assert {e.color for e in board.prompts} == set(PALETTE)


def test_board_positions() -> None:
    """Stepping goes from sampled frame to sampled frame; scores_at reads the last sample."""
    board = _board()
    assert board.step(0, 1) == 2 and board.step(3, 1) == 4 and board.step(18, 1) == 18
    assert board.step(4, -1) == 2 and board.step(3, -1) == 2 and board.step(0, -1) == 0
    assert board.position_of(5) == 2
    assert board.nearest_sampled(0.33) == 4 and board.nearest_sampled(99) == 18
    board.add_prompt("a")
    assert np.isnan(board.scores_at(5)[0])


def test_clock_follows_wall_time_and_stops_at_the_end() -> None:
    """The position depends on elapsed time only (late ticks skip frames, never slow time)."""
    clock = PlaybackClock(fps=25.0, frame_count=100)
    clock.start(10, now=1000.0)
    assert clock.position(1000.0) == 10
    assert clock.position(1001.0) == 35, "one second later is 25 frames later, however many ticks"
    assert clock.position(1100.0) == 99 and clock.at_end(99)
    assert clock.position(999.0) == 10


def test_mailbox_keeps_only_the_latest_request_and_one_in_flight() -> None:
    """Requests made while the decoder is busy collapse into the newest; a decoded frame is handed
    over only after the UI acknowledged the previous paint (or after the ack timeout); a frame
    overtaken by a newer seek is not handed over at all."""
    box = FrameMailbox()
    box.request(FrameRequest(1, 0, 10, 5))
    first = box.take(0.1)
    assert first == FrameRequest(1, 0, 10, 5)
    assert box.claim(first)
    for k in range(2, 6):
        box.request(FrameRequest(k, 0, 10, 5))
    nxt = box.take(0.1)
    assert nxt == FrameRequest(5, 0, 10, 5), "only the newest request survives"
    assert box.take(0.05) is None
    done = threading.Event()
    threading.Timer(0.1, lambda: (box.painted(), done.set())).start()
    started = time.monotonic()
    assert box.claim(nxt), "handed over once the previous frame is painted"
    assert done.is_set() and time.monotonic() - started >= 0.09
    started = time.monotonic()
    assert box.claim(FrameRequest(6, 0, 10, 5)), "a lost ack delays, not deadlocks"
    assert time.monotonic() - started >= ACK_TIMEOUT_S * 0.9
    box.painted()
    box.request(FrameRequest(9, 1, 10, 5))
    assert not box.claim(FrameRequest(7, 0, 10, 5)), "overtaken by a newer seek"
    box.close()
    assert box.take(0.1) is None and box.closed and not box.claim(FrameRequest(9, 1, 10, 5))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("halfcell", (71, 20, 71, 40)),
        ("unicode", (71, 20, 71, 20)),
        ("kitty", (71, 20, 710, 400)),
    ],
)
def test_fit_frame_keeps_aspect(mode: str, expected: tuple[int, int, int, int]) -> None:
    """A 16:9 frame in an 80×20 box is limited by height; pixel sizes match each renderer."""
    cell = (1, 2) if mode != "kitty" else (10, 20)
    geo = fit_frame(mode, 1920, 1080, 80, 20, cell)
    assert (geo.cells_w, geo.cells_h, geo.pixels_w, geo.pixels_h) == expected


def test_progress_and_server_messages_coalesce() -> None:
    """A queued progress report is replaced by a newer one (the queue never backs up)."""
    old = IndexProgressed(Progress(done=1, total=9))
    new = IndexProgressed(Progress(done=2, total=9))
    assert old.can_replace(new)
    assert not old.can_replace(ServerStateChanged("connected"))
    assert ServerStateChanged("retrying").can_replace(ServerStateChanged("connected"))


def test_run_abandonable_returns_raises_and_gives_up() -> None:
    """Results and errors come back; a cancelled wait gives up after the grace period."""
    assert run_abandonable(lambda: 42, lambda: False) == 42
    with pytest.raises(KeyError):
        run_abandonable(lambda: {}["x"], lambda: False)
    release = threading.Event()
    stopped: list[bool] = []
    started = time.monotonic()
    with pytest.raises(Abandoned):
        run_abandonable(
            lambda: release.wait(30), lambda: True, on_cancel=lambda: stopped.append(True)
        )
    assert stopped == [True] and time.monotonic() - started < 2.0
    release.set()


def test_frame_display_drops_stale_frames_and_counts_seeks() -> None:
    """A frame decoded before a seek is dropped; the one after it is painted and its latency
    counted; while playing, a frame older than the one on screen is dropped too."""
    stats = PlayerStats()
    display = FrameDisplay(FrameMailbox(), stats)
    geo = FrameGeometry(4, 2, 4, 4)

    def decoded(frame: int, generation: int) -> DecodedFrame:
        return DecodedFrame(FrameRequest(frame, generation, 4, 2), None, geo, 0.0)

    old = display.generation
    display.seeked()
    assert not display.accept(decoded(5, old), playing=False), "pre-seek frame must be dropped"
    assert display.accept(decoded(9, display.generation), playing=False)
    display.painted(display.generation)
    assert stats.paints == 1 and stats.dropped == 1 and len(stats.seek_latencies) == 1
    assert not display.accept(decoded(8, display.generation), playing=True), "older while playing"
