"""Exit codes, the command line's own errors, and the one place that maps any failure to a
one-line message and an exit code.

=====  =====================================================================================
code   meaning
=====  =====================================================================================
0      success (warnings, e.g. an unknown config key, may have been printed)
1      a bug: "unexpected error" — never for anything a user can cause
2      bad input: command line, config file, video file, a prompt over 77 tokens, an API key
       the server rejected
3      the Inference server: unreachable, timed out, failing (HTTP 4xx/5xx), an answer that
       is not valid embeddings, a model it cannot load, or a model that differs from the one
       cached under the same name
4      the cache: the disk under it is full, its file is damaged, it cannot be created
130    interrupted (Ctrl-C); everything embedded so far is cached
=====  =====================================================================================

Set ``CLIPVI_DEBUG=1`` to get the traceback of an unexpected error as well.
"""

from __future__ import annotations

import os
import traceback

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SERVER = 3
EXIT_CACHE = 4
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line input; ``str()`` is the message."""


class IndexingFailed(Exception):
    """Indexing stopped before every frame was embedded; ``str()`` says why."""


class Interrupted(Exception):
    """The user pressed Ctrl-C; what was embedded is cached."""


class IndexStopped(Exception):
    """Indexing stopped on ``cause`` part way; ``str()`` adds how far it got.

    Attributes:
        cause: the error that stopped it (decides the exit code).
        done: sampled frames cached when it stopped.
        total: sampled frames in the video.
    """

    def __init__(self, cause: BaseException, done: int, total: int) -> None:
        """Wrap ``cause`` with the progress made before it."""
        super().__init__(str(cause))
        self.cause = cause
        self.done = done
        self.total = total

    @property
    def how_far(self) -> str:
        """`` — stopped at 456/900 frames (kept in the cache; …)``."""
        kept = "kept in the cache; a rerun embeds only the rest" if self.done else "none cached"
        return f" — stopped at {self.done}/{self.total} frames ({kept})"

    def __str__(self) -> str:
        return f"{self.cause}{self.how_far}"


def exit_code_for(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message for ``exc``."""
    from clipvi_tui.config import ConfigError
    from clipvi_tui.core.cache import CacheError
    from clipvi_tui.core.embeddings import (
        AuthError,
        EmbeddingError,
        ServerError,
        ServerUnreachable,
    )
    from clipvi_tui.core.failures import PromptTooLong, ServerTimeout
    from clipvi_tui.core.handoff import HandoffError
    from clipvi_tui.core.library import LibraryError
    from clipvi_tui.core.video import VideoError
    from clipvi_tui.server.embedded import EmbeddedServerError
    from clipvi_tui.server.serve import ServeError

    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, IndexStopped):
        code, cause = exit_code_for(exc.cause)
        return code, cause + exc.how_far
    if isinstance(exc, Interrupted):
        return EXIT_INTERRUPTED, message
    if isinstance(exc, CacheError):
        return EXIT_CACHE, message
    if isinstance(exc, (UsageError, ConfigError, VideoError, ServeError)):
        return EXIT_USAGE, message
    if isinstance(exc, (LibraryError, HandoffError)):
        return EXIT_USAGE, message
    if isinstance(exc, (AuthError, PromptTooLong)):
        return EXIT_USAGE, message
    if isinstance(exc, (ServerUnreachable, ServerError, EmbeddedServerError)):
        hint = (
            ""
            if "--api-url" in message or isinstance(exc, ServerTimeout)
            else " (start one with `clipvi-tui serve`, or pass --api-url)"
        )
        return EXIT_SERVER, message + (hint if isinstance(exc, ServerUnreachable) else "")
    if isinstance(exc, IndexingFailed):
        return EXIT_ERROR, message
    if isinstance(exc, EmbeddingError):
        return EXIT_SERVER, message
    if isinstance(exc, OSError):
        return EXIT_USAGE, message
    if os.environ.get("CLIPVI_DEBUG"):
        traceback.print_exception(exc)
    return (
        EXIT_ERROR,
        f"unexpected error: {type(exc).__name__}: {message} (CLIPVI_DEBUG=1 shows details)",
    )
