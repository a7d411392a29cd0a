"""Tests of the launcher: order of start-up steps, tmux colour, graphics mode, bad videos."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from clipvi_tui import launcher
from clipvi_tui.cli import main
from clipvi_tui.config import Settings
from clipvi_tui.core.video import VideoError
from clipvi_tui.widgets.graphics import resolve_mode


def test_truecolor_is_set_only_inside_tmux_and_only_when_unset() -> None:
    """tmux hides the terminal's 24-bit colour from Textual; the launcher turns it on there."""
    env = {"TMUX": "/tmp/tmux-0/default,1,0"}
    assert launcher.prefer_truecolor_in_tmux(env) and env["COLORTERM"] == "truecolor"
    mine = {"TMUX": "x", "COLORTERM": "24bit"}
    assert not launcher.prefer_truecolor_in_tmux(mine) and mine["COLORTERM"] == "24bit"
    outside: dict[str, str] = {}
    assert not launcher.prefer_truecolor_in_tmux(outside) and "COLORTERM" not in outside


def test_resolve_mode() -> None:
    """Forced modes are kept; auto without a terminal is unicode; textual-image is imported
    (its terminal queries done) by the time a mode it draws is known — a forced halfcell needs
    none of it (our own widget), so its 0.2 s of terminal queries are skipped; unknown modes
    are refused."""
    assert resolve_mode("halfcell") == "halfcell"
    assert resolve_mode("unicode") == "unicode"
    assert "textual_image.renderable" in sys.modules
    assert resolve_mode("auto") == "unicode", "pytest's stdout is not a terminal"
    with pytest.raises(ValueError):
        resolve_mode("ascii-art")


def test_launch_prepares_the_terminal_before_running(
    monkeypatch: pytest.MonkeyPatch, video_path: Path, tmp_path: Path
) -> None:
    """Given tmux without COLORTERM, launch() sets truecolor and finishes the textual-image
    detection before App.run(), passes the forced graphics mode, and returns the exit code."""
    from clipvi_tui.app import ClipviApp

    seen: dict[str, Any] = {}

    def fake_run(self: ClipviApp, *args: Any, **kwargs: Any) -> None:
        import os

        seen["colorterm"] = os.environ.get("COLORTERM")
        seen["detected"] = "textual_image.renderable" in sys.modules
        seen["graphics"] = self.config.graphics
        self._return_code = 0

    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.setattr(ClipviApp, "run", fake_run)
    settings = Settings(cache_dir=tmp_path / "cache", graphics="halfcell", server="external")
    assert launcher.launch(settings, video_path) == 0
    assert seen == {"colorterm": "truecolor", "detected": True, "graphics": "halfcell"}


def test_bad_video_fails_before_the_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file OpenCV cannot read ends in one line on stderr and exit code 2, no screen drawn."""
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError):
        launcher.launch(Settings(cache_dir=tmp_path / "c"), junk)
    assert main([str(junk), "--server", "external"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "junk.mp4" in err[0], err
