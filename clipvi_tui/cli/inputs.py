"""Command-line inputs checked as typed, before they become paths: one line for each bad one."""

from __future__ import annotations

from pathlib import Path

from clipvi_tui.cli.errors import UsageError

URL_SCHEMES = ("http://", "https://", "rtsp://", "rtmp://", "ftp://", "s3://", "file://")


def refuse_url(text: str) -> None:
    """Raise if ``text`` (a VIDEO argument) is a URL: the app reads local files only.

    Raises:
        UsageError: saying so, and how to get the file.
    """
    if text.strip().lower().startswith(URL_SCHEMES):
        raise UsageError(
            f"VIDEO must be a local file, not a URL ({text}): download it first "
            "(e.g. curl -o video.mp4 URL)"
        )


def local_video(text: str) -> Path:
    """``text`` (a VIDEO argument) as the path of an existing local video file.

    Checked as typed: a URL must be seen before it becomes a path (``Path`` turns
    ``http://host/a.mp4`` into ``http:/host/a.mp4``).

    Raises:
        UsageError: if it is a URL, a folder, or no file.
    """
    refuse_url(text)
    path = Path(text).expanduser()
    if path.is_dir():
        raise UsageError(f"VIDEO must be a video file, not a folder: {path}")
    if not path.is_file():
        raise UsageError(f"video not found: {path}")
    return path
