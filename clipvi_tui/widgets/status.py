"""The status bar: position, play state, indexing, server state and display rate on one line.

Render only; the screen assigns a new :class:`StatusInfo` whenever something changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from clipvi_tui.widgets.chart_math import format_clock

# What each server state looks like (label, Rich style).
SERVER_LABELS = {
    "unknown": ("server not contacted", "dim"),
    "starting": ("starting local server…", "yellow"),
    "connected": ("server connected", "green"),
    "retrying": ("server error, retrying", "yellow"),
    "unreachable": ("server unreachable, retrying", "red"),
    "failed": ("server failed", "red"),
    "cache": ("cache only", "dim"),
}


@dataclass(frozen=True)
class StatusInfo:
    """Everything the status bar shows."""

    frame: int = 0
    frame_count: int = 0
    seconds: float = 0.0
    duration: float = 0.0
    playing: bool = False
    indexed: int = 0
    index_total: int = 0
    index_rate: float = 0.0
    index_state: str = "waiting"  # waiting | running | retrying | done | failed | cancelled
    server: str = "unknown"
    display_fps: float | None = None
    view: str = ""  # the score view ("" hides the moments part)
    smooth_s: float = 0.0
    spikes: bool = False
    servers_up: int = 0  # shown only with several servers
    servers_total: int = 0
    cache_error: str = ""  # the cache cannot be written (disk full, damaged): shown in red


class StatusBar(Widget):
    """One line at the bottom of the player."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    info: reactive[StatusInfo] = reactive(StatusInfo, layout=False)

    def render(self) -> RenderResult:
        """Compose the line from :attr:`info`."""
        s = self.info
        sep = Text(" │ ", style="dim")
        parts: list[Text] = [
            Text(f"frame {s.frame + 1}/{s.frame_count}"),
            Text(f"{format_clock(s.seconds, precise=True)} / {format_clock(s.duration)}"),
            Text("▶ playing", style="bold green") if s.playing else Text("⏸ paused"),
            _indexing(s),
        ]
        if s.view:
            parts.append(_moments(s))
        label, style = SERVER_LABELS.get(s.server, (s.server, ""))
        parts.append(Text(label, style=style))
        if s.servers_total > 1:
            parts.append(_servers(s))
        if s.cache_error:
            parts.append(Text(cache_label(s.cache_error), style="bold red"))
        if s.playing and s.display_fps is not None:
            parts.append(Text(f"display {s.display_fps:4.1f} fps"))
        return sep.join(parts)


def cache_label(error: str) -> str:
    """A short status-bar label for a cache failure (the notification has the whole line)."""
    text = error.lower()
    if "disk full" in text:
        return "cache: disk full"
    if "damaged" in text:
        return "cache: damaged file"
    return "cache error"


def _indexing(s: StatusInfo) -> Text:
    """``indexed 120/300 40% 35 f/s`` while running; a tick when complete."""
    if s.index_total <= 0:
        return Text("index –", style="dim")
    pct = 100 * s.indexed / s.index_total
    if s.indexed >= s.index_total:
        return Text(f"indexed {s.indexed}/{s.index_total} ✓", style="green")
    text = f"indexed {s.indexed}/{s.index_total} {pct:3.0f}%"
    if s.index_state == "running" and s.index_rate > 0:
        text += f" {s.index_rate:4.1f} f/s"
    elif s.index_state in ("failed", "cancelled"):
        text += f" ({s.index_state})"
    return Text(text)


def _moments(s: StatusInfo) -> Text:
    """``raw · smooth 0.5 s`` (``· spikes`` in the spikes view)."""
    smooth = f"smooth {s.smooth_s:g} s" if s.smooth_s > 0 else "smooth off"
    return Text(f"{s.view} · {smooth}" + (" · spikes" if s.spikes else ""))


def _servers(s: StatusInfo) -> Text:
    """``servers 2/3``: green when all are up, yellow when some are set aside, red when none."""
    style = (
        "green" if s.servers_up == s.servers_total else ("red" if s.servers_up == 0 else "yellow")
    )
    return Text(f"servers {s.servers_up}/{s.servers_total}", style=style)
