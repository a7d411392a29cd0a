"""Fixtures for the Pilot tests: a generated video, a fake client, settings and an app factory.

The helpers and the fake client live in ``appfakes.py`` (see there why).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from tests.app.appfakes import ColourClient, MakeApp, write_video
from tests.support.tmux import Tmux, private_tmux


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server for a test of the real app in a real terminal, killed afterwards."""
    with private_tmux() as t:
        yield t


@pytest.fixture(scope="session")
def video_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared 6-second test video."""
    return write_video(tmp_path_factory.mktemp("video") / "colours.avi")


@pytest.fixture
def client() -> ColourClient:
    """A fresh fake client per test."""
    return ColourClient()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private cache, 5 fps sampling, no server start and two prompts.

    The app opens paused here (``autoplay=False``) so key tests start from frame 0;
    ``test_autoplay.py`` covers the default, which plays.
    """
    return Settings(
        autoplay=False,
        cache_dir=tmp_path / "cache",
        sample_fps=5.0,
        server="external",
        graphics="unicode",
        prompts=["red", "green"],
    )


@pytest.fixture
def make_app(settings: Settings, video_path: Path, client: ColourClient) -> MakeApp:
    """Build an app on the test video with the fake client (keyword args override)."""

    def make(**overrides: object) -> ClipviApp:
        kwargs: dict[str, object] = {
            "graphics": "unicode",
            "client_factory": lambda url: client,
            "start_server": False,
        }
        kwargs.update(overrides)
        return ClipviApp(settings, video_path, **kwargs)  # type: ignore[arg-type]

    return make
