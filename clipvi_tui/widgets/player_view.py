"""What the player shows: pushes its board, moments and playback state to the widgets.

The player screen handles input and playback; this object, which the screen owns (composition),
titles the boxes, tells the chart area, the segment list, the prompt panel and the status bar what
to draw (also after the background work reports), says what the player opened with, and
keeps the session file in step with the prompt list. Recomputing the moments for the chart costs
≈13 ms for an hour of video and five prompts, so while indexing streams embeddings in it happens
at most every :data:`LIVE_MOMENTS_S`, with one catch-up when the interval is over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from textual.timer import Timer

from clipvi_tui.player.background import BackgroundWork, Redraw
from clipvi_tui.player.context import PlayerConfig
from clipvi_tui.player.moments import MomentsModel
from clipvi_tui.player.scoreboard import ScoreBoard
from clipvi_tui.player.session import SessionKeeper
from clipvi_tui.player.stats import PlayerStats
from clipvi_tui.widgets.chart_area import ChartArea
from clipvi_tui.widgets.chart_figure import series_for
from clipvi_tui.widgets.prompts import PromptList, prompt_rows
from clipvi_tui.widgets.segments import SegmentList, rows_for
from clipvi_tui.widgets.status import StatusBar, StatusInfo
from clipvi_tui.widgets.video import VideoView

# While indexing streams in, the moments (thresholds, segments) are recomputed at most this often.
LIVE_MOMENTS_S = 1.0


@dataclass(frozen=True)
class Position:
    """Where the player is: the frame, whether it plays, the prompt cursor."""

    frame: int
    playing: bool
    selected: int


@dataclass
class PlayerParts:
    """The player's state objects that the view reads."""

    config: PlayerConfig
    board: ScoreBoard
    moments: MomentsModel
    background: BackgroundWork
    stats: PlayerStats
    session: SessionKeeper


class PlayerView:
    """Draws the player's state into the screen's widgets."""

    def __init__(self, screen: Any, parts: PlayerParts) -> None:
        """Serve ``screen`` (the player screen: widgets are queried from it, timers set on it)."""
        self.screen = screen
        self.parts = parts
        self._chart_key: tuple[object, ...] | None = None
        self._moments_at = 0.0  # when the chart and segment list were last recomputed
        self._live_timer: Timer | None = None

    def label_boxes(self) -> None:
        """Title the boxes (the video's name, prompts, segments); the chart logs its builds."""
        self.screen.query_one("#video", VideoView).border_title = self.parts.config.video.name
        self.screen.query_one("#prompt-panel").border_title = "Prompts"
        self.screen.query_one("#segments", SegmentList).border_title = "Segments (l)"
        self.screen.query_one(ChartArea).chart.build_log = self.parts.stats.chart_builds

    def announce_start(self) -> None:
        """Say what the player opened with: a restored session, the settings' warnings."""
        p = self.parts
        if p.session.restored:
            n = len(p.board.prompts)
            self.screen.notify(
                f"Restored this video's {n} prompt(s) (--fresh ignores them)", timeout=4
            )
        # The same lines the command line prints (e.g. an unknown config key), as notifications.
        for warning in p.config.settings.warnings:
            self.screen.notify(warning, severity="warning", timeout=10)

    def redraw(self, redraw: Redraw, at: Position) -> None:
        """Redraw what a background job's report changed (``redraw``), at position ``at``."""
        if redraw.board:
            self.board_changed(at, live=redraw.live)
        elif self.catching_up and self.parts.background.index_state != "running":
            self.catch_up()  # indexing ended: show the last embeddings now, not in a second
        if redraw.status or redraw.board:
            self.refresh_status(at)

    @property
    def catching_up(self) -> bool:
        """True while a live update waits for its interval to pass."""
        return self._live_timer is not None

    def board_changed(self, at: Position, *, live: bool = False) -> None:
        """Push the board and the moments to the chart area and the segment list (if they
        changed), refresh the prompt panel and save the prompt list.

        ``live``: the change is new embeddings from the indexer (drawn within a second).
        """
        p = self.parts
        key = (p.board.version, p.moments.settings(), p.moments.spikes_view)
        now = time.monotonic()
        if key == self._chart_key:
            pass
        elif live and now - self._moments_at < LIVE_MOMENTS_S:
            if self._live_timer is None:  # catch up once the interval is over
                self._live_timer = self.screen.set_timer(LIVE_MOMENTS_S, self.catch_up)
        else:
            self._chart_key, self._moments_at = key, now
            shown = p.moments.shown(p.board)
            self.screen.query_one(ChartArea).set_data(
                p.board.times,
                series_for(shown, p.moments.spikes_view),
                p.config.info.duration,
                {e.text: i + 1 for i, e in enumerate(p.board.prompts)},
                live=live,
                y_label=p.moments.y_label,
            )
            self.screen.query_one("#segments", SegmentList).update_rows(rows_for(shown))
        work = p.background
        work.index_done = max(work.index_done, p.board.embedded)
        self.refresh_prompts(at)
        self.save_session(at.selected)

    def catch_up(self) -> None:
        """Draw the live updates held back by the interval now."""
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        self._moments_at = 0.0
        self.board_changed(self.screen.position(), live=True)

    def save_session(self, selected: int) -> None:
        """Persist the prompt list (a no-op when it did not change); say so once if it fails."""
        p = self.parts
        if not p.session.save_board(p.board, p.moments, selected) and p.session.error:
            p.background.notify_once(p.session.error, severity="warning")

    def refresh_prompts(self, at: Position) -> None:
        """The prompt panel: every prompt with its score at the current frame."""
        rows = prompt_rows(self.parts.board, at.frame)
        self.screen.query_one("#prompts", PromptList).update_rows(rows, at.selected)

    def refresh_status(self, at: Position) -> None:
        """The status bar: position, play state, indexing, view and server."""
        p = self.parts
        info, work = p.config.info, p.background
        fps = p.stats.display_fps(time.perf_counter()) if at.playing else None
        self.screen.query_one("#status", StatusBar).info = StatusInfo(
            frame=at.frame,
            frame_count=info.frame_count,
            seconds=info.time_of(at.frame),
            duration=info.duration,
            playing=at.playing,
            indexed=work.index_done,
            index_total=p.board.total,
            index_rate=work.index_rate,
            index_state=work.index_state,
            server=work.server_state,
            display_fps=fps,
            view=p.moments.view,
            smooth_s=p.moments.smooth_s,
            spikes=p.moments.spikes_view,
            servers_up=work.servers_up,
            servers_total=work.servers_total,
            cache_error=work.cache_error,
        )
