"""Export formats of per-frame scores: CSV and JSON (times are the frames' own, in seconds).

Text cells of the CSV (the prompts in the header) that start with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return get a leading ``'``: spreadsheets would run them as formulas
("formula injection"), and the apostrophe is how they mark a cell as text. Numbers are never
escaped (a negative cosine stays ``-0.123456``); JSON keeps every prompt verbatim.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

import numpy as np

from clipvi_tui.cli.errors import UsageError
from clipvi_tui.core.similarity import ScoreTable


def format_csv(table: ScoreTable) -> str:
    """CSV: ``frame,time_s,<prompt>,...``; one row per sampled frame; cosine to 6 decimals."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["frame", "time_s", *(spreadsheet_safe(p) for p in table.prompts)])
    for row, (frame, seconds) in enumerate(zip(table.frames, table.times, strict=True)):
        values = [
            "" if np.isnan(v) else f"{v:.6f}" for v in table.scores[row]
        ]  # empty = not embedded
        writer.writerow([int(frame), f"{seconds:.6f}", *values])
    return buf.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def format_json(table: ScoreTable, video: Path, model: str, sample_fps: float | None) -> str:
    """JSON with the video, model, sampling, frames, times and one score list per prompt."""

    def clean(col: np.ndarray) -> list[float | None]:
        return [None if np.isnan(v) else round(float(v), 6) for v in col]

    doc = {
        "video": str(video),
        "model": model,
        "sample_fps": "all" if sample_fps is None else sample_fps,
        "frames": [int(f) for f in table.frames],
        "time_s": [round(float(t), 6) for t in table.times],
        "scores": {p: clean(table.scores[:, i]) for i, p in enumerate(table.prompts)},
    }
    return json.dumps(doc, indent=1) + "\n"


def output_format(args: argparse.Namespace) -> str:
    """``--format``, else ``json`` for an ``-o`` file ending in ``.json``, else ``csv``."""
    return args.format or ("json" if (args.output or "").endswith(".json") else "csv")


def write_output(text: str, output: str | None) -> None:
    """Write ``text`` to the file ``output`` (``-o``), or to stdout without one.

    Raises:
        UsageError: if the file cannot be written.
    """
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
