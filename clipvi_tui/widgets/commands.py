"""The command palette's commands (ctrl+p): every key binding of the app, found by name.

:class:`KeyCommands` is a Textual command :class:`~textual.command.Provider`. It reads the
bindings of the screen the palette was opened on and of the app, so every action that has a key
is a command and none can be forgotten when a key is added; each shows its key(s), so the
palette also teaches them. Choosing one runs the same action the key runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

# How key names read for people (the footer shows ``key_display`` only; help and palette show
# every key of a binding).
KEY_NAMES = {
    "space": "space",
    "left": "←",
    "right": "→",
    "up": "↑",
    "down": "↓",
    "shift+left": "shift+←",
    "shift+right": "shift+→",
    "comma": ",",
    "full_stop": ".",
    "question_mark": "?",
    "slash": "/",
    "escape": "esc",
    "plus": "+",
    "minus": "-",
    "equals_sign": "=",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "ctrl+c": "ctrl+c",
}


def as_binding(b: BindingType) -> Binding:
    """A ``BINDINGS`` entry (a Binding or a tuple) as a Binding."""
    return b if isinstance(b, Binding) else Binding(*b)


def key_label(binding: Binding) -> str:
    """How a binding's keys read, e.g. ``↑ / k`` (every key; ``key_display`` for a lone key)."""
    keys = [k.strip() for k in binding.key.split(",")]
    if len(keys) == 1 and binding.key_display:
        return binding.key_display
    return " / ".join(KEY_NAMES.get(k, k) for k in keys)


@dataclass(frozen=True)
class KeyCommand:
    """One palette entry: a name, its keys, and the action it runs on its owner."""

    name: str
    keys: str
    action: str
    owner: str  # "screen" or "app": where the action is looked up


def key_commands(
    screen_bindings: Iterable[BindingType], app_bindings: Iterable[BindingType]
) -> list[KeyCommand]:
    """One command per action (keys of the same action joined), in binding order.

    The name is the binding's tooltip if it has one (the longer wording), else its description;
    bindings without either are not commands.
    """
    commands: dict[tuple[str, str], KeyCommand] = {}
    for owner, bindings in (("screen", screen_bindings), ("app", app_bindings)):
        for b in map(as_binding, bindings):
            name = b.tooltip or b.description
            if not name:
                continue
            key = (owner, b.action)
            label = key_label(b)
            if key in commands:
                old = commands[key]
                commands[key] = KeyCommand(old.name, f"{old.keys} / {label}", b.action, owner)
            else:
                commands[key] = KeyCommand(name, label, b.action, owner)
    return list(commands.values())


class KeyCommands(Provider):
    """Every binding of the current screen and of the app as a palette command."""

    def _commands(self) -> Iterator[tuple[KeyCommand, Any]]:
        screen, app = self.screen, self.app
        offers = getattr(app, "offers", lambda _binding: True)  # the app's keys it lists here
        app_bindings = [b for b in type(app).BINDINGS if offers(b)]
        for command in key_commands(type(screen).BINDINGS, app_bindings):
            target = screen if command.owner == "screen" else app
            yield command, partial(target.run_action, command.action)

    @staticmethod
    def _display(name: Content | str, keys: str) -> Content:
        return Content.assemble(name, ("  " + keys, "dim"))

    async def discover(self) -> Hits:
        """All commands, in binding order, for the palette's empty search."""
        for command, run in self._commands():
            yield DiscoveryHit(
                self._display(command.name, command.keys),
                run,
                text=command.name,
            )

    async def search(self, query: str) -> Hits:
        """Commands whose name (or key) matches ``query``, best first."""
        matcher = self.matcher(query)
        for command, run in self._commands():
            score = max(matcher.match(command.name), matcher.match(command.keys) * 0.8)
            if score > 0:
                yield Hit(
                    score,
                    self._display(matcher.highlight(command.name), command.keys),
                    run,
                    text=command.name,
                )
