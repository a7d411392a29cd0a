"""Replaying after the end: the picture must move again, not only the counter.

Bug seen: at the last frame (End, or playing to the end), space restarted from frame 0 and the
counter, playhead and scores advanced, but every decoded frame was dropped as "older than the one
on screen" (frame 59) until playback passed it again, so the picture stayed on the last frame.
"""

from __future__ import annotations

from clipvi_tui.player.display import FrameDisplay
from clipvi_tui.player.frames import DecodedFrame, FrameMailbox, FrameRequest
from clipvi_tui.player.geometry import FrameGeometry
from clipvi_tui.player.stats import PlayerStats
from tests.app.appfakes import MakeApp, ready, settle, shown, wait_for

SIZE = (120, 40)


def _decoded(frame: int, generation: int) -> DecodedFrame:
    return DecodedFrame(FrameRequest(frame, generation, 4, 2), None, FrameGeometry(4, 2, 4, 4), 0.0)


def test_a_seek_back_while_playing_accepts_earlier_frames() -> None:
    """Given frame 59 on screen, after a seek to 0 and play, frames 0, 1, 2 … are painted (the
    "no jumping back while playing" rule applies only within one seek's generation)."""
    display = FrameDisplay(FrameMailbox(), PlayerStats())
    assert display.accept(_decoded(59, display.generation), playing=False)
    display.seeked()
    for frame in (0, 1, 2):
        assert display.accept(_decoded(frame, display.generation), playing=True), frame
    assert not display.accept(_decoded(1, display.generation), playing=True), "no jump back"


async def test_end_then_space_replays_the_picture(make_app: MakeApp) -> None:
    """Given the last frame on screen (End), space plays from frame 0 and the painted frame
    index advances from the start: the picture is not frozen on frame 59."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("end")
        await settle(pilot, player)
        assert shown(player) == 59
        painted: list[int] = []

        def sample() -> bool:
            frame = shown(player)
            if frame is not None and (not painted or painted[-1] != frame):
                painted.append(frame)
            return len([f for f in painted if f < 59]) >= 3

        await pilot.press("space")
        assert player.playing
        await wait_for(pilot, sample, timeout=5)
        early = [f for f in painted if f < 59]
        assert early == sorted(early) and early[-1] > early[0], f"picture advances: {painted}"


async def test_playing_to_the_end_then_space_replays_the_picture(make_app: MakeApp) -> None:
    """Given playback that ran to the last frame by itself, space replays and the picture moves."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        player.seek(52)
        await pilot.press("space")
        await wait_for(pilot, lambda: not player.playing and shown(player) == 59, timeout=5)
        await pilot.press("space")
        seen: set[int] = set()

        def moved() -> bool:
            frame = shown(player)
            if frame is not None:
                seen.add(frame)
            return len({f for f in seen if f < 50}) >= 3

        await wait_for(pilot, moved, timeout=5)
