"""The player screen: playback state, keys, and the widgets that show the video and its scores.

Data flows one way: workers (the frame decoder here, the services, indexer and prompt embedding
run by the :class:`~clipvi_tui.player.background.BackgroundWork` it owns) post messages; handlers
here update the board and reactives; widgets are told what to draw. User intent (keys, clicks)
becomes a seek, a play/pause or a prompt edit, and a seek becomes the indexer's new playhead.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace

from textual import events, on
from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from clipvi_tui.core.video import sample_indices
from clipvi_tui.player.background import BackgroundWork
from clipvi_tui.player.clock import PlaybackClock
from clipvi_tui.player.context import PlayerConfig
from clipvi_tui.player.display import FrameDisplay
from clipvi_tui.player.edits import REFUSED, MomentKeys, Outcome, PromptEdits
from clipvi_tui.player.frames import FrameMailbox
from clipvi_tui.player.messages import FrameDecoded, FrameFailed, ServiceReport
from clipvi_tui.player.moments import MomentsModel, search_board
from clipvi_tui.player.scoreboard import ScoreBoard
from clipvi_tui.player.session import SessionKeeper
from clipvi_tui.player.stats import PlayerStats
from clipvi_tui.player.timewindow import ZOOM_STEP
from clipvi_tui.screens.dialogs import PromptDialog, ThresholdDialog
from clipvi_tui.screens.search import SearchChoice, SearchScreen
from clipvi_tui.widgets.chart import SimilarityChart
from clipvi_tui.widgets.chart_area import ChartArea
from clipvi_tui.widgets.chart_math import format_clock
from clipvi_tui.widgets.footer import FittedFooter
from clipvi_tui.widgets.keymap import FOOTER_ORDER, PLAYER_BINDINGS
from clipvi_tui.widgets.player_view import PlayerParts, PlayerView, Position
from clipvi_tui.widgets.prompts import PromptList
from clipvi_tui.widgets.segments import SegmentList
from clipvi_tui.widgets.status import StatusBar
from clipvi_tui.widgets.video import VideoView
from clipvi_tui.widgets.video_feed import VideoFeed

# The clock never ticks faster than this (twice the 30 frames/s the display aims for; a tick on
# which the frame does not change costs next to nothing).
MAX_TICK_HZ = 60.0
# During playback the indexer's playhead follows at most this often.
PLAYHEAD_PUSH_S = 1.0


class PlayerScreen(Screen[None]):
    """Video, prompt panel, similarity chart and status bar."""

    BINDINGS = PLAYER_BINDINGS  # the key table lives in widgets/keymap.py
    # Keys belong to the player; the segment list takes them only when asked to (l, or a click).
    AUTO_FOCUS = ""

    frame: reactive[int] = reactive(0, init=False)
    """Raw index of the frame that should be on screen."""
    playing: reactive[bool] = reactive(False, init=False)
    """Whether the playback clock runs."""
    selected: reactive[int] = reactive(0, init=False)
    """Row of the prompt cursor."""

    # Size classes for the stylesheet: narrow terminals get a slimmer prompt panel, short ones
    # give the chart its rows first. (Textual declares these as plain attributes, not ClassVars.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012

    def __init__(self, config: PlayerConfig) -> None:
        """Create the screen for ``config`` (nothing starts until it is mounted)."""
        super().__init__()
        info, settings = config.info, config.settings
        sampled = sample_indices(info, settings.sample_fps)
        self.board = ScoreBoard(sampled, info.fps, info.times_of(sampled))
        self.session = SessionKeeper(
            settings.cache_dir, config.video, info, settings.prompts, settings.restore_session
        )
        self.moments = MomentsModel(settings)
        self.session.fill(self.board, self.moments)
        # The services look up cached vectors for the prompts the player starts with.
        prompts = [e.text for e in self.board.prompts]
        self.config = config = replace(config, settings=replace(settings, prompts=prompts))
        self.clock = PlaybackClock(info.fps, info.frame_count, info.times)
        self.mailbox = FrameMailbox()
        self.background = BackgroundWork(self, config, self.board, self._notify)
        self.stats = PlayerStats()
        self.frame_display = FrameDisplay(self.mailbox, self.stats)
        self.board.set_baselines(config.settings.baseline_prompts)
        self.edits = PromptEdits(self.board)
        self.moment_keys = MomentKeys(self.board, self.moments)
        self._last_playhead_push = 0.0
        self._clock_timer: Timer | None = None
        parts = PlayerParts(
            config, self.board, self.moments, self.background, self.stats, self.session
        )
        self.view = PlayerView(self, parts)
        self.feed = VideoFeed(self, config, self.frame_display, self.background.thumbnail)
        self._shut_down = False

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Video and prompts on top, the chart below, status and keys at the bottom."""
        with Horizontal(id="top"):
            yield VideoView(self.config.graphics, id="video")
            with Vertical(id="prompt-panel"):
                yield PromptList(id="prompts")
                yield SegmentList(id="segments")
        yield ChartArea(id="chart-area")
        yield StatusBar(id="status")
        yield FittedFooter(FOOTER_ORDER)

    def on_mount(self) -> None:
        """Start the decoder, the services and the clock (playing unless ``autoplay`` is off)."""
        self.view.label_boxes()
        # Twice the video's rate: a tick that comes late (the UI was painting) still asks for
        # the next frame within half a frame period, instead of skipping it.
        self._clock_timer = self.set_interval(
            1.0 / min(2 * self.clock.tick_hz, MAX_TICK_HZ), self._tick, pause=True
        )
        self.set_interval(0.5, self._refresh_status)
        self.feed.start(self.board.sampled)
        if self.config.start_frame:
            self.seek(self.config.start_frame)
        self.background.start()
        self.selected = self.session.selected
        self._board_changed()
        self._refresh_status()
        if self.config.settings.autoplay:
            self.playing = True
        self.view.announce_start()

    # -- workers ------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures surface: a notification, never a traceback."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.background.notify_once(f"{event.worker.name} failed: {error}", severity="error")

    @on(ServiceReport)
    def _service_reported(self, message: ServiceReport) -> None:
        """Hand a background job's report to the background work and redraw what changed."""
        self.view.redraw(self.background.apply(message), self.position())

    def _notify(self, text: str, severity: str) -> None:
        self.notify(text, severity=severity, timeout=8)  # type: ignore[arg-type]

    def _apply(self, outcome: Outcome) -> None:
        """Show what a key did (see :class:`~clipvi_tui.player.edits.Outcome`)."""
        if outcome.refused:
            self.app.bell()
        if outcome.note:
            self.notify(outcome.note, timeout=4)
        if outcome.selected is not None:
            self.selected = outcome.selected
        if outcome.embed:
            self.background.embed_pending()
        if outcome.redraw:
            self._board_changed()
            self._refresh_status()
        if outcome.seek is not None:
            self.seek(outcome.seek)

    # -- playback -----------------------------------------------------------------------------

    def _tick(self) -> None:
        """Advance the position from the wall clock (never by counting ticks)."""
        if not self.playing:
            return
        now = time.monotonic()
        position = self.clock.position(now)
        if position != self.frame:
            self.frame = position
        if self.clock.at_end(position):
            self.playing = False
        if now - self._last_playhead_push > PLAYHEAD_PUSH_S:
            self._last_playhead_push = now
            self.background.set_playhead(position)

    def watch_playing(self, playing: bool) -> None:
        """Start or stop the clock."""
        if self._clock_timer is None:
            return
        if playing:
            self.clock.start(self.frame, time.monotonic())
            self.stats.paint_times.clear()
            self._clock_timer.resume()
        else:
            self._clock_timer.pause()
        self._refresh_status()

    def watch_frame(self, frame: int) -> None:
        """Ask for the new frame and move the playhead everywhere (the chart's once the new
        picture is on screen, see :mod:`~clipvi_tui.widgets.video_feed`)."""
        self.feed.moved()
        self._refresh_prompts()
        self._refresh_status()

    @property
    def chart_playhead_pending(self) -> bool:
        """True while the chart's playhead waits for the new picture after a seek."""
        return self.feed.chart_pending

    def seek(self, frame: int, *, pause: bool = False) -> None:
        """Jump to raw ``frame`` (clamped); ``pause`` stops playback first (frame stepping)."""
        frame = max(0, min(self.config.info.frame_count - 1, int(frame)))
        if pause:
            self.playing = False
        if frame == self.frame:
            return
        self.frame_display.seeked()
        if self.playing:
            self.clock.start(frame, time.monotonic())
        self.frame = frame
        self.background.set_playhead(frame)

    @on(FrameDecoded)
    def _frame_decoded(self, message: FrameDecoded) -> None:
        self.feed.paint(message)

    @on(FrameFailed)
    def _frame_failed(self, message: FrameFailed) -> None:
        self.feed.failed(message)

    @on(VideoView.Resized)
    def _video_resized(self) -> None:
        self.feed.request()

    @on(VideoView.Clicked)
    def _video_clicked(self) -> None:
        self.action_toggle_play()

    @on(SimilarityChart.Clicked)
    def _chart_clicked(self, message: SimilarityChart.Clicked) -> None:
        """Seek to the frame under the clicked column: a sampled one (it has a score) if the
        column holds one, else the raw frame at the column's middle."""
        target = self.board.sampled_between(message.start, message.end, message.seconds)
        if target is None:
            target = self.config.info.frame_at(message.seconds)
        self.seek(target)

    # -- actions ------------------------------------------------------------------------------

    def action_toggle_play(self) -> None:
        """Play or pause; playing from the last frame starts over."""
        if not self.playing and self.clock.at_end(self.frame):
            self.seek(0)
        self.playing = not self.playing

    def action_step(self, direction: int) -> None:
        """Pause and move to the previous/next *sampled* frame (the ones with scores)."""
        self.seek(self.board.step(self.frame, direction), pause=True)

    def action_jump(self, seconds: float) -> None:
        """Move by ``seconds`` (keeps playing if it was)."""
        info = self.config.info
        self.seek(info.frame_at(info.time_of(self.frame) + seconds))

    def action_seek_start(self) -> None:
        """Go to the first frame."""
        self.seek(0)

    def action_seek_end(self) -> None:
        """Go to the last frame (playback stops there)."""
        self.seek(self.config.info.frame_count - 1)
        self.playing = False

    def action_step_raw(self, direction: int) -> None:
        """Pause and move by one raw frame."""
        self.seek(self.frame + direction, pause=True)

    def action_add_prompt(self) -> None:
        """Ask for a prompt in a dialog."""
        self.app.push_screen(PromptDialog(), callback=self.add_prompt)

    def add_prompt(self, text: str | None) -> None:
        """Add ``text`` to the board and embed it (cached vectors come back at once)."""
        self._apply(self.edits.add(text))

    def action_delete_prompt(self) -> None:
        """Delete the selected prompt (u brings it back)."""
        self._apply(self.edits.delete(self.selected))

    def action_undo_delete(self) -> None:
        """Put the last deleted prompt back where it was, with its colour and scores."""
        self._apply(self.edits.undo_delete())

    @on(PromptList.Clicked)
    def _prompt_clicked(self, message: PromptList.Clicked) -> None:
        """A click selects the prompt; a click on its swatch also shows/hides its line."""
        self.selected = message.row
        if message.on_swatch:
            self.action_toggle_prompt(message.row)

    def action_toggle_prompt(self, index: int) -> None:
        """Show or hide the line of prompt ``index`` (0-based)."""
        self._apply(self.edits.toggle(index))

    def action_select(self, delta: int) -> None:
        """Move the prompt cursor."""
        self._apply(self.edits.select(self.selected, delta))

    def watch_selected(self) -> None:
        """Redraw the cursor."""
        self._refresh_prompts()

    # -- the chart ----------------------------------------------------------------------------

    def action_zoom(self, direction: int) -> None:
        """Zoom the time axis in (``direction`` > 0) or out around the playhead; 0 shows the
        whole video again."""
        chart = self.query_one(ChartArea).chart
        if direction == 0:
            chart.reset_zoom()
        elif not chart.zoom(ZOOM_STEP if direction > 0 else 1 / ZOOM_STEP):
            self._apply(REFUSED)

    def action_focus_values(self, focus: int) -> None:
        """Fit the y axis to the curves in view (1), or to all the data again (0)."""
        self.query_one(ChartArea).chart.set_focus_y(bool(focus))

    def action_toggle_heatmap(self) -> None:
        """Show or hide the heatmap strip under the chart."""
        self.query_one(ChartArea).toggle_heatmap()

    # -- finding moments ----------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        """Switch to the next score view (raw, softmax, baseline, zscore)."""
        self._apply(self.moment_keys.cycle_view())

    def action_smooth(self, direction: int) -> None:
        """Widen or narrow the smoothing window."""
        self._apply(self.moment_keys.smooth(direction))

    def action_set_threshold(self) -> None:
        """Ask for a fixed threshold (or auto) for the selected prompt in this view."""
        prompt = self.board.text_at(self.selected)
        if prompt is None:
            return self._apply(REFUSED)
        dialog = ThresholdDialog(prompt, self.moments.view, self.moments.threshold_of(prompt))
        answered = lambda text: self._apply(self.moment_keys.set_threshold(prompt, text))  # noqa: E731
        self.app.push_screen(dialog, callback=answered)

    def action_go_to(self, kind: str, direction: int) -> None:
        """Go to the selected prompt's next (previous) ``segment`` or ``spike``."""
        self._apply(self.moment_keys.go_to(self.selected, self.frame, direction, kind))

    def action_focus_segments(self) -> None:
        """Move the keys to the segment list (enter seeks, esc comes back); on a short terminal
        the list opens in the prompts' place until then."""
        self.add_class("-segments-open")
        self.call_after_refresh(self.query_one("#segments", SegmentList).focus)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        """Leaving the segment list gives the prompts their place back."""
        if isinstance(event.widget, SegmentList):
            self.remove_class("-segments-open")

    @on(SegmentList.Chosen)
    def _segment_chosen(self, message: SegmentList.Chosen) -> None:
        """Seek to the start of the chosen segment."""
        segments = self.moments.segments(self.board)
        if 0 <= message.index < len(segments):
            self.seek(segments[message.index].start_frame)

    def action_toggle_spikes(self) -> None:
        """Show each curve's change between samples, with its spikes, or the curves again."""
        self._apply(self.moment_keys.toggle_spikes())

    def action_search(self) -> None:
        """Open the search box: the best moments of this video for a query."""
        k, video = self.config.settings.search_k, str(self.config.video)
        search = SearchScreen(
            self.background.embed_query, lambda v: search_board(self.board, v, k, video), k
        )
        self.app.push_screen(search, callback=self._search_done)

    def _search_done(self, choice: SearchChoice | None) -> None:
        """Seek to the chosen moment, or keep the query as a prompt."""
        if choice is None:
            return
        if choice.keep:
            self.add_prompt(choice.query)
        elif choice.hit is not None:
            self.seek(choice.hit.frame)

    def action_more_like_this(self) -> None:
        """Add a pseudo-prompt: how similar every frame is to the one on screen (no server)."""
        label = lambda t: f"like {format_clock(t, precise=True)}"  # noqa: E731
        self._apply(self.moment_keys.more_like_this(self.frame, label))

    # -- views --------------------------------------------------------------------------------

    def position(self) -> Position:
        """Where the player is now (what the view draws)."""
        return Position(self.frame, self.playing, self.selected)

    def _board_changed(self) -> None:
        self.view.board_changed(self.position())

    def _refresh_prompts(self) -> None:
        self.view.refresh_prompts(self.position())

    def _refresh_status(self) -> None:
        self.view.refresh_status(self.position())

    # -- shutdown -----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the decoder, cancel indexing and stop an embedded server (idempotent)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.session.save_board(self.board, self.moments, self.selected)  # the cursor's place too
        self.mailbox.close()
        server = self.background.begin_shutdown()
        # Outside the app's context (called by the launcher after App.run() returned, or before
        # the screen ever mounted) there is no worker manager, and nothing left to cancel there.
        with contextlib.suppress(NoActiveAppError):
            self.workers.cancel_node(self)
        self.background.finish_shutdown(server)

    def on_unmount(self) -> None:
        """Leaving the screen (quit) stops everything it started."""
        self.shutdown()
