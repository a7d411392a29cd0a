"""The player's score model: prompts, their vectors and per-frame scores (pure numpy, no Textual).

The board keeps the normalised vector of every embedded sampled frame in memory (float16, as the
cache stores them), so adding a prompt scores the whole video at once with one matrix product, and
frames embedded later are scored incrementally (only the new rows). Memory is N × D × 2 bytes:
18k frames (an hour at 5 fps) × 512 dims ≈ 18 MiB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from clipvi_tui.core.cache import normalise
from clipvi_tui.core.prompts import canonical_prompt
from clipvi_tui.player.colours import pick_colour

# Matrix products run on float32 blocks of this many rows, so a big float16 matrix is never
# converted in one piece.
_BLOCK = 8192

PENDING = "pending"
READY = "ready"
REJECTED = "rejected"

# Kinds of entry: a text prompt (embedded by the server) or "more like this frame" (a frame's own
# vector, no server call).
TEXT = "text"
FRAME = "frame"


@dataclass
class PromptEntry:
    """One prompt of the session.

    Attributes:
        text: the prompt.
        color: its line colour (RGB).
        visible: whether its line is drawn.
        state: ``pending`` (no vector yet), ``ready`` or ``rejected`` (the server refused it).
        note: why it is pending or rejected, for the panel.
        scores: cosine similarity per sampled frame, NaN where unknown.
        kind: ``text`` (a prompt) or ``frame`` (a "more like this frame" pseudo-prompt).
    """

    text: str
    color: tuple[int, int, int]
    visible: bool = True
    state: str = PENDING
    note: str = ""
    vector: np.ndarray | None = None
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    kind: str = TEXT


class ScoreBoard:
    """Prompts and scores over the sampled frames of one video."""

    def __init__(self, sampled: np.ndarray, fps: float, times: np.ndarray | None = None) -> None:
        """Start empty.

        Args:
            sampled: the raw frame indices that get embedded, ascending.
            fps: the video's nominal frame rate (turns indices into seconds without ``times``).
            times: each sampled frame's presentation time (``VideoInfo.times_of(sampled)``).
        """
        self.sampled = np.asarray(sampled, dtype=np.int64)
        self.fps = fps
        if times is not None and len(times) == len(self.sampled):
            self.times = np.asarray(times, dtype=np.float64)
        else:
            self.times = self.sampled / fps if fps > 0 else self.sampled.astype(np.float64)
        self.prompts: list[PromptEntry] = []
        # Neutral prompts of the baseline view: scored like prompts, never shown as lines.
        self.baselines: list[PromptEntry] = []
        self.version = 0  # bumped on every change a chart must show
        self._vectors: np.ndarray | None = None  # float16 [N, D], rows valid where _have
        self._have = np.zeros(len(self.sampled), dtype=bool)
        self._colour_serial = 0
        self.removed: list[tuple[int, PromptEntry]] = []  # deleted prompts, newest last (undo)

    # -- frames ---------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Number of sampled frames."""
        return len(self.sampled)

    @property
    def embedded(self) -> int:
        """How many sampled frames have a vector."""
        return int(self._have.sum())

    def add_frames(self, indices: np.ndarray, vectors: np.ndarray) -> int:
        """Take in frame vectors (from the cache or the indexer) and score them for every prompt.

        Frames that are not sampled (left in the cache by another sampling rate) are ignored.

        Returns:
            How many sampled frames were added or updated.
        """
        idx = np.asarray(indices, dtype=np.int64)
        vec = np.asarray(vectors)
        if idx.size == 0 or vec.size == 0 or self.total == 0:
            return 0
        pos = np.searchsorted(self.sampled, idx)
        clipped = np.minimum(pos, self.total - 1)
        hit = (pos < self.total) & (self.sampled[clipped] == idx)
        if not hit.any():
            return 0
        pos, vec = pos[hit], normalise(vec[hit].astype(np.float32))
        if self._vectors is None or self._vectors.shape[1] != vec.shape[1]:
            self._vectors = np.zeros((self.total, vec.shape[1]), dtype=np.float16)
            self._have[:] = False
        self._vectors[pos] = vec.astype(np.float16)
        self._have[pos] = True
        # Score the stored float16 vectors, renormalised, as curve() does and as the CLI does
        # with the vectors it reads back from the cache: a prompt's scores must not depend on
        # whether its vector or the frames arrived first, nor differ from `export`.
        stored = normalise(self._vectors[pos].astype(np.float32))
        for entry in self._entries():
            if entry.vector is not None and entry.vector.shape[0] == vec.shape[1]:
                entry.scores[pos] = stored @ entry.vector
        self.version += 1
        return len(pos)

    # -- prompts --------------------------------------------------------------------------------

    def index_of(self, text: str) -> int | None:
        """Position of ``text`` in the prompt list, or None."""
        for i, entry in enumerate(self.prompts):
            if entry.text == text:
                return i
        return None

    def _entries(self) -> list[PromptEntry]:
        """Every scored entry: the prompts, then the baseline prompts."""
        return [*self.prompts, *self.baselines]

    def add_prompt(self, text: str, visible: bool = True) -> tuple[int, bool]:
        """Append a prompt (pending until its vector arrives); ``visible=False`` adds it hidden.

        An ensemble (``a dog|a puppy``) is kept in its canonical spelling, ``a dog | a puppy``.

        Returns:
            ``(index, added)``: the prompt's position, and False if it was already there (it is
            then made visible again instead of duplicated).
        """
        text = canonical_prompt(text)
        existing = self.index_of(text)
        if existing is not None:
            entry = self.prompts[existing]
            if not entry.visible and visible:
                entry.visible = True
                self.version += 1
            return existing, False
        colour = self._next_colour(text)
        entry = PromptEntry(
            text=text,
            color=colour,
            visible=visible,
            scores=np.full(self.total, np.nan, dtype=np.float32),
        )
        self.prompts.append(entry)
        self.version += 1
        return len(self.prompts) - 1, True

    def _next_colour(self, text: str) -> tuple[int, int, int]:
        """The colour ``text`` names if no visible prompt has it, else a free palette colour."""
        colour, self._colour_serial = pick_colour(
            text, ((e.color, e.visible) for e in self.prompts), self._colour_serial
        )
        return colour

    def remove_prompt(self, index: int) -> PromptEntry | None:
        """Delete the prompt at ``index``; returns it (None if out of range)."""
        if not 0 <= index < len(self.prompts):
            return None
        entry = self.prompts.pop(index)
        self.removed.append((index, entry))
        self.version += 1
        return entry

    def toggle(self, index: int) -> bool | None:
        """Show or hide prompt ``index``; returns its new visibility (None if out of range)."""
        if not 0 <= index < len(self.prompts):
            return None
        entry = self.prompts[index]
        entry.visible = not entry.visible
        self.version += 1
        return entry.visible

    def set_vector(self, text: str, vector: np.ndarray) -> bool:
        """Give prompt ``text`` (and a baseline prompt of that text) its vector and score every
        embedded frame against it.

        Returns:
            False if the prompt is no longer on the board (deleted while it was embedding).
        """
        entries = [e for e in self._entries() if e.text == text and e.kind == TEXT]
        if not entries:
            return False
        t = normalise(np.asarray(vector, dtype=np.float32)[None, :])[0]
        scores = self.curve(t)
        for entry in entries:
            entry.vector, entry.state, entry.note = t, READY, ""
            entry.scores = scores.copy()
        self.version += 1
        return True

    def curve(self, vector: np.ndarray) -> np.ndarray:
        """Cosine of every embedded sampled frame with the unit ``vector``; NaN elsewhere."""
        t = np.asarray(vector, dtype=np.float32)
        scores = np.full(self.total, np.nan, dtype=np.float32)
        if self._vectors is not None and self._vectors.shape[1] == t.shape[0]:
            rows = np.flatnonzero(self._have)
            for a in range(0, len(rows), _BLOCK):
                block = rows[a : a + _BLOCK]
                scores[block] = normalise(self._vectors[block].astype(np.float32)) @ t
        return scores

    def restore_removed(self) -> tuple[int, bool] | None:
        """Undo the newest deletion: the prompt returns to its place with its colour and vector.

        Frames embedded while it was gone are scored now. A prompt typed in again since is not
        duplicated: its current place is returned instead.

        Returns:
            ``(index, restored)``, or None if nothing was deleted.
        """
        if not self.removed:
            return None
        index, entry = self.removed.pop()
        existing = self.index_of(entry.text)
        if existing is not None:
            return existing, False
        if entry.vector is not None:
            # Keep the scores it had (bit for bit); score only what arrived while it was gone.
            fresh = self.curve(entry.vector)
            known = np.isfinite(entry.scores)
            fresh[known] = entry.scores[known]
            entry.scores = fresh
        index = min(index, len(self.prompts))
        self.prompts.insert(index, entry)
        self.version += 1
        return index, True

    def mark(self, text: str, state: str, note: str) -> None:
        """Set a prompt's state (pending/rejected) and the note the panel shows."""
        changed = False
        for entry in self._entries():
            if entry.text == text and entry.kind == TEXT:
                entry.state, entry.note = state, note
                changed = True
        if changed:
            self.version += 1

    def pending(self) -> list[str]:
        """Prompts (and baseline prompts) still waiting for a vector."""
        return list(dict.fromkeys(e.text for e in self._entries() if e.state == PENDING))

    # -- baselines and frame prompts ------------------------------------------------------------

    def set_baselines(self, texts: list[str]) -> None:
        """The neutral prompts of the baseline view (pending until embedded)."""
        self.baselines = [
            PromptEntry(
                text=canonical_prompt(t),
                color=(128, 128, 128),
                visible=False,
                scores=np.full(self.total, np.nan, dtype=np.float32),
            )
            for t in texts
        ]
        self.version += 1

    def baseline_scores(self) -> np.ndarray | None:
        """``[N, B]`` cosines of the embedded baseline prompts (None until one is embedded)."""
        ready = [e.scores for e in self.baselines if e.state == READY]
        return np.column_stack(ready) if ready else None

    def frame_vector(self, position: int) -> np.ndarray | None:
        """The unit vector of sampled frame ``position``, None if it is not embedded yet."""
        if self._vectors is None or not 0 <= position < self.total or not self._have[position]:
            return None
        return normalise(self._vectors[position].astype(np.float32)[None, :])[0]

    def add_frame_prompt(self, label: str, vector: np.ndarray) -> int:
        """Add a "more like this frame" pseudo-prompt scored with ``vector`` (no server call).

        Returns:
            Its index (an existing one with the same label is replaced in place).
        """
        t = normalise(np.asarray(vector, dtype=np.float32)[None, :])[0]
        existing = self.index_of(label)
        if existing is not None:
            self.prompts.pop(existing)
        entry = PromptEntry(
            text=label,
            color=self._next_colour(label),
            state=READY,
            vector=t,
            scores=self.curve(t),
            kind=FRAME,
        )
        index = existing if existing is not None else len(self.prompts)
        self.prompts.insert(index, entry)
        self.version += 1
        return index

    # -- positions ------------------------------------------------------------------------------

    def text_at(self, index: int) -> str | None:
        """The text of prompt ``index``, None if there is no such row."""
        return self.prompts[index].text if 0 <= index < len(self.prompts) else None

    def add_like_frame(self, frame: int, label: Callable[[float], str]) -> int | None:
        """Add "more like this": a pseudo-prompt that scores every frame against the embedded
        frame at raw ``frame``, named ``label(its time)``; its row, None if not embedded yet."""
        pos = self.position_of(frame)
        vector = None if pos is None else self.frame_vector(pos)
        if pos is None or vector is None:
            return None
        return self.add_frame_prompt(label(float(self.times[pos])), vector)

    def position_of(self, frame: int) -> int | None:
        """Index into ``sampled`` of the last sampled frame at or before raw ``frame``."""
        if self.total == 0:
            return None
        pos = int(np.searchsorted(self.sampled, frame, side="right")) - 1
        return max(0, pos)

    def scores_at(self, frame: int) -> list[float]:
        """Each prompt's score at the sampled frame shown at raw ``frame`` (NaN if unknown)."""
        pos = self.position_of(frame)
        if pos is None:
            return [float("nan")] * len(self.prompts)
        return [float(e.scores[pos]) if e.scores.size else float("nan") for e in self.prompts]

    def step(self, frame: int, direction: int) -> int:
        """The next (``direction`` > 0) or previous sampled frame from raw ``frame``.

        Stays at ``frame`` when there is none in that direction.
        """
        if self.total == 0:
            return frame
        if direction > 0:
            pos = int(np.searchsorted(self.sampled, frame, side="right"))
            return int(self.sampled[pos]) if pos < self.total else frame
        pos = int(np.searchsorted(self.sampled, frame, side="left")) - 1
        return int(self.sampled[pos]) if pos >= 0 else frame

    def sampled_between(self, start: float, end: float, seconds: float) -> int | None:
        """The sampled frame in ``[start, end)`` closest to ``seconds`` (None if there is none)."""
        a = int(np.searchsorted(self.times, start, side="left"))
        b = int(np.searchsorted(self.times, end, side="left"))
        if a >= b:
            return None
        best = a + int(np.argmin(np.abs(self.times[a:b] - seconds)))
        return int(self.sampled[best])

    def nearest_sampled(self, seconds: float) -> int | None:
        """The sampled raw frame closest in time to ``seconds``."""
        if self.total == 0:
            return None
        pos = int(np.searchsorted(self.times, seconds))
        candidates = [p for p in (pos - 1, pos) if 0 <= p < self.total]
        best = min(candidates, key=lambda p: abs(self.times[p] - seconds))
        return int(self.sampled[best])
