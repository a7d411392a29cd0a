"""Architecture rules that a reviewer should not have to check by eye.

The static rules (no import circles, no arrow from a lower layer to a higher one, no widget
toolkit in ``core``/``player``, nobody imports ``cli``, ``screens/`` holds screens only) come from
``tests/support/import_graph.py``, which anyone can run: ``python -m tests.support.import_graph``.
The runtime tests import the rooms in a fresh interpreter and look at what got loaded, which also
catches an import hidden in a third module.
"""

from __future__ import annotations

import subprocess
import sys

from tests.support import import_graph

TUI = ("textual", "rich", "textual_image", "textual_plotext")


def _loaded_after(imports: str, prefixes: tuple[str, ...]) -> list[str]:
    """Modules whose name starts with one of ``prefixes`` after running ``imports`` afresh."""
    code = (
        f"import sys, importlib, pkgutil\n{imports}\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({prefixes!r}))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def _import_package(name: str) -> str:
    """Code that imports every module of package ``name``."""
    return (
        f"import {name} as P\n"
        f"for m in pkgutil.iter_modules(P.__path__): importlib.import_module('{name}.' + m.name)"
    )


def test_core_is_headless() -> None:
    """Importing the whole core, the config and the headless commands pulls in no TUI stack."""
    imports = "\n".join(
        [
            _import_package("clipvi_tui.core"),
            "import clipvi_tui.config, clipvi_tui.cli.indexing, clipvi_tui.cli.formats",
        ]
    )
    bad = _loaded_after(imports, tuple(f"{t}" for t in TUI))
    assert bad == [], f"core imported the TUI stack: {bad}"


def test_player_holds_no_widgets_or_screens() -> None:
    """The player package runs without any widget, screen or app module being loaded."""
    prefixes = (
        "textual.widget",
        "textual.screen",
        "textual.app",
        "textual_image",
        "textual_plotext",
        "clipvi_tui.screens",
        "clipvi_tui.widgets",
        "clipvi_tui.app",
        "clipvi_tui.cli",
    )
    bad = _loaded_after(_import_package("clipvi_tui.player"), prefixes)
    assert bad == [], f"player pulled in widgets, screens or the app: {bad}"


def test_library_holds_no_widgets_or_screens() -> None:
    """The library screen's state and jobs run without any widget, screen or app module."""
    prefixes = (
        "textual.widget",
        "textual.screen",
        "textual.app",
        "clipvi_tui.screens",
        "clipvi_tui.widgets",
        "clipvi_tui.app",
        "clipvi_tui.cli",
    )
    bad = _loaded_after(_import_package("clipvi_tui.library"), prefixes)
    assert bad == [], f"library pulled in widgets, screens or the app: {bad}"


def test_core_does_not_import_the_sdk_eagerly() -> None:
    """inference_sdk costs ≈1 s to import; the core loads it only when a request is made."""
    code = "import sys, clipvi_tui.core.embeddings; print('inference_sdk' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_import_circles() -> None:
    """No module of the package imports itself through others (type-checking imports aside)."""
    circles = import_graph.cycles(import_graph.all_imports())
    assert circles == [], f"import circles: {circles}"


def test_no_arrow_from_a_lower_layer_to_a_higher_one() -> None:
    """core ← config ← server ← player ← widgets ← screens ← app ← cli, lazy imports included;
    core imports no TUI toolkit, player no widget/screen/rich, and nothing imports cli."""
    problems = import_graph.layer_violations(import_graph.all_imports())
    assert problems == [], "\n".join(problems)


def test_screens_holds_only_screens() -> None:
    """Every module in screens/ defines a Screen; state and jobs live in player/."""
    assert import_graph.screen_modules_without_screens() == []


def test_the_rules_catch_violations() -> None:
    """The checker is not vacuous: a made-up upward import, a widget in player and an import
    of cli from core are all reported."""
    fake = [
        import_graph.Import("clipvi_tui.core.video", "clipvi_tui.player.clock", 1, False),
        import_graph.Import("clipvi_tui.player.clock", "textual.widgets", 2, False),
        import_graph.Import("clipvi_tui.player.clock", "textual.message", 3, False),
        import_graph.Import("clipvi_tui.core.cache", "clipvi_tui.cli.errors", 4, False),
        import_graph.Import("clipvi_tui.core.cache", "rich.text", 5, False),
    ]
    problems = "\n".join(import_graph.layer_violations(fake))
    assert "clipvi_tui.core.video:1" in problems
    assert "clipvi_tui.player.clock:2" in problems
    assert "clipvi_tui.player.clock:3" not in problems, "textual.message is allowed in player"
    assert "nothing outside cli" in problems
    assert "clipvi_tui.core.cache:5" in problems


def test_forced_halfcell_does_not_query_the_terminal() -> None:
    """``--graphics halfcell`` never imports textual-image (whose import sends terminal
    queries that cost ≈0.2 s of start-up in tmux)."""
    code = (
        "import sys\n"
        "from clipvi_tui.widgets.graphics import resolve_mode\n"
        "assert resolve_mode('halfcell') == 'halfcell'\n"
        "print('textual_image' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
