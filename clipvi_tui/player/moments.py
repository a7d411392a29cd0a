"""The player's moments: view, smoothing, thresholds, segments, spikes and search (no widgets).

The screen owns one :class:`MomentsModel`. It turns the score board into what the chart, the
segment list and the navigation keys need, through exactly the core function the command line
uses (:func:`clipvi_tui.core.analysis.analyse`), so ``export --segments`` and the app agree.
Results are cached until the board or a setting changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from clipvi_tui.config import Settings
from clipvi_tui.core.analysis import MomentSettings, PromptMoments, analyse, difference_curves
from clipvi_tui.core.moments import Segment, Spike
from clipvi_tui.core.search import Hit, VideoCurve, moments
from clipvi_tui.core.views import VIEW_LABELS, next_view
from clipvi_tui.player.scoreboard import FRAME, READY, PromptEntry, ScoreBoard

# The smoothing keys step through these windows (seconds; 0 = off).
SMOOTH_STEPS = (0.0, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
# Views in which a "more like this frame" pseudo-prompt has no meaning: they weigh text prompts
# against each other or against neutral captions.
TEXT_ONLY_VIEWS = ("softmax", "baseline")


@dataclass(frozen=True)
class Shown:
    """One prompt as the chart and the segment list show it.

    Attributes:
        entry: the board entry.
        found: its curve (in the view, smoothed), threshold and segments.
        spikes: its spikes (always computed, drawn in the spikes view).
    """

    entry: PromptEntry
    found: PromptMoments
    spikes: list[Spike]


class MomentsModel:
    """What the moment keys change, and the moments of the prompts shown."""

    def __init__(self, settings: Settings) -> None:
        """Start from the settings' defaults (config.yaml and the command line)."""
        self.base: MomentSettings = settings.moment_settings()
        self.view = self.base.view
        self.smooth_s = self.base.smooth_s
        self.spikes_view = False
        # A fixed threshold is in its view's units, so each view keeps its own.
        self._global: dict[str, float | None] = {self.view: self.base.threshold}
        self._fixed: dict[str, dict[str, float | None]] = {self.view: dict(self.base.thresholds)}
        self._key: tuple[object, ...] | None = None
        self._shown: list[Shown] = []
        self.note = ""  # why some prompts are not drawn in this view

    # -- settings --------------------------------------------------------------------------------

    def settings(self) -> MomentSettings:
        """The core settings the current keys describe."""
        return replace(
            self.base,
            view=self.view,
            smooth_s=self.smooth_s,
            threshold=self._global.get(self.view),
            thresholds=dict(self._fixed.get(self.view, {})),
        )

    def cycle_view(self) -> str:
        """Switch to the next score view; returns it."""
        self.view = next_view(self.view)
        return self.view

    def step_smoothing(self, direction: int) -> float:
        """Widen (``direction`` > 0) or narrow the smoothing window by one step; returns it."""
        steps = list(SMOOTH_STEPS)
        if self.smooth_s not in steps:
            steps = sorted({*steps, self.smooth_s})
        i = steps.index(self.smooth_s) + (1 if direction > 0 else -1)
        self.smooth_s = steps[max(0, min(len(steps) - 1, i))]
        return self.smooth_s

    def set_threshold(self, prompt: str, value: float | None) -> None:
        """A fixed threshold for ``prompt`` in the current view; None goes back to ``auto``."""
        fixed = self._fixed.setdefault(self.view, {})
        if value is None and self._global.get(self.view) is None:
            fixed.pop(prompt, None)
        else:
            fixed[prompt] = value

    def restore_threshold(self, prompt: str, view: str, value: float | None) -> None:
        """A saved threshold of ``prompt`` in ``view``, unless the settings already set one."""
        self._fixed.setdefault(view, {}).setdefault(prompt, value)

    def thresholds_of(self, prompt: str) -> dict[str, float | None]:
        """Every threshold set for ``prompt``, by view (for saving the session)."""
        return {view: fixed[prompt] for view, fixed in self._fixed.items() if prompt in fixed}

    def threshold_of(self, prompt: str) -> float | None:
        """The fixed threshold of ``prompt`` in the current view, None for ``auto``."""
        return self.settings().fixed_for(prompt)

    def toggle_spikes(self) -> bool:
        """Show the curves' changes (with their spikes) instead of the curves; returns the mode."""
        self.spikes_view = not self.spikes_view
        return self.spikes_view

    @property
    def y_label(self) -> str:
        """The chart's y label: the view, and whether the changes are shown."""
        label = f"{self.view}: {VIEW_LABELS[self.view]}"
        return f"change of {label}" if self.spikes_view else label

    # -- results ---------------------------------------------------------------------------------

    def shown(self, board: ScoreBoard) -> list[Shown]:
        """The moments of every visible, ready prompt (cached until something changes)."""
        settings = self.settings()
        key = (board.version, settings)
        if key == self._key:
            return self._shown
        entries = [e for e in board.prompts if e.visible and e.state == READY]
        hidden = [e for e in entries if e.kind == FRAME and self.view in TEXT_ONLY_VIEWS]
        entries = [e for e in entries if e not in hidden]
        self.note = f"frame prompts are not drawn in the {self.view} view" if hidden else ""
        baseline = board.baseline_scores() if self.view == "baseline" else None
        if self.view == "baseline" and baseline is None:
            self.note = "the baseline prompts are not embedded yet"
            entries = []
        self._shown = []
        if entries:
            scores = np.column_stack([e.scores for e in entries])
            found = analyse(
                scores,
                [e.text for e in entries],
                board.times,
                board.sampled,
                settings,
                baseline,
                image_prompts={e.text for e in entries if e.kind == FRAME},
            )
            self._shown = [
                Shown(e, f, f.spikes(board.times, board.sampled, settings.spike_k))
                for e, f in zip(entries, found, strict=True)
            ]
        self._key = key
        return self._shown

    def curves(self, board: ScoreBoard) -> list[tuple[PromptEntry, np.ndarray]]:
        """What the chart draws per prompt: the curve, or its changes in the spikes view."""
        out = []
        for s in self.shown(board):
            curve = difference_curves(s.found.curve) if self.spikes_view else s.found.curve
            out.append((s.entry, curve))
        return out

    def segments(self, board: ScoreBoard) -> list[Segment]:
        """Every shown prompt's segments, prompt by prompt, each in time order."""
        return [seg for s in self.shown(board) for seg in s.found.segments]

    def _find(self, board: ScoreBoard, prompt: str) -> Shown | None:
        return next((s for s in self.shown(board) if s.entry.text == prompt), None)

    def next_frame(
        self, board: ScoreBoard, prompt: str, frame: int, direction: int, kind: str
    ) -> int | None:
        """Where the next (``direction`` > 0) or previous segment (``kind`` ``segment``: its
        start) or spike (``spike``) of ``prompt`` is, as a raw frame; None if there is none."""
        shown = self._find(board, prompt)
        if shown is None:
            return None
        if kind == "segment":
            starts = [s.start_frame for s in shown.found.segments]
        else:
            starts = [s.frame for s in shown.spikes]
        if direction > 0:
            return next((f for f in starts if f > frame), None)
        return next((f for f in reversed(starts) if f < frame), None)

    def go_to(
        self, board: ScoreBoard, prompt: str | None, frame: int, direction: int, kind: str
    ) -> tuple[int | None, str]:
        """The raw frame of ``prompt``'s next/previous segment or spike (see :meth:`next_frame`),
        or None and the line that says why there is none."""
        target = None if prompt is None else self.next_frame(board, prompt, frame, direction, kind)
        if target is not None:
            return target, ""
        why = self.reason(board, prompt) if prompt and kind == "segment" else ""
        where = "next" if direction > 0 else "previous"
        return None, f"No {where} {kind}" + (f": {why}" if why else "")

    def reason(self, board: ScoreBoard, prompt: str) -> str:
        """Why ``prompt`` has no segment (empty if it has some, or is not shown)."""
        shown = self._find(board, prompt)
        if shown is None or shown.found.segments:
            return ""
        return shown.found.threshold.reason or "nothing reaches the threshold"

    def set_threshold_text(self, prompt: str, text: str) -> bool:
        """Apply a typed threshold (a number, ``auto`` or empty for auto); False if invalid."""
        from clipvi_tui.config import ConfigError, parse_threshold

        try:
            value = parse_threshold(text.strip() or "auto")
        except ConfigError:
            return False
        self.set_threshold(prompt, value)
        return True


def search_board(board: ScoreBoard, vector: np.ndarray, k: int, video: str) -> list[Hit]:
    """The ``k`` best moments of this video for a query vector (raw cosine, as the CLI)."""
    curve = VideoCurve(video, board.sampled, board.times, board.curve(vector).astype(np.float64))
    return moments(curve, k)
