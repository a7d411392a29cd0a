"""Cached work without a server: ``export`` of a cached video, and the app's chart at launch.

* **export**: ``clipvi-tui export data/sample.mp4`` with everything cached and no server at the
  configured URL (``--server auto``: a server would be started if one were needed), against
  ``clipvi-tui --version`` (the Python process floor), median of ``--repeat`` runs each.
* **chart**: the app launched in tmux on a 1-hour video sampled at 5 fps (18,000 frames) whose
  vectors are all cached: seconds to the first chart build that draws
  every score (the app's own build log, ``$CLIPVI_BENCH_STATS``), and to the first painted frame,
  counted from when the app's process started.

Usage: ``python bench/cached.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench.common import TINY, Tmux, inference_server  # noqa: E402
from clipvi_tui.core.cache import EmbeddingCache  # noqa: E402
from clipvi_tui.core.video import probe, sample_indices  # noqa: E402
from tests.support.videos import camera_like, write_h264_video  # noqa: E402

SAMPLE = REPO / "data" / "sample.mp4"
PROMPTS = ["a red circle", "a blue square"]
NOBODY = "http://127.0.0.1:9"  # nothing listens there


def cli(*args: str) -> float:
    """Seconds for one ``clipvi-tui`` run (it must succeed)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "clipvi_tui", *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def export_figures(root: Path, repeat: int) -> dict[str, float]:
    """Median seconds of a fully cached export and of ``--version``."""
    cache = root / "cache"
    prompts = [a for p in PROMPTS for a in ("-p", p)]
    with inference_server(root / "server") as (url, _):
        cli("export", str(SAMPLE), "--api-url", url, "--clip-version", TINY, "--server",
            "external", "--cache-dir", str(cache), *prompts)  # fmt: skip
    export, floor = [], []
    for _ in range(repeat):
        floor.append(cli("--version"))
        args = ["export", str(SAMPLE), "--api-url", NOBODY, "--clip-version", TINY,
                "--server", "auto", "--cache-dir", str(cache), *prompts]  # fmt: skip
        export.append(cli(*args))
    return {"export_s": statistics.median(export), "version_s": statistics.median(floor)}


def hour_video(folder: Path) -> Path:
    """A 1-hour, 5 fps, 320×180 H.264 video (18,000 frames), written once."""
    path = folder / "hour-5fps-320x180.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print("bench: writing a 1-hour 5 fps video (once)...", file=sys.stderr, flush=True)
        tmp = path.with_suffix(".partial.mp4")
        write_h264_video(tmp, 18_000, 5.0, (320, 180), gop=250, draw=camera_like)
        tmp.rename(path)
    return path


def fill_cache(video: Path, cache_dir: Path, dim: int = 64) -> int:
    """Cache a vector for every sampled frame and every prompt (what a finished index leaves)."""
    rng = np.random.default_rng(0)
    with EmbeddingCache(cache_dir) as cache:
        info = probe(video, cache)
        sampled = sample_indices(info, 5.0)
        model, tag = f"clip/{TINY}", "area224"
        vectors = rng.standard_normal((len(sampled), dim)).astype(np.float32)
        cache.put_frames(info.fingerprint or "", model, tag, sampled.tolist(), vectors)
        cache.put_texts(model, PROMPTS, rng.standard_normal((len(PROMPTS), dim)))
    return len(sampled)


def chart_figures(root: Path, repeat: int) -> dict[str, float]:
    """Median seconds from launch to the whole chart drawn, and to the first painted frame."""
    video = hour_video(REPO / "bench" / ".videos")
    cache = root / "cache-hour"
    frames = fill_cache(video, cache)
    whole, first, typed = [], [], []
    for i in range(repeat):
        stats_file = root / f"stats-{i}.json"
        cmd = [sys.executable, "-m", "clipvi_tui", str(video), "--paused", "--graphics", "halfcell",
               "--server", "external", "--api-url", NOBODY, "--clip-version", TINY,
               "--sample-fps", "5", "--cache-dir", str(cache)]  # fmt: skip
        for p in PROMPTS:
            cmd += ["-p", p]
        tmux = Tmux(f"clipvi-bench-cached-{i}", 120, 40)
        try:
            env = f"env CLIPVI_BENCH_STATS={shlex.quote(str(stats_file))}"
            launched = time.monotonic()
            # Not exec'd: the app is its own process, so it knows when it started.
            tmux.send(f"cd {shlex.quote(str(REPO))} && {env} {shlex.join(cmd)}", "Enter")
            tmux.wait_for("frame 0/", 60)
            time.sleep(3.0)
            tmux.send("q")
            deadline = time.monotonic() + 15
            while not stats_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            tmux.close()
        stats = json.loads(stats_file.read_text())
        complete = [t for t, drawn in stats["chart_builds"] if drawn >= frames * len(PROMPTS)]
        started = stats.get("process_started") or launched
        whole.append(complete[0] - started if complete else float("nan"))
        paints = stats["paint_times"]
        first.append(paints[0] - started if paints else float("nan"))
        typed.append(started - launched)
    return {
        "chart_s": statistics.median(whole),
        "first_frame_s": statistics.median(first),
        "tmux_to_process_s": statistics.median(typed),
        "frames": float(frames),
    }


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ex = export_figures(root, args.repeat)
        ch = chart_figures(root, max(1, args.repeat // 2))
    print(
        f"export of cached {SAMPLE.name} (no server, --server auto): {ex['export_s']:.2f} s; "
        f"clipvi-tui --version {ex['version_s']:.2f} s (process floor)"
    )
    print(
        f"app, 1 h at 5 fps ({ch['frames']:.0f} frames) all cached: whole chart drawn "
        f"{ch['chart_s']:.2f} s after the process started, first frame painted "
        f"{ch['first_frame_s']:.2f} s (tmux typing and the shell before that: "
        f"{ch['tmux_to_process_s']:.2f} s)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({**ex, **ch}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
