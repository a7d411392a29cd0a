"""``server: auto``: with nothing listening at a loopback api_url, commands start the real server.

This starts a second Inference server (≈10 s), the way a user's first run does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clipvi_tui.server.embedded import is_loopback, should_start
from clipvi_tui.server.serve import free_port
from tests.conftest import InferenceServer

pytestmark = pytest.mark.integration


def test_export_starts_and_stops_an_embedded_server(
    inference_server: InferenceServer, coded_video: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "clipvi_tui",
            "export",
            str(coded_video),
            "-p",
            "red",
            "--api-url",
            url,
            "--clip-version",
            "tiny-test",
            "--model-dir",
            str(inference_server.tiny_model_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "starting one on http://127.0.0.1:" in out.stderr
    assert out.stdout.startswith("frame,time_s,red\n")
    assert len(out.stdout.splitlines()) == 31
    # The child is gone: nothing answers on the port it used.
    used = out.stderr.split("starting one on ")[1].split(" ")[0]
    from clipvi_tui.core.reachability import server_answers

    assert not server_answers(used), "embedded server outlived the command"


def test_auto_start_rules(inference_server: InferenceServer) -> None:
    free = f"http://127.0.0.1:{free_port()}"
    assert should_start(free, "auto")
    assert not should_start(free, "external"), "external means never start one"
    assert not should_start(inference_server.url, "auto"), "one already answers"
    assert not is_loopback("http://gpu-box:9001"), "a remote server is the user's business"
