"""CSV exports are safe to open in a spreadsheet: a prompt that looks like a formula is text.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return) as a formula — a prompt such as ``=HYPERLINK("http://evil", "click")`` would become a
live link in the header row. Such cells get a leading ``'``; numbers (negative cosines too) are
left alone, and JSON keeps every prompt verbatim.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.cli.formats import format_csv, spreadsheet_safe
from clipvi_tui.core.similarity import ScoreTable
from tests.conftest import InferenceServer
from tests.support.faults import cli_options, clipvi

pytestmark = pytest.mark.integration

TRICKY = ['=HYPERLINK("http://evil","click")', "+1+1", "-red", "@SUM(A1)", "\tred", "\rred"]


@pytest.mark.parametrize("prompt", TRICKY)
def test_a_formula_looking_prompt_becomes_text(prompt: str) -> None:
    assert spreadsheet_safe(prompt) == "'" + prompt
    assert spreadsheet_safe("a red circle") == "a red circle"


def test_numbers_are_never_escaped() -> None:
    table = ScoreTable(
        np.array([0, 1]), ["-red"], np.array([[-0.25], [0.5]], np.float32), np.array([0.0, 0.1])
    )
    rows = list(csv.reader(io.StringIO(format_csv(table))))
    assert rows[0] == ["frame", "time_s", "'-red"]
    assert rows[1] == ["0", "0.000000", "-0.250000"], "a negative cosine stays a number"


def test_export_escapes_the_header_and_json_keeps_prompts_verbatim(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    args = ["export", str(coded_video), *cli_options(inference_server.url, tmp_path / "c")]
    for p in TRICKY[:4]:
        args.append(f"--prompt={p}")  # "-p -red" would read -red as an option
    out = subprocess.run(clipvi(*args), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    header = next(csv.reader(io.StringIO(out.stdout)))
    assert header[2:] == ["'" + p for p in TRICKY[:4]]
    out = subprocess.run(
        clipvi(*args, "--format", "json"), capture_output=True, text=True, timeout=120
    )
    assert list(json.loads(out.stdout)["scores"]) == TRICKY[:4]
