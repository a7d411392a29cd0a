"""The Textual app: stylesheet, global keys and the wiring of the player's services.

The player's state lives in :class:`~clipvi_tui.screens.player.PlayerScreen` and the
:mod:`clipvi_tui.player` objects it owns; this class only builds the screen from the settings and
offers the keys that work everywhere (help, quit).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from clipvi_tui.config import Settings
from clipvi_tui.core.video import VideoInfo, probe
from clipvi_tui.player.context import ClientFactory, PlayerConfig, default_client_factory
from clipvi_tui.screens.dialogs import HelpScreen, help_rows
from clipvi_tui.screens.player import PlayerScreen


class ClipviApp(App[int]):
    """clipvi-tui: a video, its CLIP similarity to your prompts, and a chart over time."""

    CSS_PATH = "clipvi.tcss"
    TITLE = "clipvi-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        video: Path,
        *,
        graphics: str = "unicode",
        client_factory: ClientFactory | None = None,
        start_server: bool | None = None,
        info: VideoInfo | None = None,
    ) -> None:
        """Prepare the app; nothing runs until ``run()``/``run_test()``.

        Args:
            settings: validated settings.
            video: the video file.
            graphics: a concrete graphics mode (resolve ``auto`` before, see ``launcher``).
            client_factory: makes the embedding client for an API URL (tests inject a fake).
            start_server: force (True) or forbid (False) an embedded server; None decides from
                the settings.
            info: the probed video metadata, if the caller already has it.

        Raises:
            VideoError: if the video cannot be opened.
        """
        super().__init__()
        self.config = PlayerConfig(
            settings=settings,
            video=Path(video),
            info=info or probe(video),
            graphics=graphics,
            client_factory=client_factory or default_client_factory(settings),
            start_server=start_server,
        )
        self.player = PlayerScreen(self.config)

    def on_mount(self) -> None:
        """Show the player."""
        self.push_screen(self.player)

    def action_help(self) -> None:
        """List every key of the player and the app."""
        self.push_screen(HelpScreen(help_rows([*PlayerScreen.BINDINGS, *self.BINDINGS])))

    async def action_quit(self) -> None:
        """Stop background work first so nothing outlives the screen, then exit."""
        self.player.shutdown()
        self.exit(0)
