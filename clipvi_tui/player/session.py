"""Sessions that persist: a video's prompts (text, visibility, thresholds) come back next time.

A session is stored per video *content* (the cache's fingerprint: a renamed copy finds it, an
edited file does not) as ``<cache_dir>/sessions/<fingerprint>.json``, next to the embeddings it
belongs with and never in config.yaml. It is written, atomically, after every prompt edit, so a
crash loses nothing; a file that cannot be read is ignored (and left alone), never fatal.

Which prompts a video opens with (:func:`starting_prompts`): every prompt the command line,
config.yaml or the library offers that the session has not been offered before (first, with the
cursor on it: it is what was just asked for), then the saved ones, in their order and state. So
a prompt deleted last time stays deleted even though config.yaml still lists it, while a new
``-p`` prompt, a new config entry or a library search's query shows up. ``restore_session: false``
(``--fresh``) opens with the offered prompts only; the session is then overwritten by this run.

Thresholds are kept per prompt and per score view (a fixed threshold is in its view's units).
A threshold given by ``--threshold`` or config.yaml wins over a saved one for the same prompt and
view. "More like this frame" pseudo-prompts are not saved: they have no text to embed.

No Textual here: the screen calls :class:`SessionKeeper` and shows what it reports.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clipvi_tui.core.video import VideoInfo, fingerprint
from clipvi_tui.core.views import VIEWS
from clipvi_tui.player.moments import MomentsModel
from clipvi_tui.player.scoreboard import TEXT, ScoreBoard

Thresholds = dict[str, float | None]  # score view → fixed threshold (None: auto)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SESSIONS_DIR = "sessions"


@dataclass(frozen=True)
class SavedPrompt:
    """One prompt as a session keeps it.

    Attributes:
        text: the prompt.
        visible: whether its line is drawn.
        thresholds: per score view, the fixed threshold set for it (None: ``auto`` explicitly);
            views without an entry use the default.
    """

    text: str
    visible: bool = True
    thresholds: Thresholds = field(default_factory=dict)


@dataclass(frozen=True)
class Session:
    """What is remembered about one video.

    Attributes:
        prompts: the prompt list, in order.
        offered: the prompts the command line / config offered when it was saved (so a deleted
            one is not offered again as new).
        selected: the row of the prompt cursor.
    """

    prompts: list[SavedPrompt] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)
    selected: int = 0


def session_path(cache_dir: Path, video_fingerprint: str) -> Path:
    """Where the session of the video with ``video_fingerprint`` is stored."""
    return Path(cache_dir) / SESSIONS_DIR / f"{video_fingerprint}.json"


def load_session(path: Path) -> Session | None:
    """Read a session file; None if there is none or it cannot be understood (logged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _from_json(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("ignoring unreadable session %s: %s", path, exc)
        return None


def _from_json(data: Any) -> Session:
    """Parse and validate a session document (raises ValueError/TypeError/KeyError)."""
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError("not a clipvi-tui session of a known version")
    prompts = []
    for item in data["prompts"]:
        text = str(item["text"]).strip()
        if text:
            thresholds = _thresholds(item.get("thresholds", {}))
            prompts.append(SavedPrompt(text, bool(item.get("visible", True)), thresholds))
    offered = [str(t) for t in data.get("offered", [])]
    return Session(prompts, offered, int(data.get("selected", 0)))


def _thresholds(raw: Any) -> Thresholds:
    """Saved thresholds of known views; a value that is not a finite number means ``auto``."""
    if not isinstance(raw, dict):
        raise TypeError("thresholds must be a mapping of view to value")
    out: Thresholds = {}
    for view, value in raw.items():
        if view not in VIEWS:
            continue  # a view this version does not know: ignore it, keep the rest
        number = None if value is None or isinstance(value, bool) else float(value)
        out[str(view)] = number if number is not None and math.isfinite(number) else None
    return out


def save_session(path: Path, session: Session, video_name: str = "") -> None:
    """Write ``session`` atomically (a temporary file renamed over the old one).

    Raises:
        OSError: if the folder cannot be created or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": FORMAT_VERSION,
        "video": video_name,  # for a human looking at the folder; the fingerprint is the key
        "prompts": [asdict(p) for p in session.prompts],
        "offered": session.offered,
        "selected": session.selected,
    }
    fd, tmp = tempfile.mkstemp(prefix=".session-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def new_offers(session: Session | None, offered: list[str]) -> list[str]:
    """The offered prompts ``session`` has neither kept nor been offered before."""
    if session is None:
        return list(offered)
    known = {p.text for p in session.prompts} | set(session.offered)
    return [text for text in offered if text not in known]


def starting_prompts(session: Session | None, offered: list[str]) -> list[SavedPrompt]:
    """The prompts a video opens with: offered prompts the session has never seen, then its
    own."""
    fresh = [SavedPrompt(text) for text in new_offers(session, offered)]
    return fresh + (list(session.prompts) if session is not None else [])


class SessionKeeper:
    """Loads a video's session when the player opens and saves it after each prompt edit."""

    def __init__(
        self, cache_dir: Path, video: Path, info: VideoInfo, offered: list[str], restore: bool
    ) -> None:
        """Find and (if ``restore``) read the session of ``video``.

        Args:
            cache_dir: the embedding cache's folder (sessions live in a subfolder).
            video: the video file.
            info: its metadata (part of the fingerprint, as for the cache).
            offered: prompts from the command line or config.yaml.
            restore: False for ``--fresh``: the saved session is not read (but is overwritten).
        """
        self.path = session_path(cache_dir, fingerprint(video, info))
        self.video_name = video.name
        self.offered = list(offered)
        saved = load_session(self.path) if restore else None
        self.restored = saved is not None and bool(saved.prompts)
        self.prompts = starting_prompts(saved, self.offered)
        # The cursor goes to a prompt just asked for, else where it was left.
        selected = saved.selected if saved is not None and not new_offers(saved, offered) else 0
        self.selected = max(0, min(selected, len(self.prompts) - 1))
        self._seen_offered = list(dict.fromkeys([*(saved.offered if saved else []), *offered]))
        self._last_written: Session | None = saved
        self.error: str | None = None  # why the last save failed, if it did

    def fill(self, board: ScoreBoard, moments: MomentsModel) -> None:
        """Put the starting prompts on ``board`` (hidden ones hidden, colours as for new ones) and
        their saved thresholds in ``moments`` (where the settings set none)."""
        for saved in self.prompts:
            board.add_prompt(saved.text, visible=saved.visible)
            for view, value in saved.thresholds.items():
                moments.restore_threshold(saved.text, view, value)

    def save_board(self, board: ScoreBoard, moments: MomentsModel, selected: int) -> bool:
        """Save the text prompts on ``board`` with their thresholds (see :meth:`save`)."""
        prompts = [
            SavedPrompt(e.text, e.visible, moments.thresholds_of(e.text))
            for e in board.prompts
            if e.kind == TEXT
        ]
        return self.save(prompts, selected)

    def save(self, prompts: list[SavedPrompt], selected: int) -> bool:
        """Store the current prompt list (skipped when nothing changed); False if it failed.

        Every prompt offered so far is remembered as offered, so a deleted one stays deleted.
        """
        session = Session(list(prompts), self._seen_offered, selected)
        if session == self._last_written:
            return True
        try:
            save_session(self.path, session, self.video_name)
        except OSError as exc:
            self.error = f"could not save this video's prompts to {self.path}: {exc}"
            return False
        self._last_written, self.error = session, None
        return True
