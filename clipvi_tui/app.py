"""The Textual app: stylesheet, global keys and the wiring of the player's services.

The player's state lives in :class:`~clipvi_tui.screens.player.PlayerScreen` and the
:mod:`clipvi_tui.player` objects it owns; this class only builds the screen from the settings and
offers the keys that work everywhere (help, quit). Opened on a library, it shows the
:class:`~clipvi_tui.screens.library.LibraryScreen` first and a player for each video picked
there; ``esc`` in the player goes back to the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from clipvi_tui.config import Settings
from clipvi_tui.core.process import exit_unless_done_within
from clipvi_tui.core.video import VideoInfo, probe
from clipvi_tui.player.context import ClientFactory, PlayerConfig, default_client_factory
from clipvi_tui.screens.dialogs import HelpScreen, help_rows
from clipvi_tui.screens.library import LibraryConfig, LibraryScreen
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.widgets.commands import KeyCommands
from clipvi_tui.widgets.halfblock import install_truecolor_pass_through

# Signals that end the app the way `q` does (SIGHUP: the terminal or SSH session went away).
QUIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# After such a signal the process ends within this long, even if the shutdown cannot finish.
QUIT_BACKSTOP_S = 8.0


class ClipviApp(App[int]):
    """clipvi-tui: a video, its CLIP similarity to your prompts, and a chart over time."""

    CSS_PATH = "clipvi.tcss"
    TITLE = "clipvi-tui"
    # ctrl+p: every key's action by name (with its key), plus Textual's theme/screenshot.
    COMMANDS = App.COMMANDS | {KeyCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("escape", "back_to_library", "Back to library", key_display="esc", id="app.back"),
        # Textual's own ctrl+c only says "press ctrl+q"; here it quits like q (exit code 0),
        # from every screen and dialog, as terminal users expect.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit_ctrl_c"),
    ]

    def __init__(
        self,
        settings: Settings,
        video: Path | None = None,
        *,
        graphics: str = "unicode",
        client_factory: ClientFactory | None = None,
        start_server: bool | None = None,
        info: VideoInfo | None = None,
        library: list[Path] | None = None,
        library_root: Path | None = None,
        handle_signals: bool = False,
    ) -> None:
        """Prepare the app; nothing runs until ``run()``/``run_test()``.

        Args:
            settings: validated settings.
            video: the video file (or None with ``library``).
            graphics: a concrete graphics mode (resolve ``auto`` before, see ``launcher``).
            client_factory: makes the embedding client for an API URL (tests inject a fake).
            start_server: force (True) or forbid (False) an embedded server; None decides from
                the settings.
            info: the probed video metadata, if the caller already has it.
            library: open on this list of videos instead of one video.
            library_root: the folder the library was found in (for display).
            handle_signals: quit cleanly on SIGTERM and SIGHUP, as ``q`` does (the launcher
                sets it; tests running several apps in one process leave it off).

        Raises:
            VideoError: if the video cannot be opened.
            ValueError: if neither a video nor a library is given.
        """
        super().__init__()
        # Half-block video changes thousands of truecolor segments a frame; Textual's
        # ANSI-to-truecolor filter would rebuild every one of them on every frame (in a player
        # opened from the library too).
        install_truecolor_pass_through(self._filters)
        self.settings = settings
        self.graphics = graphics
        self.client_factory = client_factory or default_client_factory(settings)
        self.start_server = start_server
        self.handle_signals = handle_signals
        self.player: PlayerScreen | None = None
        self.library: LibraryScreen | None = None
        if library is not None:
            self.library = LibraryScreen(
                LibraryConfig(settings, list(library), library_root, self.client_factory)
            )
            return
        if video is None:
            raise ValueError("ClipviApp needs a video or a library")
        self.config = self._player_config(settings, Path(video), info or probe(video))
        self.player = PlayerScreen(self.config)

    def _player_config(
        self, settings: Settings, video: Path, info: VideoInfo, start_frame: int = 0
    ) -> PlayerConfig:
        return PlayerConfig(
            settings=settings,
            video=video,
            info=info,
            graphics=self.graphics,
            client_factory=self.client_factory,
            start_server=self.start_server,
            start_frame=start_frame,
        )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's palette commands, without the ones our key commands already offer."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Keys"):
                yield command

    def on_mount(self) -> None:
        """Show the player (or the library); with ``handle_signals``, quit on SIGTERM/SIGHUP."""
        self.push_screen(self.library or self.player)  # type: ignore[arg-type]
        if self.handle_signals:
            loop = asyncio.get_running_loop()

            def on_signal(sig: int, _frame: object) -> None:
                # A plain handler, not loop.add_signal_handler: it runs even while the event
                # loop is stuck (Textual blocked writing to a terminal that is gone), so the
                # backstop is armed whatever state the loop is in.
                exit_unless_done_within(QUIT_BACKSTOP_S, 128 + sig)
                loop.call_soon_threadsafe(self._quit_on_signal, sig)

            for sig in QUIT_SIGNALS:
                with contextlib.suppress(ValueError, OSError):
                    signal.signal(sig, on_signal)

    # -- library ------------------------------------------------------------------------------

    @on(LibraryScreen.OpenVideo)
    def _open_video(self, message: LibraryScreen.OpenVideo) -> None:
        """Play the video picked in the library, from the moment picked, with its prompt."""
        entry = message.entry
        assert entry.info is not None, "the library only opens videos it could probe"
        settings = self.settings
        if message.prompt and message.prompt not in settings.prompts:
            settings = dataclasses.replace(settings, prompts=[message.prompt, *settings.prompts])
        config = self._player_config(
            settings, entry.path, entry.info, entry.info.frame_at(message.seconds)
        )
        self.player = PlayerScreen(config)
        self.push_screen(self.player)

    def _quit_on_signal(self, sig: int) -> None:
        """SIGTERM/SIGHUP: everything ``q`` does (workers, server, terminal), exit 128+sig.

        Without this Python dies at once and leaves the terminal in the alternate screen with
        mouse reporting on and the cursor hidden, and an embedded server running.
        """
        if self.player is not None:
            self.player.shutdown()
        self.exit(return_code=128 + int(sig))

    def offers(self, binding: BindingType) -> bool:
        """Whether help and the palette list this app key: "back to library" only when there
        is a library to go back to."""
        return self.library is not None or getattr(binding, "id", "") != "app.back"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``back_to_library`` exists only in a player opened from the library."""
        if action == "back_to_library":
            return (
                self.library is not None
                and self.player is not None
                and self.screen is (self.player)
            )
        return True

    def action_back_to_library(self) -> None:
        """Close the player and return to the library list."""
        player = self.player
        if self.library is None or player is None or self.screen is not player:
            return
        player.shutdown()
        self.player = None
        self.pop_screen()
        self.library.take_back_cache()

    # -- everywhere ---------------------------------------------------------------------------

    def action_help(self) -> None:
        """List every key of the screen shown and of the app."""
        keys = LibraryScreen.BINDINGS if self.screen is self.library else PlayerScreen.BINDINGS
        app_keys = [b for b in self.BINDINGS if self.offers(b)]
        self.push_screen(HelpScreen(help_rows([*keys, *app_keys])))

    async def action_quit(self) -> None:
        """Stop background work first so nothing outlives the screen, then exit."""
        if self.player is not None:
            self.player.shutdown()
        self.exit(0)
