"""Display rate and seek latency of the real app in a real terminal (tmux).

Runs ``clipvi-tui`` in a detached tmux session (default 120×40, half-block video) on a generated
30 fps video whose every pixel changes every frame (the worst case for terminal updates), then:

* plays for ``--seconds`` and reports frames painted per second (the app's own count of
  frames that reached the screen, written to ``$CLIPVI_BENCH_STATS`` on exit) and the app's CPU;
* pauses and sends ``--seeks`` seek keys (→ and shift+→) one at a time, measuring for each
  (a) inside the app: keypress handled → new frame painted (after Textual's refresh), and
  (b) outside: ``tmux send-keys`` → the video area of ``tmux capture-pane -e`` changes, which
  includes tmux's own input and output path (an upper bound of what a user sees).

No Inference server is needed (``--server external`` at an unused port: indexing just retries
in the background, as it would with the server down). ``--api-url`` points at a real one.

Usage: ``python bench/display_fps.py [--graphics halfcell] [--size 120x40] [--seconds 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def make_video(path: Path, seconds: float, fps: float, size: tuple[int, int]) -> Path:
    """A video where every pixel changes every frame: moving gradients plus a moving disc."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    yy, xx = np.mgrid[0:h, 0:w]
    for k in range(int(seconds * fps)):
        img = np.empty((h, w, 3), dtype=np.uint8)
        img[..., 0] = (xx + 3 * k) % 256
        img[..., 1] = (yy * 2 + 5 * k) % 256
        img[..., 2] = (xx + yy + 7 * k) % 256
        cx = int(w / 2 + w / 3 * np.sin(k / 15))
        cv2.circle(img, (cx, h // 2), h // 5, (255, 255, 255), -1)
        cv2.putText(img, str(k), (10, h - 20), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 4)
        writer.write(img)
    writer.release()
    return path


class Tmux:
    """A private tmux server with one session."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.name, *args], capture_output=True, text=True, check=False
        ).stdout

    def screen(self, colours: bool = False) -> str:
        """The pane's text (with colour escapes if ``colours``)."""
        return self("capture-pane", "-p", *(["-e"] if colours else []), "-t", self.name)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(tmux: Tmux, text: str, timeout: float) -> str:
    """Poll the pane until ``text`` shows; exit with the screen if it does not in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = tmux.screen()
        if text in screen:
            return screen
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {text!r}:\n{tmux.screen()}")


def video_rows(screen: str, rows: int) -> str:
    """The top part of the screen (the video box), with colours."""
    return "\n".join(screen.splitlines()[1 : rows - 1])


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--graphics", default="halfcell")
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--seconds", type=float, default=10.0, help="playback to measure")
    ap.add_argument("--seeks", type=int, default=20)
    ap.add_argument("--fps", type=float, default=30.0, help="video frame rate")
    ap.add_argument("--video-size", default="640x360")
    ap.add_argument("--api-url", default="http://127.0.0.1:9", help="default: nothing there")
    ap.add_argument("--keep", action="store_true", help="keep the generated video and cache")
    args = ap.parse_args()
    cols, rows = (int(v) for v in args.size.split("x"))
    vw, vh = (int(v) for v in args.video_size.split("x"))

    work = Path(tempfile.mkdtemp(prefix="clipvi-bench-"))
    video = make_video(work / "bench.mp4", args.seconds + 20, args.fps, (vw, vh))
    stats_file = work / "stats.json"
    cmd = [
        sys.executable,
        "-m",
        "clipvi_tui",
        str(video),
        "-p",
        "a white disc",
        "--graphics",
        args.graphics,
        "--paused",  # the bench starts playback itself, after start-up settled
        "--server",
        "external",
        "--api-url",
        args.api_url,
        "--cache-dir",
        str(work / "cache"),
    ]
    env = f"env -u COLORTERM CLIPVI_BENCH_STATS={shlex.quote(str(stats_file))}"
    tmux = Tmux(f"clipvi-bench-{os.getpid()}")
    tmux("new-session", "-d", "-s", tmux.name, "-x", str(cols), "-y", str(rows))
    tmux("send-keys", "-t", tmux.name, f"exec {env} {shlex.join(cmd)}", "Enter")
    try:
        wait_for(tmux, "frame 0/", 30)
        time.sleep(1.5)  # let start-up work settle
        pid = int(tmux("display", "-p", "-t", tmux.name, "#{pane_pid}").strip())

        # -- playback ----------------------------------------------------------------------
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        tmux("send-keys", "-t", tmux.name, "Space")
        time.sleep(args.seconds)
        tmux("send-keys", "-t", tmux.name, "Space")
        play_wall = time.monotonic() - t0
        cpu_play = (cpu_seconds(pid) - cpu0) / play_wall
        time.sleep(0.5)

        # -- seeks (paused) ------------------------------------------------------------------
        external: list[float] = []
        for i in range(args.seeks):
            key = "Right" if i % 2 == 0 else "S-Right"
            before = video_rows(tmux.screen(colours=True), rows // 2)
            sent = time.perf_counter()
            tmux("send-keys", "-t", tmux.name, key)
            while time.perf_counter() - sent < 2.0:
                if video_rows(tmux.screen(colours=True), rows // 2) != before:
                    external.append(time.perf_counter() - sent)
                    break
            time.sleep(0.3)
            if i % 8 == 7:
                tmux("send-keys", "-t", tmux.name, "Home")
                time.sleep(0.5)
        tmux("send-keys", "-t", tmux.name, "q")
        deadline = time.monotonic() + 10
        while not stats_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        tmux("kill-server")

    stats = json.loads(stats_file.read_text())
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    paints = [t for t in stats["paint_times"]]
    # Paints during playback: the densest window of play_wall seconds.
    best = 0
    j = 0
    for i, t in enumerate(paints):
        while paints[j] < t - play_wall:
            j += 1
        best = max(best, i - j + 1)
    internal = [s * 1000 for s in stats["seek_latencies_s"]]
    if os.environ.get("BENCH_VERBOSE"):
        print("app seek ms:", [round(v) for v in internal])
        arrivals = [(round(a * 1000), round(d * 1000)) for a, d in stats["seek_arrivals_s"]]
        print("  (frame reached UI ms, of which decode ms):", arrivals)
        print("tmux seek ms:", [round(v * 1000) for v in external])
    ext = [s * 1000 for s in external]
    print(f"terminal {cols}x{rows} in tmux, graphics={args.graphics}, video {vw}x{vh} @ {args.fps}")
    print(f"display rate while playing: {best / play_wall:5.1f} frames/s painted ")
    print(f"  (video rate {args.fps:g}; app CPU {cpu_play * 100:.0f}% of one core)")
    if internal:
        print(
            f"seek latency in the app (key handled -> frame painted): "
            f"median {statistics.median(internal):.0f} ms, max {max(internal):.0f} ms "
            f"({len(internal)} seeks)"
        )
    if ext:
        print(
            f"seek latency seen from tmux (send-keys -> pane changed): "
            f"median {statistics.median(ext):.0f} ms, max {max(ext):.0f} ms ({len(ext)} seeks)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
