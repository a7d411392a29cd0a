"""Indexing throughput next to the raw throughput of the same Inference server, in one run.

Starts the real Inference server (``clipvi-tui serve``) with the tiny test model on a free
loopback port, writes a 640×360 test video, then measures:

* raw:   a tight inference-sdk loop, 8 pre-resized frames per request, one request at a time
         (what a careful hand-written client gets);
* raw×3: the same with 3 requests in flight (the SDK's own max_concurrent_requests);
* index: ``clipvi-tui index`` work (decode → shrink → embed → LMDB) on an empty cache;
* again: the same index run on the now warm cache.

Usage: .venv/bin/python bench/throughput.py [--frames 600]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from clipvi_tui.config import Settings  # noqa: E402
from clipvi_tui.core.video import VideoReader, downscale  # noqa: E402
from tests.support.server import start_test_server  # noqa: E402
from tests.support.tiny_model import write_tiny_clip  # noqa: E402
from tests.support.videos import write_coded_video  # noqa: E402


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc, url, _ = start_test_server(root, write_tiny_clip(root / "tiny"), "tiny-test")
    return proc, url


def raw_rate(url: str, frames: list, concurrent: int) -> float:
    from inference_sdk import InferenceConfiguration, InferenceHTTPClient

    sdk = InferenceHTTPClient(api_url=url)
    sdk.configure(
        InferenceConfiguration(
            max_batch_size=8, max_concurrent_requests=concurrent, api_key_transport="header"
        )
    )
    sdk.get_clip_image_embeddings(inference_input=frames[:8], clip_version="tiny-test")  # warm
    t0 = time.perf_counter()
    step = 8 * concurrent
    for i in range(0, len(frames), step):
        sdk.get_clip_image_embeddings(
            inference_input=frames[i : i + step], clip_version="tiny-test"
        )
    return len(frames) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=600)
    args = ap.parse_args()
    from clipvi_tui.cli.indexing import run_index

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        proc, url = start_server(root)
        try:
            video = write_coded_video(
                root / "bench.mp4", frames=args.frames, fps=30.0, size=(640, 360)
            )
            with VideoReader(video) as reader:
                small = [downscale(f, 224) for _, f in reader.iter_frames(range(args.frames))]
            raw1 = raw_rate(url, small, 1)
            raw3 = raw_rate(url, small, 3)
            settings = Settings(
                api_url=url, clip_version="tiny-test", sample_fps=None, cache_dir=root / "cache"
            )
            cold = run_index(settings, video, [], quiet=True)
            warm = run_index(settings, video, [], quiet=True)
        finally:
            proc.terminate()
            proc.wait(10)
    cold_rate = cold.embedded_now / cold.seconds
    print(f"video: {args.frames} frames 640x360, tiny-test model, 2-core machine")
    print(f"raw SDK loop, 8/request, 1 in flight : {raw1:7.1f} frames/s")
    print(f"raw SDK loop, 8/request, 3 in flight : {raw3:7.1f} frames/s")
    print(f"clipvi-tui index (decode+embed+cache): {cold_rate:7.1f} frames/s")
    print(f"index / raw(1 in flight)             : {cold_rate / raw1:7.2f}x")
    print(f"index / raw(3 in flight)             : {cold_rate / raw3:7.2f}x")
    print(
        f"second index (all cached)            : {warm.seconds * 1000:7.1f} ms "
        f"({warm.embedded_now} frames embedded)"
    )


if __name__ == "__main__":
    main()
