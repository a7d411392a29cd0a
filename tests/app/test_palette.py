"""The command palette (ctrl+p): every action of the app is a command that shows its key."""

from __future__ import annotations

from typing import Any

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from clipvi_tui.app import ClipviApp
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.widgets.commands import as_binding, key_commands
from tests.app.appfakes import MakeApp, ready, wait_for

SIZE = (120, 40)


def test_every_binding_is_a_command_with_its_keys() -> None:
    """Each action bound to a key in the player or the app is one command, named by its longer
    wording, with all its keys (q and ctrl+c are one "Quit")."""
    commands = key_commands(PlayerScreen.BINDINGS, ClipviApp.BINDINGS)
    actions = {c.action for c in commands}
    bound = {as_binding(b).action for b in [*PlayerScreen.BINDINGS, *ClipviApp.BINDINGS]}
    assert actions == bound
    by_action = {c.action: c for c in commands}
    assert by_action["quit"].keys == "q / ctrl+c"
    assert by_action["step(1)"].name == "Next sampled frame" and by_action["step(1)"].keys == "→"
    assert by_action["add_prompt"].keys == "a / /"
    assert by_action["undo_delete"].keys == "u"


async def _shown_commands(pilot: Pilot[Any]) -> list[str]:
    await wait_for(pilot, lambda: pilot.app.screen.query(CommandList).first().option_count > 0)
    options = pilot.app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_ctrl_p_opens_the_palette_listing_commands_with_keys(make_app: MakeApp) -> None:
    """ctrl+p opens the palette; with nothing typed it lists the commands, each with its key."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        assert CommandPalette.is_open(app)
        shown = await _shown_commands(pilot)
        assert "Play/Pause  space" in shown, shown
        assert "Undo the last prompt deletion  u" in shown
        assert "Help  ?" in shown and "Quit  q / ctrl+c" in shown
        assert sum(1 for s in shown if s.startswith("Quit")) == 1, "one Quit, not Textual's too"
        assert not any(s.startswith("Back to library") for s in shown), "no library here"
        await pilot.press("escape")
        assert not CommandPalette.is_open(app)


async def test_palette_commands_run_their_action(make_app: MakeApp) -> None:
    """Typing part of a name and enter runs that command: a step, a delete and its undo."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        for query, check in (
            ("next sampled", lambda: player.frame == 2),
            ("delete the selected", lambda: [e.text for e in player.board.prompts] == ["green"]),
            ("undo", lambda: len(player.board.prompts) == 2),
        ):
            await pilot.press("ctrl+p", *query)
            shown = await _shown_commands(pilot)
            assert shown, query
            await pilot.press("enter")
            await wait_for(pilot, check, timeout=3)
            assert app.screen is player


async def test_palette_quit_exits_with_zero(make_app: MakeApp) -> None:
    """The Quit command quits like q."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p", *"quit")
        await _shown_commands(pilot)
        await pilot.press("enter")
        await pilot.pause(0.2)
    assert app.return_code == 0
