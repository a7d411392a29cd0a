"""What the player's jobs share: the player's configuration, long-lived handles, abandonable calls.

Network calls can block for the client's whole timeout (a hung server), and Python cannot
interrupt a thread. So blocking calls run through :func:`run_abandonable`: the worker waits on a
daemon thread and, when cancelled (the user quit), stops waiting. The daemon thread finishes or
dies with the process; quitting never waits for the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from textual.message import Message

from clipvi_tui.config import APP_NAME, Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient
from clipvi_tui.core.indexer import Indexer
from clipvi_tui.core.servers import ServerPool
from clipvi_tui.core.validation import ModelGate
from clipvi_tui.core.video import VideoInfo

T = TypeVar("T")
Post = Callable[[Message], Any]
Cancelled = Callable[[], bool]
ClientFactory = Callable[[str], EmbeddingClient]

# How long a cancelled job may take to wind down cleanly before it is abandoned.
CANCEL_GRACE_S = 0.5


class Abandoned(Exception):
    """The job was cancelled while a blocking call was still running; it was left behind."""


@dataclass
class PlayerConfig:
    """What the player needs to run, all injectable for tests.

    Attributes:
        settings: validated settings (cache dir, sampling rate, server mode, …).
        video: the video file.
        info: its probed metadata.
        graphics: a concrete graphics mode (``kitty``, ``sixel``, ``halfcell``, ``unicode``).
        client_factory: builds the embedding client for an API URL.
        start_server: start an embedded server? None decides with ``embedded.should_start``.
        start_frame: the raw frame to open on (a moment picked in the library).
    """

    settings: Settings
    video: Path
    info: VideoInfo
    graphics: str
    client_factory: ClientFactory
    start_server: bool | None = None
    start_frame: int = 0


@dataclass
class ServiceHandles:
    """Long-lived objects the jobs create, kept where shutdown can find them.

    LMDB allows one open environment per directory and process, so the cache must be closed on
    exit (a second app in the same process, as in tests, could not open it otherwise), but never
    while a thread still uses it: :meth:`using_cache` counts the users and :meth:`close_cache`
    waits for them, leaving the cache open if a thread is stuck on a hung server.
    """

    server: Any = None  # an EmbeddedServer, if one was started
    indexer: Indexer | None = None
    cache: EmbeddingCache | None = None
    # Checks once that the server's model is the one cached under its name (see core.validation).
    gate: ModelGate | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _users: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _closed: bool = False

    @contextmanager
    def using_cache(self) -> Iterator[None]:
        """Mark the calling thread as a cache user for the duration of the block.

        Raises:
            Abandoned: if the cache is already closed (the app is shutting down).
        """
        with self._idle:
            if self._closed:
                raise Abandoned()
            self._users += 1
        try:
            yield
        finally:
            with self._idle:
                self._users -= 1
                self._idle.notify_all()

    def close_cache(self, timeout: float) -> bool:
        """Close the cache once no thread uses it; False if users remain after ``timeout``."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._users == 0, timeout):
                return False
            self._closed = True
            cache, self.cache = self.cache, None
        if cache is not None:
            cache.close()
        return True


def default_client_factory(settings: Settings) -> ClientFactory:
    """A factory of server pools with the settings' key and model.

    Given the configured first server's URL, the pool spans every configured server; given
    another URL (an embedded server started for the run), that one alone.
    """

    def make(api_url: str) -> EmbeddingClient:
        return ServerPool(
            settings.server_specs(api_url),
            api_key=settings.api_key,
            clip_version=settings.clip_version,
            timeout=settings.timeout,
        )

    return make


def run_abandonable(
    fn: Callable[[], T],
    cancelled: Cancelled,
    *,
    on_cancel: Callable[[], None] | None = None,
    poll: float = 0.1,
) -> T:
    """Run ``fn`` on a daemon thread and wait for it, giving up when ``cancelled()`` turns true.

    Args:
        fn: the blocking call.
        cancelled: polled every ``poll`` seconds.
        on_cancel: asked to stop ``fn`` cleanly (e.g. ``Indexer.cancel``) before giving up.
        poll: polling interval in seconds.

    Returns:
        What ``fn`` returned.

    Raises:
        Abandoned: if cancelled before ``fn`` finished.
        Exception: whatever ``fn`` raised.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="clipvi-blocking", daemon=True).start()
    while not done.wait(poll):
        if cancelled():
            if on_cancel is not None:
                on_cancel()
            if not done.wait(CANCEL_GRACE_S):
                raise Abandoned()
            break
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


def server_log_path() -> Path:
    """Where the embedded server's output goes (named in errors so users can look)."""
    return Path(platformdirs.user_log_dir(APP_NAME)) / "embedded-server.log"
