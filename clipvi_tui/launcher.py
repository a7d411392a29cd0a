"""Start the terminal app: check the video, prepare the terminal, run, return an exit code.

Order matters here:

1. The video is probed first, so a bad file ends in one line and exit code 2 (``cli.errors``
   maps the :class:`~clipvi_tui.core.video.VideoError`) instead of a half-drawn screen.
2. Inside tmux, ``COLORTERM=truecolor`` is set when it is unset. tmux sets ``TERM`` to
   ``screen``/``tmux-256color`` and does not pass ``COLORTERM`` through, so Rich/Textual fall back
   to 256 colours and half-block video bands badly. Every tmux from 3.2 passes 24-bit colour to a
   terminal that supports it (and older ones with ``terminal-overrides ,*:Tc``), which is what
   people running this over SSH in tmux have. A user who set ``COLORTERM`` keeps their value.
3. textual-image is imported (protocol and cell-size queries) *before* ``App.run()``: the queries
   read the terminal's replies from stdin, which Textual's input thread would otherwise swallow,
   leaving stray escape sequences and a wrong protocol.
4. The garbage collector is tuned for video (:func:`tune_gc`).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING

from clipvi_tui.config import Settings
from clipvi_tui.core.cache import CacheError, EmbeddingCache
from clipvi_tui.core.process import limit_malloc_arenas
from clipvi_tui.core.video import VideoInfo, probe

if TYPE_CHECKING:
    from clipvi_tui.app import ClipviApp

# Set this to a file path to get the player's counters (display rate, seek latency) as JSON on
# exit; ``bench/player.py`` uses it.
STATS_ENV = "CLIPVI_BENCH_STATS"


def prefer_truecolor_in_tmux(env: MutableMapping[str, str]) -> bool:
    """Set ``COLORTERM=truecolor`` inside tmux when it is unset; True if it was set here."""
    if env.get("TMUX") and not env.get("COLORTERM"):
        env["COLORTERM"] = "truecolor"
        return True
    return False


# Young-generation threshold while the app runs (Python's default is 700).
GC_GEN0_THRESHOLD = 50_000


def tune_gc() -> None:
    """Make garbage collection pauses rarer and shorter during playback.

    Every line Textual repaints leaves a reference cycle behind (its ``Strip`` caches hold the
    strip itself), so video playback makes ≈10k cyclic objects a second. With the default
    thresholds that triggered full collections of everything ever imported every couple of
    seconds: 150–250 ms pauses that froze playback and seeks (measured in tmux, 120×40). Freezing
    what exists at start-up (modules, classes: never garbage) takes it out of every collection,
    and a higher young threshold collects the short-lived cycles in fewer passes (30–80 ms on a
    busy 2-core machine). Measured with ``bench/display_fps.py``: 16 → 22–24 frames/s painted,
    worst seek 0.5 s → 0.2–0.3 s.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 20, 10)


def probe_cached(video: Path, cache_dir: Path) -> VideoInfo:
    """Probe ``video`` with its frame index from the cache (demuxed and stored on first use).

    The cache is closed again before the app starts (its services open it themselves; LMDB
    wants one open environment per process). A cache that cannot be opened only costs the
    demux pass; the services report the cache problem.

    Raises:
        VideoError: if the video cannot be opened.
    """
    try:
        with EmbeddingCache(cache_dir) as cache:
            return probe(video, cache)
    except CacheError:
        return probe(video)


def launch(settings: Settings, video: Path) -> int:
    """Run the app on ``video`` with ``settings`` and return the process exit code.

    Raises:
        VideoError: if the video cannot be opened (before anything is drawn).
        ValueError: for an unknown graphics mode.
    """
    limit_malloc_arenas()  # before any thread starts
    info = probe_cached(video, settings.cache_dir)
    mode = prepare_terminal(settings)

    from clipvi_tui.app import ClipviApp

    return run_app(ClipviApp(settings, video, graphics=mode, info=info, handle_signals=True))


def launch_library(settings: Settings, videos: list[Path], root: Path | None) -> int:
    """Run the app on a library (the list of ``videos`` found under ``root``).

    With ``server: auto`` and no server answering, one local server is started for the whole
    session (every player opened from the list uses it), before anything is drawn.

    Raises:
        ValueError: for an unknown graphics mode.
        EmbeddedServerError: if a local server was needed and did not start.
    """
    from clipvi_tui.server.embedded import serving

    limit_malloc_arenas()  # before any thread starts
    mode = prepare_terminal(settings)

    from clipvi_tui.app import ClipviApp

    with serving(settings, say=print):
        app = ClipviApp(
            settings, graphics=mode, library=videos, library_root=root, handle_signals=True
        )
        return run_app(app)


def prepare_terminal(settings: Settings) -> str:
    """Colours, logging and the graphics protocol, before the app draws; returns the mode."""
    prefer_truecolor_in_tmux(os.environ)
    # Library warnings written to stderr would land in the middle of the screen.
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())

    from clipvi_tui.widgets.graphics import resolve_mode

    return resolve_mode(settings.graphics)


def run_app(app: ClipviApp) -> int:
    """Run ``app`` until it exits, stopping whatever player is open; returns the exit code."""
    tune_gc()
    try:
        app.run()
    finally:
        if app.player is not None:
            app.player.shutdown()
        _write_stats(app)
    return app.return_code or 0


def process_started() -> float | None:
    """When this process started, on the ``time.monotonic()`` clock (Linux; None elsewhere)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_after_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started_after_boot
        return time.monotonic() - age
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _write_stats(app: object) -> None:
    """Dump the player's counters to ``$CLIPVI_BENCH_STATS`` (only when that is set)."""
    target = os.environ.get(STATS_ENV)
    if not target:
        return
    player = getattr(app, "player", None)
    stats = getattr(player, "stats", None)
    if stats is None:
        return
    Path(target).write_text(
        json.dumps(
            {
                "paints": stats.paints,
                "dropped": stats.dropped,
                "seek_latencies_s": stats.seek_latencies,
                "seek_arrivals_s": stats.seek_arrivals,
                "first_picture_latencies_s": stats.first_picture_latencies,
                "preview_latencies_s": stats.preview_latencies,
                "chart_builds": stats.chart_builds,
                "process_started": process_started(),
                "paint_times": list(stats.paint_times),
            }
        ),
        encoding="utf-8",
    )
