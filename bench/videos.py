"""The benchmark videos: camera-like H.264 written with PyAV's libx264, never downloaded.

Each is written once into ``bench/.videos/`` (git-ignored) and reused by later runs; the name
encodes everything that makes it what it is, so changing a parameter writes a new file.

* ``720p``: 1280×720, 30 fps, GOP 250, 3 B-frames — the issue's hard case (2 minutes).
* ``720p-long``: the same, 10 minutes (memory while playing).
* ``1080p``, ``4k``: 1920×1080 and 3840×2160, 30 fps, GOP 250, 3 B-frames (20 s).
* ``vfr``: 640×360 with 30, 10 and 15 fps sections (20 s).
* ``rotated``: 640×360 stored with a 90° display rotation, as phones do (10 s).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.videos import camera_like, vfr_times, write_h264_video  # noqa: E402

FOLDER = REPO / "bench" / ".videos"


@dataclass(frozen=True)
class Kind:
    """What to write: size, length, rate and stream structure."""

    size: tuple[int, int]
    seconds: float
    fps: float = 30.0
    gop: int = 250
    bframes: int = 3
    rotation: int = 0
    vfr: bool = False


KINDS = {
    "720p": Kind((1280, 720), 120.0),
    "720p-1200": Kind((1280, 720), 40.0),
    "720p-long": Kind((1280, 720), 600.0),
    "1080p": Kind((1920, 1080), 20.0),
    "4k": Kind((3840, 2160), 20.0),
    "vfr": Kind((640, 360), 20.0, vfr=True),
    "rotated": Kind((640, 360), 10.0, rotation=90),
}

# 30, 10 and 15 fps sections, repeated to 20 s.
VFR_SECTIONS = [(30.0, 120), (10.0, 40), (15.0, 60)] * 3


def video(kind: str) -> Path:
    """The benchmark video of ``kind``, written first if it does not exist yet."""
    k = KINDS[kind]
    w, h = k.size
    name = f"{kind}-{w}x{h}-{k.seconds:g}s-gop{k.gop}-bf{k.bframes}-r{k.rotation}.mp4"
    path = FOLDER / name
    if path.exists():
        return path
    FOLDER.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"bench: writing {name} (once; kept in {FOLDER})...", file=sys.stderr, flush=True)
    tmp = path.with_suffix(".partial.mp4")
    if k.vfr:
        times = vfr_times(VFR_SECTIONS)
        write_h264_video(tmp, len(times), k.fps, k.size, times=times, draw=camera_like)
    else:
        frames = round(k.seconds * k.fps)
        write_h264_video(
            tmp,
            frames,
            k.fps,
            k.size,
            gop=k.gop,
            bframes=k.bframes,
            rotation=k.rotation,
            draw=camera_like,
        )
    tmp.rename(path)
    print(f"bench: wrote {name} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return path


if __name__ == "__main__":
    for kind in sys.argv[1:] or list(KINDS):
        print(video(kind))
