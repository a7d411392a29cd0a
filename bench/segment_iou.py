"""Temporal IoU of `clipvi-tui export --segments` (default settings) on fresh synthetic videos.

For each seed: render a 20 s video of the shapes world with its ground truth, export the
segments of a prompt per object shown ("a red circle", …) and of every colour+shape pair that
never appears, through the real Inference server serving the demo model, and print the IoU of
each present prompt's segments against the frames where its object is visible, the mean, and
how many absent prompts got a segment anyway.

Usage: .venv/bin/python bench/segment_iou.py [--seeds 11 22 33] [--sample-fps 5|all]
                                             [--api-url URL] [-- extra export options]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from clipvi_tui.synthetic.world import render_video  # noqa: E402
from tests.support.moments_truth import (  # noqa: E402
    absent_prompts,
    parse_segments_csv,
    present_prompts,
    segment_ious,
)
from tests.support.server import start_test_server  # noqa: E402
from tests.support.tiny_model import write_tiny_clip  # noqa: E402

DEMO = REPO / "models" / "shapes-demo"


def export_segments(
    url: str, video: Path, prompts: list[str], cache: Path, extra: list[str]
) -> str:
    """Run `clipvi-tui export --segments` as a user would; returns the CSV."""
    cmd = [sys.executable, "-m", "clipvi_tui", "export", str(video), "--segments"]
    cmd += ["--api-url", url, "--clip-version", "shapes-demo", "--server", "external"]
    cmd += ["--cache-dir", str(cache), *extra]
    for p in prompts:
        cmd += ["-p", p]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=cache.parent)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return out.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 22, 33, 44, 55])
    ap.add_argument("--sample-fps", default="5")
    ap.add_argument("--api-url", help="use this server (serving clip/shapes-demo)")
    ap.add_argument("extra", nargs="*", help="more export options, after --")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        proc = None
        url = args.api_url
        if url is None:
            tiny = write_tiny_clip(root / "tiny")
            proc, url, _ = start_test_server(root, tiny, "tiny-test", {"shapes-demo": DEMO})
        try:
            means, report = [], {}
            for seed in args.seeds:
                video = root / f"seed{seed}.mp4"
                truth = render_video(video, seed=seed, seconds=20.0, fps=10.0)
                present = present_prompts(truth)
                absent = absent_prompts(truth)
                extra = ["--sample-fps", args.sample_fps, *args.extra]
                csv_text = export_segments(url, video, [*present, *absent], root / "cache", extra)
                segments = parse_segments_csv(csv_text)
                ious = segment_ious(segments, truth)
                false = sorted(p for p in absent if segments.get(p))
                mean = sum(ious.values()) / len(ious)
                means.append(mean)
                report[seed] = {"mean": round(mean, 3), "ious": ious, "absent_with_segments": false}
                print(
                    f"seed {seed}: mean IoU {mean:.3f} over {len(ious)} prompts; "
                    f"{len(false)}/{len(absent)} absent prompts got segments {false}"
                )
                for prompt, value in ious.items():
                    print(f"    {prompt:20s} {value:.3f}")
            overall = sum(means) / len(means)
            print(
                f"sample_fps {args.sample_fps}: mean of per-seed means {overall:.3f}, "
                f"lowest {min(means):.3f}"
            )
            print(json.dumps(report, default=lambda v: round(v, 3)))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
