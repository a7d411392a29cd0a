"""Fixtures for the SVG snapshots: the same generated video and fake client as the Pilot tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.appfakes import write_video


@pytest.fixture(scope="session")
def snapshot_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 6-second red/green/blue test video."""
    return write_video(tmp_path_factory.mktemp("snapvideo") / "colours.avi")
