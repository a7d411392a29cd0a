"""Shared fixtures: isolation of config and cache, generated videos, the real Inference server.

The server is the real Roboflow Inference HTTP server (``inference-cpu[http]``), started once per
test session the way a user starts it — ``clipvi-tui serve`` — on a free loopback port, offline,
serving two ONNX pairs: ``tiny-test`` (generated here, see ``support/tiny_model.py``) and, when
it is in the repository, the trained demo model ``shapes-demo`` from ``models/``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import ServerDidNotStart, start_test_server
from tests.support.tiny_model import write_tiny_clip
from tests.support.videos import write_coded_video

REPO = Path(__file__).resolve().parent.parent
DEMO_MODEL = REPO / "models" / "shapes-demo"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's config, cache and ./config.yaml."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("CLIPVI_CACHE_DIR", str(tmp_path / "cache"))
    for var in (
        "ROBOFLOW_API_KEY",
        "CLIPVI_API_URL",
        "CLIPVI_CLIP_VERSION",
        "CLIPVI_SAMPLE_FPS",
        "CLIPVI_GRAPHICS",
        "CLIPVI_SERVER",
        "CLIPVI_MODEL_DIR",
        "CLIPVI_AUTOPLAY",
    ):
        monkeypatch.delenv(var, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture
def coded_video(tmp_path: Path) -> Path:
    """A 60-frame, 10 fps mp4v video whose frames carry their index as a bit code."""
    return write_coded_video(tmp_path / "coded.mp4", frames=60, fps=10.0)


@dataclass
class InferenceServer:
    """A running test server."""

    url: str
    clip_version: str
    demo_version: str | None
    tiny_model_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    def cli_args(self) -> list[str]:
        """Options that point a clipvi-tui command at this server and its tiny model."""
        return ["--api-url", self.url, "--clip-version", self.clip_version, "--server", "external"]


@pytest.fixture(scope="session")
def inference_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferenceServer]:
    """The real Inference server with the test models, once per session."""
    root = tmp_path_factory.mktemp("inference")
    tiny = write_tiny_clip(root / "tiny-test")
    demo = "shapes-demo" if (DEMO_MODEL / "visual.onnx").is_file() else None
    try:
        proc, url, log = start_test_server(
            root, tiny, "tiny-test", {demo: DEMO_MODEL} if demo else None
        )
    except ServerDidNotStart as exc:
        pytest.fail(str(exc))
    server = InferenceServer(
        url=url,
        clip_version="tiny-test",
        demo_version=demo,
        tiny_model_dir=tiny,
        process=proc,
        log=log,
    )
    yield server
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
