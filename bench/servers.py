"""Indexing throughput with one and with two Inference servers, in one run, and what limits it.

Starts two real Inference servers (``clipvi-tui serve``, tiny test model) on two loopback
ports at the same time, writes a 640×360 test video, then indexes it into an empty cache:

* one:  a pool of one server;
* two:  a pool of both servers (each with the same batch size and requests in flight).

The runs alternate (one, two, one, two, …) so drift on a shared machine hits both alike; the
best and the median of each are reported, with the ratios two/one. For each run it also reports
the CPU seconds used by this process (decode, JPEG encode, HTTP) and by the servers (JPEG decode,
resize, ONNX), divided by the wall time: a sum near the machine's core count means the run is
CPU-bound, and a second server on the same cores cannot add CPU.

Usage: .venv/bin/python bench/servers.py [--frames 600] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from clipvi_tui.core.cache import EmbeddingCache  # noqa: E402
from clipvi_tui.core.indexer import Indexer  # noqa: E402
from clipvi_tui.core.server_specs import ServerSpec  # noqa: E402
from clipvi_tui.core.servers import ServerPool  # noqa: E402
from tests.support.server import launch_test_server  # noqa: E402
from tests.support.tiny_model import write_tiny_clip  # noqa: E402
from tests.support.videos import write_coded_video  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def index_once(video: Path, urls: list[str], cache_dir: Path, pids: list[int]) -> dict:
    pool = ServerPool([ServerSpec(u, 8, 3) for u in urls], clip_version="tiny-test")
    pool.verify()  # probes (and warms) every server before the clock starts
    before = own_cpu(), [cpu_of(p) for p in pids]
    with EmbeddingCache(cache_dir) as cache:
        indexer = Indexer(video, pool, cache, sample_fps=None)
        t0 = time.perf_counter()
        final = indexer.run()
        wall = time.perf_counter() - t0
    assert final.state == "done", final
    client_cpu = own_cpu() - before[0]
    server_cpu = sum(cpu_of(p) - c for p, c in zip(pids, before[1], strict=True))
    per_server = [s.images for s in pool.health().servers]
    pool.close()
    return {
        "rate": final.done / wall,
        "wall": wall,
        "client_cores": client_cpu / wall,
        "server_cores": server_cpu / wall,
        "images": per_server,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tiny = write_tiny_clip(root / "tiny")
        servers = [launch_test_server(root / f"s{i}", tiny, "tiny-test") for i in range(2)]
        try:
            for s in servers:
                s.wait_ready()
            pids = [s.process.pid for s in servers]
            video = write_coded_video(
                root / "bench.mp4", frames=args.frames, fps=30.0, size=(640, 360)
            )
            results: dict[str, list[dict]] = {"one": [], "two": []}
            for r in range(args.rounds):
                for name, urls in (("one", servers[:1]), ("two", servers)):
                    cache = root / f"cache-{name}-{r}"
                    results[name].append(index_once(video, [s.url for s in urls], cache, pids))
        finally:
            for s in servers:
                s.stop()
    best = {k: max(v, key=lambda x: x["rate"]) for k, v in results.items()}
    print(f"video: {args.frames} frames 640x360, tiny-test model, {os.cpu_count()} cores")
    print(f"load average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}")
    print("run  frames/s   client cores  server cores  images per server")
    for name in ("one", "two"):
        for res in results[name]:
            print(
                f"{name:4} {res['rate']:8.1f}   {res['client_cores']:12.2f}  "
                f"{res['server_cores']:12.2f}  {res['images']}"
            )
    ratio = best["two"]["rate"] / best["one"]["rate"]
    median = {k: statistics.median(r["rate"] for r in v) for k, v in results.items()}
    print(f"one server : best {best['one']['rate']:7.1f}, median {median['one']:7.1f} frames/s")
    print(f"two servers: best {best['two']['rate']:7.1f}, median {median['two']:7.1f} frames/s")
    print(f"two / one  : best {ratio:5.2f}x, median {median['two'] / median['one']:5.2f}x")
    used = best["two"]["client_cores"] + best["two"]["server_cores"]
    print(
        f"CPU in use with two servers: {used:.2f} of {os.cpu_count()} cores "
        "(client + servers); near the core count, a second server on the same machine has no "
        "CPU to add"
    )


if __name__ == "__main__":
    main()
