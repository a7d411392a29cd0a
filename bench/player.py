"""The player in a real terminal (tmux, 120×40, half blocks): frame rate, CPU, seeks, memory.

Runs ``clipvi-tui`` in a private tmux on a camera-like H.264 video (GOP 250, 3 B-frames) and
reports, from the app's own counters (``$CLIPVI_BENCH_STATS``) and /proc:

* **play**: frames painted per second while playing, the display's CPU (UI thread, Textual's
  I/O threads, the frame decoder) and, separately, indexing's CPU; peak RSS.
* **seeks** (paused): for a fixed key sequence (→, shift+→, shift+←, End then shift+←, Home …),
  key sent → the video area of ``tmux capture-pane`` changed (what a user sees), and inside the
  app key → first new picture and key → exact frame.

Scenarios (``--scenario``):

* ``index``: empty cache, real Inference server (tiny model), every frame sampled: the app
  indexes for the whole measurement while you watch.
* ``indexed``: the video was indexed before (CLI) and its thumbnails made: seeks get previews.
* ``cold``: nothing cached and no server: every seek decodes from its keyframe, no preview.

Usage: ``python bench/player.py --kind 720p --scenario index``
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    TINY,
    Tmux,
    inference_server,
    percentile,
    renice,
    rss_mb,
    split_cpu,
    thread_cpu,
)
from bench.videos import video as bench_video  # noqa: E402

SEEK_KEYS = ["S-Right", "Right", "S-Right", "S-Left", "Right", "Left", "S-Right", "S-Right",
             "End", "S-Left", "S-Left", "Left", "S-Left", "Home", "S-Right", "Right"]  # fmt: skip


def prepare_cache(video: Path, cache: Path, url: str) -> None:
    """Index ``video`` with the CLI (5 fps) and make its thumbnails, as a finished app would."""
    cmd = [sys.executable, "-m", "clipvi_tui", "index", str(video), "--api-url", url,
           "--clip-version", TINY, "--server", "external", "--cache-dir", str(cache),
           "-p", "a white disc"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    from clipvi_tui.core.cache import EmbeddingCache
    from clipvi_tui.core.thumbnails import fill_thumbnails
    from clipvi_tui.core.video import probe, sample_indices

    with EmbeddingCache(cache) as store:
        info = probe(video, store)
        fill_thumbnails(info, store, sample_indices(info, 5.0), 0, lambda: False)


def gop_decode_s(video: Path) -> float:
    """Reference for seeks: seconds to decode a whole 250-frame GOP (threaded PyAV), what a
    seek to its last frame costs without previews."""
    import av

    t0 = time.perf_counter()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, _ in enumerate(container.decode(stream)):
            if i >= 249:
                break
    return time.perf_counter() - t0


def video_rows(screen: str, rows: int) -> str:
    """The top part of the screen (the video box), with colours."""
    return "\n".join(screen.splitlines()[1:rows])


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", default="720p", help="video kind (see bench/videos.py)")
    ap.add_argument("--video", help="play this file instead")
    ap.add_argument("--scenario", choices=("index", "indexed", "cold"), default="index")
    ap.add_argument("--graphics", default="halfcell")
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--seconds", type=float, default=10.0, help="playback to measure")
    ap.add_argument("--seeks", type=int, default=32)
    ap.add_argument("--prompts", type=int, default=1, help="how many prompts the app shows")
    ap.add_argument(
        "--nice-server",
        type=int,
        default=0,
        help="run the server this much nicer (the app's own indexing threads run at 10)",
    )
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    cols, rows = (int(v) for v in args.size.split("x"))
    video = Path(args.video) if args.video else bench_video(args.kind)
    gop_s = gop_decode_s(video)

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clipvi-bench-")))
        url = "http://127.0.0.1:9"  # nothing listens there
        if args.scenario in ("index", "indexed"):
            url, server_pid = stack.enter_context(inference_server(work / "server"))
            if args.nice_server:
                renice(server_pid, args.nice_server)
        cache = work / "cache"
        if args.scenario == "indexed":
            prepare_cache(video, cache, url)
        stats_file = work / "stats.json"
        prompts = ["a white disc"] + [f"prompt number {i}" for i in range(1, args.prompts)]
        cmd = [sys.executable, "-m", "clipvi_tui", str(video), "--paused",
               "--graphics", args.graphics, "--server", "external", "--api-url", url,
               "--clip-version", TINY,
               "--cache-dir", str(cache)]  # fmt: skip
        for p in prompts:
            cmd += ["-p", p]
        if args.scenario == "index":
            # Every frame, so that indexing is still running for the whole measurement.
            cmd += ["--sample-fps", "all"]
        env = f"env -u COLORTERM CLIPVI_BENCH_STATS={shlex.quote(str(stats_file))}"
        tmux = Tmux(f"clipvi-bench-{os.getpid()}", cols, rows)
        stack.callback(tmux.close)
        tmux.send(f"cd {shlex.quote(str(REPO))} && exec {env} {shlex.join(cmd)}", "Enter")
        tmux.wait_for("frame 0/", 60)
        time.sleep(2.0)  # start-up work settles
        pid = tmux.pane_pid()

        # -- playback ------------------------------------------------------------------------
        peak = [rss_mb(pid)]
        sampling = threading.Event()

        def sample_rss() -> None:
            while not sampling.wait(0.25):
                peak.append(rss_mb(pid))

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        cpu0, t0 = thread_cpu(pid), time.monotonic()
        tmux.send("Space")
        time.sleep(args.seconds)
        tmux.send("Space")
        wall = time.monotonic() - t0
        cpu1 = thread_cpu(pid)
        display_cpu, index_cpu = split_cpu(cpu0, cpu1)
        busiest = sorted(
            (
                (k.split("#")[0], (v - cpu0.get(k, 0.0)) / (time.monotonic() - t0))
                for k, v in cpu1.items()
            ),
            key=lambda kv: -kv[1],
        )[:6]
        time.sleep(0.5)

        # -- seeks (paused) ------------------------------------------------------------------
        seen: list[float] = []
        per_key: list[tuple[str, float]] = []
        for i in range(args.seeks):
            key = SEEK_KEYS[i % len(SEEK_KEYS)]
            before = video_rows(tmux.screen(colours=True), rows // 2)
            sent = time.perf_counter()
            tmux.send(key)
            while time.perf_counter() - sent < 5.0:
                if video_rows(tmux.screen(colours=True), rows // 2) != before:
                    seen.append(time.perf_counter() - sent)
                    per_key.append((key, round(1000 * seen[-1])))
                    break
                time.sleep(0.002)
            time.sleep(0.4)
        peak.append(rss_mb(pid))
        sampling.set()
        tmux.send("q")
        deadline = time.monotonic() + 15
        while not stats_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        stats = json.loads(stats_file.read_text())

    paints = [t for t in stats["paint_times"] if t >= 0]
    played = _densest(paints, wall)
    first = [s * 1000 for s in stats["first_picture_latencies_s"]]
    exact = [s * 1000 for s in stats["seek_latencies_s"]]
    tmux_ms = [s * 1000 for s in seen]
    figures = {
        "video": video.name,
        "scenario": args.scenario,
        "display_fps": played / wall,
        "display_cpu_percent": 100 * display_cpu / wall,
        "indexing_cpu_percent": 100 * index_cpu / wall,
        "peak_rss_mb": max(peak),
        "seek_tmux_ms_p50": statistics.median(tmux_ms) if tmux_ms else float("nan"),
        "seek_tmux_ms_p95": percentile(tmux_ms, 95),
        "seek_first_picture_ms_p95": percentile(first, 95),
        "seek_exact_ms_p50": statistics.median(exact) if exact else float("nan"),
        "seek_exact_ms_p95": percentile(exact, 95),
        "seeks": len(tmux_ms),
        "previews": len(stats["preview_latencies_s"]),
        "busiest_threads": [(name, round(100 * share)) for name, share in busiest],
        "gop_decode_ms": 1000 * gop_s,
    }
    print(f"{video.name} in tmux {cols}x{rows}, {args.graphics}, scenario {args.scenario}")
    print(f"  play: {figures['display_fps']:.1f} frames/s painted, display CPU "
          f"{figures['display_cpu_percent']:.0f}% of a core, indexing CPU "
          f"{figures['indexing_cpu_percent']:.0f}%, "
          f"peak RSS {figures['peak_rss_mb']:.0f} MB")  # fmt: skip
    print(f"  busiest threads while playing (% of a core): {figures['busiest_threads']}")
    print(f"  seek key -> pane changed (tmux): p50 {figures['seek_tmux_ms_p50']:.0f} ms, "
          f"p95 {figures['seek_tmux_ms_p95']:.0f} ms ({len(tmux_ms)} seeks, "
          f"{figures['previews']} previews); decoding one 250-frame GOP takes "
          f"{figures['gop_decode_ms']:.0f} ms")  # fmt: skip
    print(f"  in the app: first picture p95 {figures['seek_first_picture_ms_p95']:.0f} ms, "
          f"exact frame p50 {figures['seek_exact_ms_p50']:.0f} / p95 "
          f"{figures['seek_exact_ms_p95']:.0f} ms")  # fmt: skip
    if os.environ.get("BENCH_VERBOSE"):
        print("  per key (tmux ms):", per_key)
        print("  app first picture ms:", [round(v) for v in first])
        print("  app exact ms:", [round(v) for v in exact])
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


def _densest(times: list[float], window: float) -> int:
    """The most paint timestamps within any ``window`` seconds (the playback stretch)."""
    best = j = 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


if __name__ == "__main__":
    sys.exit(main())
