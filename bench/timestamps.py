"""Times on a variable-frame-rate clip: every time is the frame's presentation timestamp.

The 20 s ``vfr`` benchmark video has 30, 10 and 15 fps sections. Prints the largest difference
between the times the app and ``export`` use (the frame index) and PyAV's decoded timestamps,
next to what times computed from the average frame rate (what the OpenCV-based version did)
got wrong, for every frame and for a ±5 s jump from every frame.

Usage: ``python bench/timestamps.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import av  # noqa: E402
import numpy as np  # noqa: E402

from bench.videos import video as bench_video  # noqa: E402
from clipvi_tui.core.video import probe  # noqa: E402


def main() -> int:
    """Print the figures."""
    path = bench_video("vfr")
    with av.open(str(path)) as container:
        pts = np.array([float(f.time) for f in container.decode(video=0)])
    pts -= pts[0]
    info = probe(path)
    k = np.arange(info.frame_count)
    by_index = np.abs(info.times - pts).max()
    by_fps = np.abs(k / info.fps - pts).max()

    def jump_error(times: np.ndarray) -> float:
        """Worst error of "5 s later" over every frame, for a timeline ``times``."""
        worst = 0.0
        for frame in range(len(times)):
            target = times[frame] + 5.0
            landed = min(len(pts) - 1, int(np.searchsorted(times, target + 1e-6, "right")) - 1)
            if target <= pts[-1]:
                worst = max(worst, abs(pts[landed] - target) - _gap(pts, landed))
        return worst

    print(f"{path.name}: {info.frame_count} frames, average {info.fps:.2f} fps, 30/10/15 fps parts")
    print(f"time of each frame vs its pts: frame index {by_index * 1000:.3f} ms; "
          f"average fps {by_fps:.2f} s")  # fmt: skip
    print(f"+5 s jump lands off by (beyond a frame's length): frame index "
          f"{jump_error(info.times) * 1000:.1f} ms; average fps "
          f"{jump_error(k / info.fps):.2f} s")  # fmt: skip
    return 0


def _gap(pts: np.ndarray, frame: int) -> float:
    """How long ``frame`` is shown (a jump may land anywhere inside it)."""
    return float(pts[frame + 1] - pts[frame]) if frame + 1 < len(pts) else 0.0


if __name__ == "__main__":
    sys.exit(main())
