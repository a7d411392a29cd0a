"""Architecture rules that a reviewer should not have to check by eye."""

from __future__ import annotations

import subprocess
import sys


def test_core_is_headless() -> None:
    """Importing the whole core pulls in neither textual nor rich."""
    code = (
        "import sys, clipvi_tui.core.video, clipvi_tui.core.cache, clipvi_tui.core.similarity, "
        "clipvi_tui.core.embeddings, clipvi_tui.core.indexer, clipvi_tui.commands; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'textual_image', 'textual_plotext')); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported the TUI stack: {out.stdout}"


def test_core_does_not_import_the_sdk_eagerly() -> None:
    """inference_sdk costs ≈1 s to import; the core loads it only when a request is made."""
    code = "import sys, clipvi_tui.core.embeddings; print('inference_sdk' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
