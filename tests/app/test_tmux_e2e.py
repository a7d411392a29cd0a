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
    """The k of "frame k/last" in the status bar (0-based, as in exports)."""
    match = re.search(r"frame (\d+)/\d+", text)
    assert match, f"no frame counter on screen:\n{text}"
    return int(match.group(1))


def time_axis(text: str) -> str:
    """The chart's time labels: the line under its axis (the one with "└")."""
    lines = text.splitlines()
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    return lines[axis + 1]


_SGR = re.compile(r"(\x1b\[[0-9;:]*m)")


def video_cells(tmux: Tmux) -> list[tuple[str, ...]]:
    """The video box's cells (character and colours) from a coloured capture, borders excluded.

    The half-block picture is the same characters in every frame, only the colours differ, so a
    picture is compared by (character, SGR state) per cell. Only the video box is kept: the
    prompt panel's scores change with the frame even when the picture is frozen.
    """
    # A capture can land mid-repaint on a loaded machine, before the box's top border is
    # drawn again: capture until its top-right corner is there.
    for _ in range(50):
        lines = tmux.screen(colours=True).splitlines()
        right = _SGR.sub("", lines[0]).find("╮")  # the video box's top-right corner
        if right > 0:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"no video box on screen:\n{tmux.screen()}")
    picture: list[tuple[str, ...]] = []
    for line in lines[1:]:
        cells: list[str] = []
        style = ""
        for piece in _SGR.split(line):
            if piece.startswith("\x1b["):
                style = "" if piece in ("\x1b[0m", "\x1b[m") else style + piece
            else:
                cells.extend(f"{ch}{style}" for ch in piece)
        if cells and cells[0].startswith("╰"):
            break  # the box's bottom border
        picture.append(tuple(cells[1:right]))
    return picture


def wait_picture_change(
    tmux: Tmux, before: list[tuple[str, ...]], timeout: float, what: str
) -> None:
    """Poll until the video box shows another picture than ``before``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if video_cells(tmux) != before:
            return
        time.sleep(0.1)
    raise AssertionError(f"the picture did not change ({what}); screen:\n{tmux.screen()}")


def test_app_in_tmux_against_real_server(
    tmux: Tmux, inference_server: Any, coded_video: Path, tmp_path: Path
) -> None:
    """Given the real server, the app plays on open, indexes the video with real embeddings,
    replays after the end with the picture moving again, seeks, zooms the chart's time axis,
    adds a prompt, shows help, draws 24-bit colour in tmux and quits on ctrl+c with exit code
    0."""
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

    # Plays on open: no key pressed, the counter and the picture move.
    wait_screen(tmux, lambda s: "playing" in s and frame_number(s) > 0, 60, "playback on open")
    first = video_cells(tmux)
    wait_picture_change(tmux, first, 5, "playing on open")

    text = wait_screen(tmux, lambda s: "indexed 30/30" in s, 90, "indexing to finish")
    assert "server connected" in text
    assert "a red frame" in text and "a dark square" in text
    assert "38;2;" in tmux.screen(colours=True), "24-bit colour inside tmux"
    # The 6-second video has played to its end by now (or will shortly) and stopped there.
    wait_screen(tmux, lambda s: "frame 59/59" in s and "paused" in s, 15, "the end")
    # Both prompts have a score under the playhead (a number, not "…" or "–").
    assert re.search(r"a red frame\s+-?0\.\d{3}", tmux.screen()), tmux.screen()

    # Replay after the end: space starts over and the picture moves again (it froze before).
    at_end = video_cells(tmux)
    tmux.keys("Space")
    wait_screen(tmux, lambda s: "playing" in s and frame_number(s) < 59, 5, "replay")
    wait_picture_change(tmux, at_end, 5, "replay after the end")
    replaying = video_cells(tmux)
    wait_picture_change(tmux, replaying, 5, "replay goes on")
    tmux.keys("Space")
    paused = frame_number(wait_screen(tmux, lambda s: "paused" in s, 5, "pause"))
    time.sleep(0.5)
    assert frame_number(tmux.screen()) == paused, "paused means paused"

    tmux.keys("End")
    wait_screen(tmux, lambda s: "frame 59/59" in s, 5, "end key")
    tmux.keys("Home")
    wait_screen(tmux, lambda s: "frame 0/59" in s, 5, "home key")
    tmux.keys("Right", "Right")
    wait_screen(tmux, lambda s: "frame 4/59" in s, 5, "two sampled steps")

    # Time zoom: + narrows the axis around the playhead (tenths in the labels, the window on the
    # chart's bottom border), 0 shows the whole video again.
    assert "0:06" in time_axis(tmux.screen())
    tmux.keys("+")
    zoomed = time_axis(wait_screen(tmux, lambda s: "0 whole video" in s, 5, "zoom in"))
    assert re.search(r"0:0\d\.\d", zoomed) and "0:06" not in zoomed, zoomed
    tmux.keys("0")
    wait_screen(tmux, lambda s: "0 whole video" not in s and "0:06" in time_axis(s), 5, "reset")

    tmux.keys("a")
    wait_screen(tmux, lambda s: "Add prompt" in s and "enter adds" in s, 5, "prompt dialog")
    tmux.keys("-l", "green stripes")
    tmux.keys("Enter")
    new_score = re.compile(r"green stripes\s+-?0\.\d{3}")
    wait_screen(tmux, new_score.search, 20, "new prompt's score")

    tmux.keys("?")
    wait_screen(tmux, lambda s: "esc, q or ? closes this help" in s, 5, "help screen")
    tmux.keys("Escape")
    wait_screen(tmux, lambda s: "closes this help" not in s, 5, "help to close")

    tmux.keys("C-c")  # quits like q (Textual's own ctrl+c only says "press ctrl+q")
    deadline = time.monotonic() + 15
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exit_file.exists(), f"the app did not exit; screen:\n{tmux.screen()}"
    assert exit_file.read_text().strip() == "0"
    assert "Traceback" not in tmux.screen()
