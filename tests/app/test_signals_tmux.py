"""Signals and failures seen by the real app in a real terminal (tmux), against the real server.

SIGTERM and SIGHUP (``kill`` from another shell, an SSH session going away) must end the app as
``q`` does: the terminal back to normal (no alternate screen, no mouse reporting, a visible
cursor — read from tmux's own pane state, not guessed from the screen), workers stopped, and an
auto-started Inference server gone. A full disk under the cache (a real 1 MiB tmpfs) is shown as
an error state while playback goes on.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import time
from pathlib import Path

import pytest

from clipvi_tui.server.serve import free_port
from tests.conftest import InferenceServer
from tests.support.faults import clipvi, unshare_prefix, wait_until
from tests.support.tmux import Tmux, in_toasts, wait_screen
from tests.support.videos import write_coded_video

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

PANE_STATE = (
    "#{alternate_on} #{mouse_any_flag} #{mouse_button_flag} #{mouse_sgr_flag} #{cursor_flag}"
)


def pane_state(tmux: Tmux) -> dict[str, int]:
    """What the terminal is set to right now, as tmux sees it."""
    values = tmux.run("display-message", "-p", "-t", tmux.session, PANE_STATE).split()
    names = ("alternate", "mouse_any", "mouse_button", "mouse_sgr", "cursor_visible")
    return {name: int(v) for name, v in zip(names, values, strict=True)}


def launch(tmux: Tmux, tmp_path: Path, cmd: list[str], prefix: list[str] | None = None) -> Path:
    """Run ``cmd`` in the pane with its pid in ``pid`` and its exit code in ``exit-code``."""
    pid, code = tmp_path / "pid", tmp_path / "exit-code"
    inner = f"echo $$ > {shlex.quote(str(pid))}; exec {shlex.join(cmd)}"
    runner = shlex.join([*(prefix or []), "sh", "-c", inner])
    tmux.start(f"cd {shlex.quote(str(tmp_path))} && {runner}; echo $? > {shlex.quote(str(code))}")
    wait_until(pid.exists, 30, "the app to start")
    return tmp_path


def exit_code(tmp_path: Path, tmux: Tmux) -> int:
    """Wait for the app to end; its exit code."""
    code = tmp_path / "exit-code"
    try:
        wait_until(lambda: code.exists() and code.read_text().strip() != "", 20, "the app to exit")
    except AssertionError:
        raise AssertionError(f"the app did not exit; screen:\n{tmux.screen()}") from None
    return int(code.read_text())


def children_of(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(c) for c in text]
    return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def app_cmd(video: Path, cache: Path, *more: str) -> list[str]:
    return clipvi(
        str(video), "-p", "red", "--graphics", "halfcell", "--cache-dir", str(cache), *more
    )


def launch_with_own_server(
    tmux: Tmux, tmp_path: Path, video: Path, inference_server: InferenceServer, ready: str
) -> tuple[int, list[int]]:
    """Run the app on ``video`` where nothing listens, so it starts its own server; wait for
    ``ready`` on screen. Returns the app's pid and its server processes."""
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: the app starts its own server
    model = str(inference_server.tiny_model_dir)
    extra = ("--api-url", url, "--clip-version", "tiny-test", "--model-dir", model)
    launch(tmux, tmp_path, app_cmd(video, tmp_path / "cache", *extra))
    wait_screen(tmux, lambda s: ready in s, 120, "the local server and indexing")
    app = int((tmp_path / "pid").read_text())
    servers = children_of(app)
    assert servers, "the app started no server process"
    return app, servers


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_restores_the_terminal_like_q(
    tmux: Tmux, inference_server: InferenceServer, coded_video: Path, tmp_path: Path, sig: int
) -> None:
    launch(tmux, tmp_path, app_cmd(coded_video, tmp_path / "cache", *inference_server.cli_args()))
    wait_screen(tmux, lambda s: "indexed 30/30" in s, 60, "indexing to finish")
    during = pane_state(tmux)
    assert during["alternate"] == 1 and during["mouse_any"] + during["mouse_sgr"] > 0, during
    assert during["cursor_visible"] == 0, during

    os.kill(int((tmp_path / "pid").read_text()), sig)
    assert exit_code(tmp_path, tmux) == 128 + sig
    after = pane_state(tmux)
    assert after == {
        "alternate": 0,
        "mouse_any": 0,
        "mouse_button": 0,
        "mouse_sgr": 0,
        "cursor_visible": 1,
    }, f"terminal left in app mode: {after}"
    assert "Traceback" not in tmux.screen()


@pytest.mark.slow
def test_sighup_stops_the_auto_started_server(
    tmux: Tmux, inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """``server: auto`` started a local Inference server; SIGHUP to the app stops it too."""
    app, servers = launch_with_own_server(
        tmux, tmp_path, coded_video, inference_server, "indexed 30/30"
    )
    os.kill(app, signal.SIGHUP)
    assert exit_code(tmp_path, tmux) == 128 + signal.SIGHUP
    wait_until(lambda: not any(alive(p) for p in servers), 15, "the local server to stop")
    assert pane_state(tmux)["alternate"] == 0


@pytest.mark.slow
def test_the_terminal_going_away_ends_the_app_and_its_server(
    tmux: Tmux, inference_server: InferenceServer, tmp_path: Path
) -> None:
    """An SSH session that drops takes the terminal with it: the kernel sends SIGHUP and every
    write to the terminal fails. The app must still end, with its auto-started server, instead
    of hanging in Textual's shutdown on a write that never completes (it did, while playing)."""
    video = write_coded_video(tmp_path / "long.mp4", frames=900, fps=30.0)
    # Not waiting for the end of indexing: the app must be painting when the terminal goes.
    app, servers = launch_with_own_server(tmux, tmp_path, video, inference_server, "indexed")
    tmux.kill()  # the pane's terminal is gone while the app paints, as when sshd closes it
    wait_until(lambda: not alive(app), 20, "the app to end after its terminal went away")
    wait_until(lambda: not any(alive(p) for p in servers), 15, "the local server to stop")


def test_disk_full_is_an_error_state_and_playback_goes_on(
    tmux: Tmux, inference_server: InferenceServer, tmp_path: Path
) -> None:
    """A 1 MiB disk under the cache (a real tmpfs in a private mount namespace): the status bar
    says the cache is full, a notification names it, and the app still plays and quits."""
    prefix = unshare_prefix()
    if prefix is None:
        pytest.fail("this machine allows no private mount namespace (unshare) for a tmpfs")
    video = write_coded_video(tmp_path / "many.mp4", frames=900, fps=30.0, size=(96, 72))
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = f"mount -t tmpfs -o size=1m tmpfs {shlex.quote(str(disk))}"
    # Opened paused: the space below must start playback, whenever the disk fills up (with
    # autoplay it would pause a video that is still playing when indexing fills the disk fast).
    cmd = app_cmd(
        video, disk / "cache", *inference_server.cli_args(), "--sample-fps", "all", "--paused"
    )
    pid, code = tmp_path / "pid", tmp_path / "exit-code"
    inner = f"{mount} && echo $$ > {shlex.quote(str(pid))} && exec {shlex.join(cmd)}"
    tmux.start(
        f"cd {shlex.quote(str(tmp_path))} && {shlex.join([*prefix, 'sh', '-c', inner])}; "
        f"echo $? > {shlex.quote(str(code))}"
    )
    notice = f"Cache error: cache at {disk / 'cache'}: disk full"
    wait_screen(
        tmux,
        lambda s: "cache: disk full" in s and in_toasts(notice, s),
        120,
        "the disk-full state in the status bar and a notification naming the cache",
    )
    tmux.keys("Space")
    first = tmux.screen()
    time.sleep(0.6)
    assert tmux.screen() != first, "playback stopped with the cache full"
    tmux.keys("q")
    assert exit_code(tmp_path, tmux) == 0
    assert "Traceback" not in tmux.screen()
