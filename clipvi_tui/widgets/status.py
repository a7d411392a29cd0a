"""The status bar: position, play state, indexing, server state and display rate on one line.

Render only; the screen assigns a new :class:`StatusInfo` whenever something changes. On a narrow
terminal the fields take shorter forms (``frame 24/59`` → ``24/59``, ``server connected`` →
``server ✓``) before any is left out, so the line always fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from clipvi_tui.widgets.chart_math import format_clock

# What each server state looks like (label, short label, Rich style).
SERVER_LABELS = {
    "unknown": ("server not contacted", "server ?", "dim"),
    "starting": ("starting local server…", "server…", "yellow"),
    "connected": ("server connected", "server ✓", "green"),
    "retrying": ("server error, retrying", "server retrying", "yellow"),
    "unreachable": ("server unreachable, retrying", "no server", "red"),
    "failed": ("server failed", "server ✗", "red"),
    "cache": ("cache only", "cache only", "dim"),
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
    """One line at the bottom of the player; shorter forms when the terminal is narrow."""

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
        """Compose the line from :attr:`info`, fitted to the width."""
        return fit_parts(status_parts(self.info), self.content_size.width or 1000)


@dataclass(frozen=True)
class Part:
    """One field of the status line: its full and its short form.

    ``rank`` says which fields give way first when the line is too long: the highest rank is
    shortened first and, if even the short forms do not fit, dropped first.
    """

    long: Text
    short: Text
    rank: int


SEPARATOR = " │ "


def status_parts(s: StatusInfo) -> list[Part]:
    """The fields of the status line for ``s``, left to right.

    Frame numbers are 0-based raw indices, as in ``clipvi-tui export``: ``frame 24/59`` is the
    25th of 60 frames, 59 the last index.
    """
    last = max(0, s.frame_count - 1)
    clock = format_clock(s.seconds, precise=True)
    parts = [
        Part(Text(f"frame {s.frame}/{last}"), Text(f"{s.frame}/{last}"), 0),
        Part(
            Text(f"{clock} / {format_clock(s.duration)}"),
            Text(f"{clock}/{format_clock(s.duration)}"),
            1,
        ),
        Part(
            Text("▶ playing", style="bold green") if s.playing else Text("⏸ paused"),
            Text("▶", style="bold green") if s.playing else Text("⏸"),
            2,
        ),
        Part(_indexing(s), _indexing(s, short=True), 3),
    ]
    if s.view:
        parts.append(Part(_moments(s), _moments(s, short=True), 4))
    label, short, style = SERVER_LABELS.get(s.server, (s.server, s.server, ""))
    parts.append(Part(Text(label, style=style), Text(short, style=style), 5))
    if s.servers_total > 1:
        parts.append(Part(_servers(s), _servers(s, short=True), 6))
    if s.cache_error:
        # A cache that cannot be written is the one thing the user must see: it gives way last
        # after the frame number.
        failure = Text(cache_label(s.cache_error), style="bold red")
        parts.append(Part(failure, Text("cache!", style="bold red"), 1))
    if s.playing and s.display_fps is not None:
        parts.append(
            Part(Text(f"display {s.display_fps:4.1f} fps"), Text(f"{s.display_fps:.0f} fps"), 7)
        )
    return parts


def cache_label(error: str) -> str:
    """A short status-bar label for a cache failure (the notification has the whole line)."""
    text = error.lower()
    if "disk full" in text:
        return "cache: disk full"
    if "damaged" in text:
        return "cache: damaged file"
    return "cache error"


def fit_parts(parts: list[Part], width: int) -> Text:
    """Join ``parts`` into one line of at most ``width`` cells.

    Long forms first; then, highest rank first, a field takes its short form, and if the short
    forms are still too long, the highest-ranked fields are left out.
    """
    chosen = [p.long for p in parts]

    def length() -> int:
        return sum(t.cell_len for t in chosen) + len(SEPARATOR) * (len(chosen) - 1)

    order = sorted(range(len(parts)), key=lambda i: -parts[i].rank)
    for i in order:
        if length() <= width:
            break
        chosen[i] = parts[i].short
    kept = list(range(len(parts)))
    for i in order:
        if length() <= width or len(kept) == 1:
            break
        kept.remove(i)
        chosen = [parts[k].short for k in kept]
    line = Text(SEPARATOR, style="dim").join(chosen)
    line.truncate(width, overflow="ellipsis")
    return line


def _indexing(s: StatusInfo, short: bool = False) -> Text:
    """``indexed 120/300 40% 35 f/s`` while running; a tick when complete."""
    word = "idx" if short else "indexed"
    if s.index_total <= 0:
        return Text(f"{'idx' if short else 'index'} –", style="dim")
    pct = 100 * s.indexed / s.index_total
    if s.indexed >= s.index_total:
        return Text(f"{word} {s.indexed}/{s.index_total} ✓", style="green")
    text = f"{word} {pct:3.0f}%" if short else f"{word} {s.indexed}/{s.index_total} {pct:3.0f}%"
    if s.index_state == "running" and s.index_rate > 0:
        text += f" {s.index_rate:.0f} f/s" if short else f" {s.index_rate:4.1f} f/s"
    elif s.index_state in ("failed", "cancelled"):
        text += f" ({s.index_state})"
    return Text(text)


def _moments(s: StatusInfo, short: bool = False) -> Text:
    """``raw · smooth 0.5 s`` (``· spikes`` in the spikes view); short: ``raw ~0.5s``."""
    if short:
        smooth = f" ~{s.smooth_s:g}s" if s.smooth_s > 0 else ""
        return Text(f"{s.view}{smooth}" + (" spikes" if s.spikes else ""))
    smooth = f"smooth {s.smooth_s:g} s" if s.smooth_s > 0 else "smooth off"
    return Text(f"{s.view} · {smooth}" + (" · spikes" if s.spikes else ""))


def _servers(s: StatusInfo, short: bool = False) -> Text:
    """``servers 2/3`` (short ``2/3 up``): green when all are up, yellow when some are set
    aside, red when none."""
    style = (
        "green" if s.servers_up == s.servers_total else ("red" if s.servers_up == 0 else "yellow")
    )
    word = "{}/{} up" if short else "servers {}/{}"
    return Text(word.format(s.servers_up, s.servers_total), style=style)
