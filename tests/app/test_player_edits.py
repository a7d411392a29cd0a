"""Unit tests of the player's key outcomes (player/edits.py): what a key changes, no widgets."""

from __future__ import annotations

import numpy as np

from clipvi_tui.config import Settings
from clipvi_tui.player.edits import REFUSED, MomentKeys, Outcome, PromptEdits
from clipvi_tui.player.moments import MomentsModel
from clipvi_tui.player.scoreboard import ScoreBoard


def _board() -> ScoreBoard:
    return ScoreBoard(np.arange(0, 20, 2), fps=10.0)  # 10 sampled frames: 0, 2, … 18


def test_prompt_edits_add_delete_undo_toggle_select() -> None:
    """Adding selects the new row and asks for its vector; a duplicate is selected with a line;
    deleting keeps the cursor in the list; undo restores; toggles and moves refuse off-list."""
    board = _board()
    edits = PromptEdits(board)
    assert edits.add("") == Outcome() and edits.add(None) == Outcome()
    assert edits.add("a") == Outcome(selected=0, embed=True, redraw=True)
    assert edits.add("b") == Outcome(selected=1, embed=True, redraw=True)
    again = edits.add(" a ")
    assert again.selected == 0 and not again.embed and "already in the list" in again.note
    deleted = edits.delete(1)
    assert deleted.selected == 0 and "Deleted “b”" in deleted.note and deleted.redraw
    assert [e.text for e in board.prompts] == ["a"]
    assert edits.delete(5) == REFUSED
    undone = edits.undo_delete()
    assert undone.selected == 1 and undone.embed, "b never got a vector: it is asked for again"
    assert edits.undo_delete() == Outcome(refused=True, note="Nothing to undo")
    assert edits.toggle(0) == Outcome(redraw=True) and not board.prompts[0].visible
    assert edits.toggle(7) == REFUSED
    assert edits.select(1, 5).selected == 1 and edits.select(1, -5).selected == 0
    assert PromptEdits(_board()).select(0, 1) == Outcome(), "no prompts: nothing to move"


def test_moment_keys_go_to_segments_and_refuse_with_a_reason() -> None:
    """With a fixed threshold the next/previous segment is a seek to its start; past the last
    one the key is refused with the line that says so; a bad threshold is refused too."""
    board = _board()
    board.add_prompt("x")
    frames = np.eye(2, dtype=np.float32)[[1, 1, 0, 0, 0, 1, 1, 1, 1, 1]]  # x at frames 4–8
    board.add_frames(board.sampled, frames)
    board.set_vector("x", np.array([1.0, 0.0]))
    keys = MomentKeys(board, MomentsModel(Settings()))
    assert keys.set_threshold("x", "0.5").redraw
    assert keys.set_threshold("x", None) == Outcome(), "cancelled dialog: nothing changes"
    bad = keys.set_threshold("x", "high")
    assert bad.refused and "not a number or auto" in bad.note
    assert keys.go_to(0, 0, 1, "segment") == Outcome(seek=4)
    past = keys.go_to(0, 4, 1, "segment")
    assert past.refused and past.note == "No next segment"
    assert keys.go_to(0, 9, -1, "segment") == Outcome(seek=4)
    assert keys.go_to(3, 0, 1, "segment").refused, "no prompt on that row"


def test_moment_keys_views_smoothing_and_more_like_this() -> None:
    """View and smoothing keys redraw; "more like this" adds a row for an embedded frame and
    refuses a frame that has no vector yet."""
    board = _board()
    keys = MomentKeys(board, MomentsModel(Settings()))
    assert keys.cycle_view().redraw and keys.moments.view == "softmax"
    assert keys.smooth(1).redraw and keys.moments.smooth_s > 0
    assert keys.toggle_spikes().redraw and keys.moments.spikes_view
    missing = keys.more_like_this(6, lambda t: f"like {t}")
    assert missing.refused and missing.note == "This frame is not embedded yet"
    board.add_frames(np.array([6]), np.array([[1.0, 0.0]], dtype=np.float32))
    added = keys.more_like_this(6, lambda t: f"like {t:.1f}")
    assert added.selected == 0 and board.prompts[0].text == "like 0.6"
