"""The package's import graph, read from the source (AST, nothing is imported), and its rules.

Run it from the repository root::

    python -m tests.support.import_graph          # prints every violation; exit 1 if any

Rules, checked by ``tests/unit/test_layers.py`` too:

* no import circles anywhere in ``clipvi_tui`` (imports under ``if TYPE_CHECKING:`` are left
  out: they never run);
* no arrow from a lower layer to a higher one, lazy imports inside functions included — the
  layers, lowest first: ``core`` and ``synthetic`` (headless, standalone) ← ``config`` ←
  ``server`` ← ``player``/``library`` ← ``widgets`` ← ``screens`` ← ``app``/``launcher`` ←
  ``cli``;
* ``core``, ``player`` and ``library`` import no widget toolkit: ``core`` nothing of textual,
  rich, textual_image or textual_plotext; ``player`` and ``library`` only Textual's message,
  worker and timer machinery, never a widget, a screen, an app or rich;
* nothing outside ``clipvi_tui.cli`` imports it (``__main__`` excepted: it is the entry point).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "clipvi_tui"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

# Rank of each first-level room of the package; a module may import only ranks <= its own.
LAYERS: dict[str, int] = {
    "__init__": 0,
    "core": 0,
    "synthetic": 0,
    "config": 1,
    "server": 2,
    "player": 3,
    "library": 3,
    "widgets": 4,
    "screens": 5,
    "app": 6,
    "launcher": 6,
    "cli": 7,
    "__main__": 7,
}
TUI_STACK = ("textual", "rich", "textual_image", "textual_plotext")
# Rooms of state and jobs without widgets: the player's, and the library screen's.
STATE_ROOMS = ("player", "library")
# What those may take from Textual: messages, workers and timers, nothing that draws.
PLAYER_MAY_IMPORT = ("textual.message", "textual.worker", "textual.timer")


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, where, and whether it only runs for type checkers."""

    module: str
    target: str
    line: int
    type_checking: bool


def module_name(path: Path) -> str:
    """Dotted name of a source file under the package root."""
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers of statements inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                for sub in ast.walk(stmt):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def imports_of(path: Path) -> list[Import]:
    """Every import in one file, with relative imports resolved to absolute names."""
    name = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            found.append(Import(name, target, node.lineno, node.lineno in hidden))
    return found


def all_imports() -> list[Import]:
    """The imports of every module of the package."""
    out: list[Import] = []
    for path in sorted(ROOT.rglob("*.py")):
        out.extend(imports_of(path))
    return out


def _known(target: str, modules: set[str]) -> str | None:
    """The package module ``target`` names (a module, or a name inside one), if any."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def room(module: str) -> str:
    """The first-level room of a module: ``clipvi_tui.player.frames`` → ``player``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(imports: list[Import]) -> list[list[str]]:
    """Import circles between package modules (runtime imports only), as lists of modules."""
    modules = {module_name(p) for p in ROOT.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        target = _known(imp.target, modules)
        # A package's __init__ is imported on the way to any of its modules: not an arrow.
        if target and target != imp.module and not imp.type_checking and target != PACKAGE:
            if (ROOT.parent / target.replace(".", "/") / "__init__.py").is_file():
                continue
            edges[imp.module].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layer_violations(imports: list[Import]) -> list[str]:
    """Arrows from a lower room to a higher one, and imports a room may not make (one line per
    offending statement and rule)."""
    modules = {module_name(p) for p in ROOT.rglob("*.py")}
    problems: list[str] = []
    seen: set[tuple[str, int, str]] = set()

    def add(imp: Import, reason: str) -> None:
        if (imp.module, imp.line, reason) not in seen:
            seen.add((imp.module, imp.line, reason))
            problems.append(f"{imp.module}:{imp.line} imports {imp.target} ({reason})")

    for imp in imports:
        src = room(imp.module)
        top = imp.target.split(".")[0]
        if top == PACKAGE:
            dst = room(_known(imp.target, modules) or PACKAGE)
            if LAYERS.get(dst, 99) > LAYERS.get(src, -1):
                add(imp, f"layer {src} may not depend on {dst}")
            if dst == "cli" and src not in ("cli", "__main__"):
                add(imp, "nothing outside cli imports the command line")
        elif src == "core" and top in TUI_STACK:
            add(imp, "core is headless")
        elif src in STATE_ROOMS and top in TUI_STACK and not _allowed_in_player(imp.target):
            add(imp, f"{src} holds no widgets, screens or rich")
    return problems


def _allowed_in_player(target: str) -> bool:
    """True for the parts of Textual the player package may use (messages, workers, timers)."""
    return any(target == ok or target.startswith(ok + ".") for ok in PLAYER_MAY_IMPORT)


def screen_modules_without_screens() -> list[str]:
    """Modules of ``screens/`` that define no class deriving from a Screen."""
    bad = []
    for path in sorted((ROOT / "screens").glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bases = [
            ast.unparse(b)
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            for b in node.bases
        ]
        if not any("Screen" in b for b in bases):
            bad.append(module_name(path))
    return bad


def report() -> list[str]:
    """Every violation of the rules above, one line each."""
    imports = all_imports()
    lines = [f"import circle: {' -> '.join(c)}" for c in cycles(imports)]
    lines += layer_violations(imports)
    lines += [f"{m} is in screens/ but defines no Screen" for m in screen_modules_without_screens()]
    return lines


def main() -> int:
    """Print the violations; exit 1 if there are any."""
    problems = report()
    for line in problems:
        print(line)
    if not problems:
        print(f"{PACKAGE}: no import circles, no upward imports, screens/ holds only screens")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
