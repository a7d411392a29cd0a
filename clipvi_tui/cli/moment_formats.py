"""Output formats of moments: segments and spikes (CSV, JSON) and search hits (text, JSON).

Frames are raw 0-based frame indices and times the frames' own seconds, as in the score export;
numbers are rounded to 6 decimals.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from clipvi_tui.core.moments import SEGMENT_FIELDS, Segment, Spike
from clipvi_tui.core.search import Hit
from clipvi_tui.widgets.chart_math import format_clock

SPIKE_FIELDS = ("prompt", "frame", "time_s", "change")


def _round(value: object) -> object:
    return round(value, 6) if isinstance(value, float) else value


def _csv(header: Sequence[str], rows: Sequence[Mapping[str, object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(f"{row[k]:.6f}" if isinstance(row[k], float) else row[k] for k in header)
    return buf.getvalue()


def segments_csv(segments: Sequence[Segment]) -> str:
    """CSV with the header ``prompt,start_frame,end_frame,start_s,end_s,peak_frame,peak_s,
    peak_score,mean_score``, one row per segment."""
    return _csv(SEGMENT_FIELDS, [s.to_dict() for s in segments])


def segments_json(
    segments: Sequence[Segment], thresholds: Mapping[str, float | None], **meta: object
) -> str:
    """``{"video", "model", "view", "smooth_s", "thresholds": {prompt: value or null},
    "segments": [...]}``; ``meta`` gives the first four, in that order."""
    doc = {
        **meta,
        "thresholds": {p: None if t is None else round(t, 6) for p, t in thresholds.items()},
        "segments": [{k: _round(v) for k, v in s.to_dict().items()} for s in segments],
    }
    return json.dumps(doc, indent=1) + "\n"


def _spike_row(s: Spike) -> dict[str, object]:
    return {"prompt": s.prompt, "frame": s.frame, "time_s": s.time_s, "change": s.change}


def spikes_csv(spikes: Sequence[Spike]) -> str:
    """CSV with the header ``prompt,frame,time_s,change``, one row per spike."""
    return _csv(SPIKE_FIELDS, [_spike_row(s) for s in spikes])


def spikes_json(spikes: Sequence[Spike], spike_k: float, **meta: object) -> str:
    """``{"video", "model", "view", "smooth_s", "spike_k", "spikes": [...]}``."""
    doc = {
        **meta,
        "spike_k": spike_k,
        "spikes": [{k: _round(v) for k, v in _spike_row(s).items()} for s in spikes],
    }
    return json.dumps(doc, indent=1) + "\n"


def hits_json(hits: Sequence[Hit], *, query: str, model: str) -> str:
    """``{"query", "model", "hits": [{"video", "frame", "time_s", "start_s", "end_s",
    "score"}]}``, best first."""
    doc = {
        "query": query,
        "model": model,
        "hits": [{k: _round(v) for k, v in h.to_dict().items()} for h in hits],
    }
    return json.dumps(doc, indent=1) + "\n"


def hits_text(hits: Sequence[Hit], *, query: str, model: str) -> str:
    """One line per hit, best first: rank, score, video, time, frame and the moment's span."""
    lines = [f"{len(hits)} moment(s) for {query} ({model})"]
    width = max((len(Path(h.video).name) for h in hits), default=0)
    for rank, h in enumerate(hits, 1):
        span = f"{format_clock(h.start_s, True)}–{format_clock(h.end_s, True)}"
        lines.append(
            f"{rank:3d}  {h.score:7.4f}  {Path(h.video).name:<{width}}  "
            f"{format_clock(h.time_s, True):>8}  frame {h.frame:<7d} {span}"
        )
    return "\n".join(lines) + "\n"
