"""What the prompt and finding-moments keys change, computed without widgets.

Each method takes the player's position and returns an :class:`Outcome` that says what the
screen does next: select a row, seek, ring the bell, show a line, embed new prompts, redraw.
The screen applies outcomes in one place, so a key's behaviour is testable here and the screen
stays a thin table of actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clipvi_tui.player.moments import MomentsModel
from clipvi_tui.player.scoreboard import PENDING, ScoreBoard


@dataclass(frozen=True)
class Outcome:
    """What a key did to the player's state, for the screen to show.

    Attributes:
        selected: the prompt row to put the cursor on (None: leave it).
        seek: the raw frame to go to (None: stay).
        refused: the key could not act here (the screen rings the bell).
        note: a line to show (why it was refused, or what happened).
        embed: new prompts wait for their text vectors.
        redraw: scores, prompts or moments changed (chart, prompt panel and status).
    """

    selected: int | None = None
    seek: int | None = None
    refused: bool = False
    note: str = ""
    embed: bool = False
    redraw: bool = False


REFUSED = Outcome(refused=True)


class PromptEdits:
    """Adding, deleting, restoring, showing and selecting prompts."""

    def __init__(self, board: ScoreBoard) -> None:
        """Edit the prompts of ``board``."""
        self.board = board

    def add(self, text: str | None) -> Outcome:
        """Add ``text`` (nothing if empty); an existing prompt is selected instead."""
        if not text:
            return Outcome()
        index, added = self.board.add_prompt(text)
        note = "" if added else f"“{text}” is already in the list"
        return Outcome(selected=index, note=note, embed=added, redraw=True)

    def delete(self, selected: int) -> Outcome:
        """Delete the prompt at row ``selected`` (undo brings it back)."""
        removed = self.board.remove_prompt(selected)
        if removed is None:
            return REFUSED
        row = max(0, min(selected, len(self.board.prompts) - 1))
        return Outcome(selected=row, note=f"Deleted “{removed.text}”; u undoes", redraw=True)

    def undo_delete(self) -> Outcome:
        """Put the last deleted prompt back where it was, with its colour and scores."""
        result = self.board.restore_removed()
        if result is None:
            return Outcome(refused=True, note="Nothing to undo")
        row, restored = result
        embed = restored and self.board.prompts[row].state == PENDING
        return Outcome(selected=row, embed=embed, redraw=True)

    def toggle(self, index: int) -> Outcome:
        """Show or hide the line of prompt ``index`` (0-based)."""
        return REFUSED if self.board.toggle(index) is None else Outcome(redraw=True)

    def select(self, selected: int, delta: int) -> Outcome:
        """Move the prompt cursor by ``delta`` rows, within the list."""
        if not self.board.prompts:
            return Outcome()
        return Outcome(selected=max(0, min(len(self.board.prompts) - 1, selected + delta)))


class MomentKeys:
    """Score views, smoothing, thresholds, spikes and going to segments and spikes."""

    def __init__(self, board: ScoreBoard, moments: MomentsModel) -> None:
        """Drive ``moments`` over the scores of ``board``."""
        self.board = board
        self.moments = moments

    def _changed(self) -> Outcome:
        # The model says why some prompts are not drawn in the new state (e.g. softmax of a
        # frame prompt), so every change of view or smoothing shows that line.
        return Outcome(note=self.moments.note, redraw=True)

    def cycle_view(self) -> Outcome:
        """Switch to the next score view (raw, softmax, baseline, zscore)."""
        self.moments.cycle_view()
        return self._changed()

    def smooth(self, direction: int) -> Outcome:
        """Widen (``direction`` > 0) or narrow the smoothing window."""
        self.moments.step_smoothing(direction)
        return self._changed()

    def toggle_spikes(self) -> Outcome:
        """Show each curve's change between samples with its spikes, or the curves again."""
        self.moments.toggle_spikes()
        return self._changed()

    def set_threshold(self, prompt: str, text: str | None) -> Outcome:
        """Apply a typed threshold for ``prompt``: a number, ``auto``; None was cancelled."""
        if text is None:
            return Outcome()
        if not self.moments.set_threshold_text(prompt, text):
            return Outcome(refused=True, note=f"“{text}” is not a number or auto")
        return self._changed()

    def go_to(self, selected: int, frame: int, direction: int, kind: str) -> Outcome:
        """Seek to the selected prompt's next/previous ``segment`` or ``spike`` from ``frame``."""
        prompt = self.board.text_at(selected)
        target, why = self.moments.go_to(self.board, prompt, frame, direction, kind)
        return Outcome(refused=True, note=why) if target is None else Outcome(seek=target)

    def more_like_this(self, frame: int, label: Callable[[float], str]) -> Outcome:
        """Add a pseudo-prompt: how similar every frame is to the embedded one at ``frame``."""
        row = self.board.add_like_frame(frame, label)
        if row is None:
            return Outcome(refused=True, note="This frame is not embedded yet")
        return Outcome(selected=row, note=self.moments.note, redraw=True)
