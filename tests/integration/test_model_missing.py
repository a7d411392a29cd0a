"""A first run outside the repository on an offline machine: no ``./config.yaml``, so no model
dir, and the auto-started local server has no CLIP weights and no internet to fetch them.

Both the CLI and the app must say so in one line with the fix (``--model-dir``, ``model_dir:``
in config.yaml, or a server with internet) instead of retrying HTTP 503 forever or failing with
``KeyError: 'request_data'``. Each test starts a real local server (no model dir), as the user's
run would; the machine is offline, as CI is.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from clipvi_tui.server.serve import free_port
from tests.support.faults import clipvi, stderr_lines
from tests.support.tmux import in_toasts, private_tmux, wait_screen

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIX = "--model-dir DIR, or model_dir: in config.yaml) or internet access"


def test_index_says_the_model_cannot_be_loaded_and_how_to_fix_it(
    coded_video: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing there: server auto starts one
    out = subprocess.run(
        clipvi("index", str(coded_video), "-p", "red", "--api-url", url),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # no config.yaml here
    )
    assert out.returncode == 3, out.stderr
    starting, error = stderr_lines(out.stderr)
    assert "starting one on http://127.0.0.1:" in starting
    assert "cannot load model clip/ViT-B-16" in error and FIX in error, error
    assert "request_data" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_the_app_says_it_once_instead_of_retrying_forever(
    coded_video: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cmd = clipvi(str(coded_video), "-p", "red", "--api-url", url, "--graphics", "halfcell")
    with private_tmux("clipvi-nomodel") as tmux:
        tmux.start(f"cd {shlex.quote(str(tmp_path))} && {shlex.join(cmd)}")
        text = wait_screen(
            tmux,
            lambda s: in_toasts("cannot load model clip/ViT-B-16", s),
            180,
            "the model-missing notification",
        )
        assert in_toasts(FIX, text), text
        # Not "server error, retrying" forever: once the notice fades, the status bar says failed.
        wait_screen(tmux, lambda s: "server failed" in s, 30, "the failed state")
        tmux.keys("q")
