"""Indexing throughput next to the raw throughput of the same Inference server, in one run.

Starts the real Inference server (``clipvi-tui serve``, tiny test model) and measures, on the
issue's hard case (1280×720 H.264, GOP 250, 3 B-frames, camera-like content):

* ``all``: ``clipvi-tui index --sample-fps all`` of 1200 frames against a tight inference-sdk
  loop (8 per request, 3 requests in flight) over the same frames pre-decoded and pre-shrunk to
  exactly what the index uploads;
* ``5fps``: ``clipvi-tui index --sample-fps 5`` of a 2-minute video (3600 frames decoded, 600
  embedded) against the sum of a threaded PyAV decode of the whole file alone and the tight loop
  on the 600 frames alone.

Each pair is measured ``--repeat`` times, alternating, on the noisy shared machine; the ratios
use the same repetition's reference. CPU seconds per frame of the server and of this process
show where the time goes.

Usage: ``python bench/index.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import TINY, inference_server, process_cpu  # noqa: E402
from bench.videos import video as bench_video  # noqa: E402
from clipvi_tui.cli.indexing import run_index  # noqa: E402
from clipvi_tui.config import Settings  # noqa: E402
from clipvi_tui.core.embeddings import InferenceEmbeddingClient  # noqa: E402
from clipvi_tui.core.video import VideoReader, probe, sample_indices  # noqa: E402


def uploads(video: Path, frames: list[int]) -> list:
    """The frames exactly as the index uploads them (decoded, upright, centre square, 224)."""
    client = InferenceEmbeddingClient("http://unused", clip_version=TINY)
    info = probe(video)
    with VideoReader(video, info) as reader:
        return [client.prepare(f) for _, f in reader.iter_frames(frames)]


def tight_loop(url: str, frames: list) -> float:
    """Seconds for a tight inference-sdk loop: 8 per request, 3 in flight, frames ready."""
    from inference_sdk import InferenceConfiguration, InferenceHTTPClient

    sdk = InferenceHTTPClient(api_url=url)
    sdk.configure(
        InferenceConfiguration(
            max_batch_size=8, max_concurrent_requests=3, api_key_transport="header"
        )
    )
    sdk.get_clip_image_embeddings(inference_input=frames[:8], clip_version=TINY)  # warm
    t0 = time.perf_counter()
    for i in range(0, len(frames), 24):
        sdk.get_clip_image_embeddings(inference_input=frames[i : i + 24], clip_version=TINY)
    return time.perf_counter() - t0


def decode_alone(video: Path) -> float:
    """Seconds for a threaded PyAV decode of the whole file (no conversion)."""
    import av

    t0 = time.perf_counter()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
    return time.perf_counter() - t0


def index_once(url: str, video: Path, sample: float | None, cache: Path) -> tuple[float, int]:
    """Seconds and frames embedded by one ``index`` run on an empty cache."""
    settings = Settings(api_url=url, clip_version=TINY, sample_fps=sample, cache_dir=cache)
    t0 = time.perf_counter()
    result = run_index(settings, video, [], quiet=True)
    return time.perf_counter() - t0, result.embedded_now


def measured(fn, server_pid: int):  # type: ignore[no-untyped-def]
    """Run ``fn``; return its result and the (server, client) CPU seconds it used."""
    s0, c0 = process_cpu(server_pid), time.process_time()
    result = fn()
    return result, process_cpu(server_pid) - s0, time.process_time() - c0


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    short, long = bench_video("720p-1200"), bench_video("720p")
    rows: dict[str, list[dict[str, float]]] = {"all": [], "5fps": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with inference_server(root / "server") as (url, spid):
            every = uploads(short, list(range(probe(short).frame_count)))
            sampled = [int(k) for k in sample_indices(probe(long), 5.0)]
            five = uploads(long, sampled)
            for rep in range(args.repeat):
                ref, ref_srv, ref_cli = measured(lambda: tight_loop(url, every), spid)
                (secs, n), srv, cli = measured(
                    lambda r=rep: index_once(url, short, None, root / f"c-all-{r}"), spid
                )
                rows["all"].append(
                    {
                        "tight_fps": len(every) / ref,
                        "index_fps": n / secs,
                        "ratio": (n / secs) / (len(every) / ref),
                        "index_server_ms": 1000 * srv / n,
                        "index_client_ms": 1000 * cli / n,
                        "tight_server_ms": 1000 * ref_srv / len(every),
                        "tight_client_ms": 1000 * ref_cli / len(every),
                    }
                )
                dec = decode_alone(long)
                emb = tight_loop(url, five)
                secs5, n5 = index_once(url, long, 5.0, root / f"c-5-{rep}")
                rows["5fps"].append(
                    {
                        "decode_s": dec,
                        "tight_s": emb,
                        "index_s": secs5,
                        "embedded": n5,
                        "ratio": secs5 / (dec + emb),
                    }
                )
                print(f"rep {rep + 1}: all {rows['all'][-1]['ratio']:.2f}x, 5 fps "
                      f"{rows['5fps'][-1]['ratio']:.2f}x", file=sys.stderr)  # fmt: skip

    def med(key: str, row: str) -> float:
        return statistics.median(r[key] for r in rows[row])

    def reps(row: str) -> str:
        return ", ".join(f"{r['ratio']:.2f}" for r in rows[row])

    print("1280x720 H.264, GOP 250, 3 B-frames; tiny model; client and server share 2 cores")
    print(
        f"index --sample-fps all (1200 frames): {med('index_fps', 'all'):.0f} frames/s vs "
        f"tight SDK loop {med('tight_fps', 'all'):.0f} frames/s = {med('ratio', 'all'):.2f}x "
        f"(per rep: {reps('all')})"
    )
    print(
        f"  CPU per frame: index server {med('index_server_ms', 'all'):.2f} ms + client "
        f"{med('index_client_ms', 'all'):.2f} ms; tight loop server "
        f"{med('tight_server_ms', 'all'):.2f} ms + client {med('tight_client_ms', 'all'):.2f} ms"
    )
    print(
        f"index --sample-fps 5 (2 min, 3600 decoded, 600 embedded): {med('index_s', '5fps'):.2f} s"
        f" vs decode alone {med('decode_s', '5fps'):.2f} s + tight loop "
        f"{med('tight_s', '5fps'):.2f} s = {med('ratio', '5fps'):.2f}x "
        f"(per rep: {reps('5fps')})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
