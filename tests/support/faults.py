"""Helpers for fault tests: run the CLI as a real process, watch its cache, count on the wire.

Nothing here fakes a failure: processes get real signals, the server is the real one (or a
deliberately broken HTTP server in front of it), and the cache is read by another process while
the command writes it, as LMDB allows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.video import fingerprint, probe
from tests.support.badserver import BadServer, Reply, Request

PREPROCESS_TAG = "area224"  # InferenceEmbeddingClient's default: 224 px short side


def clipvi(*args: str) -> list[str]:
    """The command line of ``clipvi-tui ARGS`` run as a user does."""
    return [sys.executable, "-m", "clipvi_tui", *args]


def cli_options(url: str, cache: Path, *more: str) -> list[str]:
    """Options that point a command at ``url`` with the tiny test model and ``cache``."""
    return [
        "--api-url",
        url,
        "--clip-version",
        "tiny-test",
        "--server",
        "external",
        "--cache-dir",
        str(cache),
        *more,
    ]


def start(*args: str) -> subprocess.Popen[str]:
    """Start ``clipvi-tui ARGS`` with its output captured."""
    return subprocess.Popen(
        clipvi(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def frames_cached(cache_dir: Path, video: Path, clip_version: str) -> int:
    """How many frames of ``video`` the cache holds now (read from this process)."""
    if not (cache_dir / "data.mdb").exists():
        return 0
    fp = fingerprint(video, probe(video))
    with EmbeddingCache(cache_dir) as cache:
        return int(cache.frame_indices(fp, f"clip/{clip_version}", PREPROCESS_TAG).size)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 50 ms; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def forward(_req: Request, up: Reply | None) -> Reply:
    """A :class:`BadServer` reply that passes the real server's answer through unchanged."""
    assert up is not None
    return up


def images_on_the_wire(server: BadServer) -> int:
    """Frames sent in image requests that reached ``server``."""
    return sum(r.count() for r in server.requests if r.path == "/clip/embed_image")


def stderr_lines(text: str) -> list[str]:
    """The ``clipvi-tui:`` lines of a command's stderr (progress lines left out)."""
    return [ln for ln in text.splitlines() if ln.startswith("clipvi-tui:")]


def unshare_prefix() -> list[str] | None:
    """A command prefix that runs its command in a private mount namespace, or None.

    As root ``unshare -m``; otherwise a user namespace that maps us to root (``-U -r -m``).
    Either lets the test mount a small tmpfs that nobody else sees and that vanishes with it.
    """
    if shutil.which("unshare") is None:
        return None
    for prefix in (["unshare", "-m", "--propagation", "private"], ["unshare", "-U", "-r", "-m"]):
        probe_cmd = [*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && echo ok"]
        try:
            out = subprocess.run(probe_cmd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.strip() == "ok":
            return prefix
    return None


def small_disk_script(mount_point: Path, size: str, commands: list[list[str]]) -> list[str]:
    """A shell command line: mount a ``size`` tmpfs at ``mount_point``, run ``commands`` there.

    Each command's stdout/stderr pass through; after each, ``rc=<code>`` is printed on stdout.
    """
    import shlex

    steps = [f"mkdir -p {shlex.quote(str(mount_point))}"]
    steps.append(f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(mount_point))}")
    for cmd in commands:
        steps.append(f"{shlex.join(cmd)}; echo rc=$?")
    return ["sh", "-c", " && ".join(steps[:2]) + "; " + "; ".join(steps[2:])]
