"""Unit and property tests of the chart's time window (zoom around the playhead, paging)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipvi_tui.player.timewindow import MIN_SPAN_S, TimeWindow


def test_starts_as_the_whole_video_and_resets() -> None:
    """The window is the whole video until zoomed; reset brings it back."""
    w = TimeWindow(600.0)
    assert (w.lo, w.hi, w.zoomed) == (0.0, 600.0, False)
    assert w.zoom_in(300.0) and w.zoomed and w.hi - w.lo == pytest.approx(300.0)
    assert w.reset() and (w.lo, w.hi) == (0.0, 600.0)
    assert not w.reset(), "nothing to reset"


def test_zooms_down_to_a_few_seconds_around_the_anchor() -> None:
    """Repeated zooming stops at MIN_SPAN_S across the width, with the anchor still inside and at
    the same place relative to the window."""
    w = TimeWindow(600.0)
    w.zoom_in(450.0)
    rel = (450.0 - w.lo) / (w.hi - w.lo)
    while w.zoom_in(450.0):
        assert (450.0 - w.lo) / (w.hi - w.lo) == pytest.approx(rel)
    assert w.hi - w.lo == pytest.approx(MIN_SPAN_S)
    assert w.lo <= 450.0 <= w.hi
    while w.zoom_out(450.0):
        pass
    assert not w.zoomed and w.lo == 0.0


def test_follows_the_playhead_by_pages() -> None:
    """While playing, the window jumps when the playhead nears its right edge (so the playhead is
    near the left edge again) and recentres after a seek out of view; not zoomed, it never
    moves."""
    w = TimeWindow(100.0)
    w.zoom(10.0, 5.0)  # a 10 s window
    lo = w.lo
    assert not w.follow(lo + 5.0), "inside the window: no move"
    assert w.follow(lo + 9.6)
    assert w.lo == pytest.approx(lo + 9.6 - 1.0), "the playhead lands at 10 % of the window"
    assert w.follow(80.0) and w.lo == pytest.approx(75.0), "a seek elsewhere is centred"
    assert w.follow(99.9) and w.hi == pytest.approx(100.0), "never past the end"
    w.zoom(1.0, 50.0)
    w.follow(30.0)
    assert not w.follow(w.lo + 9.8, playing=False), "a seek inside the window: no page"
    assert w.follow(w.lo + 9.8, playing=True), "playback near the edge: page"
    whole = TimeWindow(100.0)
    assert not whole.follow(99.0)


def test_a_video_shorter_than_the_minimum_cannot_zoom() -> None:
    """A 1.5 s video is shown whole; zooming does nothing."""
    w = TimeWindow(1.5)
    assert not w.zoom_in(1.0) and not w.zoomed
    assert not TimeWindow(0.0).zoom_in(0.0)


@given(
    duration=st.floats(0.5, 7200.0),
    steps=st.lists(
        st.tuples(st.sampled_from(["in", "out", "follow", "reset"]), st.floats(-10.0, 8000.0)),
        max_size=30,
    ),
)
def test_the_window_always_stays_inside_the_video(
    duration: float, steps: list[tuple[str, float]]
) -> None:
    """Whatever is done, the window lies within [0, duration] and spans at least the minimum."""
    w = TimeWindow(duration)
    for op, t in steps:
        {"in": w.zoom_in, "out": w.zoom_out, "follow": w.follow}.get(op, lambda _: w.reset())(t)
        assert -1e-9 <= w.lo <= w.hi <= duration + 1e-6
        assert w.hi - w.lo >= min(MIN_SPAN_S, duration) - 1e-6
