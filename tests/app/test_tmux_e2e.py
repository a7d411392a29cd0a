"""End to end: the real ``clipvi-tui`` in a real terminal (tmux) against the real Inference server.

The app runs as a user runs it — ``python -m clipvi_tui VIDEO -p … --api-url …`` — in a detached
120×40 tmux session on a private tmux server; keys go in with ``send-keys`` and the screen comes
back with ``capture-pane``. Nothing is faked: real decoding, real half-block rendering, real CLIP
embeddings (the tiny test model) over HTTP, the real LMDB cache.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.tmux import Tmux, wait_screen

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


def frame_number(text: str) -> int:
    """The k of "frame k/N" in the status bar."""
    match = re.search(r"frame (\d+)/\d+", text)
    assert match, f"no frame counter on screen:\n{text}"
    return int(match.group(1))


def test_app_in_tmux_against_real_server(
    tmux: Tmux, inference_server: Any, coded_video: Path, tmp_path: Path
) -> None:
    """Given the real server, the app indexes the video with real embeddings, plays, seeks, adds a
    prompt, shows help, draws 24-bit colour in tmux and quits with exit code 0."""
    exit_file = tmp_path / "exit-code"
    cmd = [
        sys.executable,
        "-m",
        "clipvi_tui",
        str(coded_video),
        "-p",
        "a red frame",
        "-p",
        "a dark square",
        *inference_server.cli_args(),
        "--graphics",
        "halfcell",
        "--sample-fps",
        "5",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    env = {"HOME": os.environ["HOME"], "CLIPVI_DEBUG": "1"}
    # COLORTERM is deliberately absent: inside tmux the launcher must turn on 24-bit colour.
    shell = (
        f"cd {shlex.quote(str(tmp_path))} && env -u COLORTERM "
        + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        + f" {shlex.join(cmd)}; echo $? > {shlex.quote(str(exit_file))}; exit"
    )
    tmux.start(shell)

    text = wait_screen(tmux, lambda s: "indexed 30/30" in s, 90, "indexing to finish")
    assert "server connected" in text
    assert "frame 1/60" in text
    assert "a red frame" in text and "a dark square" in text
    # Both prompts have a score under the playhead (a number, not "…" or "–").
    assert re.search(r"a red frame\s+0\.\d{3}", text), text
    assert "38;2;" in tmux.screen(colours=True), "24-bit colour inside tmux"

    tmux.keys("Space")
    text = wait_screen(tmux, lambda s: frame_number(s) > 10, 10, "playback to advance")
    tmux.keys("Space")
    paused = frame_number(wait_screen(tmux, lambda s: "paused" in s, 5, "pause"))
    time.sleep(0.5)
    assert frame_number(tmux.screen()) == paused, "paused means paused"

    tmux.keys("End")
    wait_screen(tmux, lambda s: "frame 60/60" in s, 5, "end key")
    tmux.keys("Home")
    wait_screen(tmux, lambda s: "frame 1/60" in s, 5, "home key")
    tmux.keys("Right", "Right")
    wait_screen(tmux, lambda s: "frame 5/60" in s, 5, "two sampled steps")

    tmux.keys("a")
    wait_screen(tmux, lambda s: "Add prompt" in s and "enter adds" in s, 5, "prompt dialog")
    tmux.keys("-l", "green stripes")
    tmux.keys("Enter")
    wait_screen(tmux, lambda s: re.search(r"green stripes\s+0\.\d{3}", s), 20, "new prompt's score")

    tmux.keys("?")
    wait_screen(tmux, lambda s: "esc, q or ? closes this help" in s, 5, "help screen")
    tmux.keys("Escape")
    wait_screen(tmux, lambda s: "closes this help" not in s, 5, "help to close")

    tmux.keys("q")
    deadline = time.monotonic() + 15
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exit_file.exists(), f"the app did not exit; screen:\n{tmux.screen()}"
    assert exit_file.read_text().strip() == "0"
    assert "Traceback" not in tmux.screen()
