"""Helpers the benchmarks share: the test server, a private tmux, per-thread CPU, RSS, stats.

The machine is shared and noisy, so every benchmark measures its reference in the same run and
prints ratios; CPU is read per thread from /proc so that display and indexing can be told apart
(the app names its threads: ``clipvi-display``, ``clipvi-idx-*``; FFmpeg names its decoder
threads ``av:…``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.server import start_test_server  # noqa: E402
from tests.support.tiny_model import write_tiny_clip  # noqa: E402

TINY = "tiny-test"


@contextmanager
def inference_server(root: Path) -> Iterator[tuple[str, int]]:
    """The real Inference server with the tiny test model; yields (url, pid)."""
    proc, url, _ = start_test_server(root, write_tiny_clip(root / "tiny"), TINY)
    try:
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def renice(pid: int, nice: int) -> None:
    """Set the nice value of every thread of ``pid`` (Linux nice is per thread)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and all its live children."""
    total = _cpu_of(Path(f"/proc/{pid}/stat"))
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += process_cpu(int(child))
    return total


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread of ``pid``, keyed ``"<comm>#<tid>"`` (main thread: ``main``)."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm = (task / "comm").read_text().strip()
            cpu = _cpu_of(task / "stat")
        except OSError:
            continue  # the thread ended meanwhile
        key = "main" if task.name == str(pid) else f"{comm}#{task.name}"
        out[key] = cpu
    return out


def split_cpu(before: dict[str, float], after: dict[str, float]) -> tuple[float, float]:
    """(display, indexing) CPU seconds between two :func:`thread_cpu` readings.

    Indexing is every ``clipvi-idx-*`` thread and every FFmpeg ``av:*`` thread (the display
    decodes on one thread of its own, so FFmpeg's threads all belong to indexing); the rest — the
    UI's main thread, Textual's input/output threads, the display decoder — is display.
    """
    display = indexing = 0.0
    for key, cpu in after.items():
        used = cpu - before.get(key, 0.0)
        if key.startswith(("clipvi-idx", "av:")):
            indexing += used
        else:
            display += used
    return display, indexing


def _cpu_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class Tmux:
    """A private tmux server (``tmux -L <name>``) with one session of the same name."""

    def __init__(self, name: str, cols: int, rows: int) -> None:
        self.name = name
        self("kill-server")
        self("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows))

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.name, *args], capture_output=True, text=True, check=False
        ).stdout

    def send(self, *keys: str) -> None:
        """Send keys to the pane."""
        self("send-keys", "-t", self.name, *keys)

    def screen(self, colours: bool = False) -> str:
        """The pane's text (with colour escapes if ``colours``)."""
        return self("capture-pane", "-p", *(["-e"] if colours else []), "-t", self.name)

    def pane_pid(self) -> int:
        """The pid of the process in the pane."""
        return int(self("display", "-p", "-t", self.name, "#{pane_pid}").strip())

    def wait_for(self, text: str, timeout: float) -> str:
        """Poll until ``text`` shows; raise with the screen if it does not in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise SystemExit(f"timed out waiting for {text!r}:\n{self.screen()}")

    def close(self) -> None:
        """Kill the tmux server (and the app in it)."""
        self("kill-server")
