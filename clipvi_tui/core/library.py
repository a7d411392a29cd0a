"""A library: the videos that paths, folders and globs name, and how far each one is indexed.

Folders are searched recursively for files with a video extension (hidden files and folders are
skipped); a file named explicitly is taken whatever its extension, and probing says whether it
is a video. Nothing here embeds anything: the state comes from the cache alone.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.search import VideoVectors
from clipvi_tui.core.similarity import sampled_vectors
from clipvi_tui.core.video import VideoError, VideoInfo, fingerprint, probe, sample_indices

VIDEO_EXTENSIONS = frozenset(
    {
        ".3gp",
        ".avi",
        ".flv",
        ".m2ts",
        ".m4v",
        ".mkv",
        ".mov",
        ".mp4",
        ".mpeg",
        ".mpg",
        ".mts",
        ".ogv",
        ".ts",
        ".webm",
        ".wmv",
    }
)
GLOB_CHARS = frozenset("*?[")  # a path with one of these that names no file is a glob


class LibraryError(Exception):
    """The paths name no video; ``str()`` says which path and why."""


def is_video_name(path: Path) -> bool:
    """True when the file name ends in a known video extension (case-insensitive)."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


def videos_in(folder: Path) -> list[Path]:
    """Video files under ``folder``, recursively, sorted by path; hidden entries are skipped."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(root) / f
            for f in sorted(files)
            if not f.startswith(".") and is_video_name(Path(f))
        )
    return found


def find_videos(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The videos named by ``paths``: files, folders (recursive) and globs, each once, in order.

    Raises:
        LibraryError: for a path that does not exist, a glob or folder without videos, or no
            paths at all.
    """
    if not paths:
        raise LibraryError("no videos given (pass files, folders or globs)")
    out: dict[Path, None] = {}
    for raw in paths:
        text = os.fspath(raw)
        path = Path(text).expanduser()
        if path.is_file():
            found = [path]
        elif path.is_dir():
            found = videos_in(path)
            if not found:
                raise LibraryError(f"no video files in {text} (looked for {_extensions()})")
        elif GLOB_CHARS & set(text):
            found = _glob(text)
        else:
            raise LibraryError(f"no such file or folder: {text}")
        for p in found:
            out.setdefault(Path(os.path.abspath(p)), None)
    return list(out)


def _glob(pattern: str) -> list[Path]:
    matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
    found: list[Path] = []
    for m in map(Path, matches):
        if m.is_dir():
            found.extend(videos_in(m))
        elif m.is_file() and is_video_name(m):
            found.append(m)
    if not found:
        raise LibraryError(f"no videos match {pattern}")
    return found


def _extensions() -> str:
    return " ".join(sorted(VIDEO_EXTENSIONS))


@dataclass(frozen=True)
class LibraryEntry:
    """One video of a library and how much of it the cache holds.

    Attributes:
        path: the file.
        info: its metadata (None when it cannot be opened).
        fingerprint: its cache key ('' when it cannot be opened).
        total: frames the sampling rate selects.
        cached: of those, frames with a cached vector.
        error: why it cannot be opened, if it cannot.
    """

    path: Path
    info: VideoInfo | None
    fingerprint: str
    total: int
    cached: int
    error: str | None = None

    @property
    def state(self) -> str:
        """``indexed`` (every sampled frame), ``partial``, ``new`` (none) or ``error``."""
        if self.error is not None:
            return "error"
        if self.total and self.cached >= self.total:
            return "indexed"
        return "partial" if self.cached else "new"

    @property
    def duration(self) -> float:
        """Length in seconds (0 when unknown)."""
        return self.info.duration if self.info is not None else 0.0


def library_entry(
    path: Path, cache: EmbeddingCache, model_id: str, tag: str, sample_fps: float | None
) -> LibraryEntry:
    """Probe ``path`` and count its cached sampled frames; an unreadable file is an entry too.

    The frame index comes from the cache when the video was probed before (no demux pass), and
    is kept there when it is new.
    """
    try:
        info = probe(path, cache)
        key = fingerprint(path, info)
    except (VideoError, OSError) as exc:
        return LibraryEntry(path, None, "", 0, 0, error=str(exc) or type(exc).__name__)
    sampled = sample_indices(info, sample_fps)
    cached = cache.frame_indices(key, model_id, tag)
    return LibraryEntry(path, info, key, len(sampled), int(np.isin(sampled, cached).sum()))


def scan_library(
    videos: Sequence[Path],
    cache: EmbeddingCache,
    model_id: str,
    tag: str,
    sample_fps: float | None,
) -> list[LibraryEntry]:
    """:func:`library_entry` for every video, in order."""
    return [library_entry(v, cache, model_id, tag, sample_fps) for v in videos]


def entry_vectors(
    cache: EmbeddingCache, entry: LibraryEntry, model_id: str, tag: str, sample_fps: float | None
) -> VideoVectors:
    """The sampled frames' vectors of one library video, as search takes them.

    Frames not embedded yet are NaN rows (never hits). ``video`` is the entry's path as text.

    Raises:
        ValueError: for an entry that could not be opened.
    """
    if entry.info is None:
        raise ValueError(f"{entry.path} cannot be searched: {entry.error}")
    sampled = sample_indices(entry.info, sample_fps)
    idx, vecs = cache.frame_matrix(entry.fingerprint, model_id, tag)
    return VideoVectors(
        str(entry.path), sampled, entry.info.times_of(sampled), sampled_vectors(sampled, idx, vecs)
    )
