"""Exit codes, the command line's own errors, and the one place that maps any failure to a
one-line message and an exit code.

Set ``CLIPVI_DEBUG=1`` to get the traceback of an unexpected error as well.
"""

from __future__ import annotations

import os
import traceback

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SERVER = 3
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line input; ``str()`` is the message."""


class IndexingFailed(Exception):
    """Indexing stopped before every frame was embedded; ``str()`` says why."""


class Interrupted(Exception):
    """The user pressed Ctrl-C; what was embedded is cached."""


def exit_code_for(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message for ``exc``."""
    from clipvi_tui.config import ConfigError
    from clipvi_tui.core.cache import CacheError
    from clipvi_tui.core.embeddings import (
        AuthError,
        BadRequest,
        EmbeddingError,
        ServerError,
        ServerUnreachable,
    )
    from clipvi_tui.core.handoff import HandoffError
    from clipvi_tui.core.library import LibraryError
    from clipvi_tui.core.video import VideoError
    from clipvi_tui.server.embedded import EmbeddedServerError
    from clipvi_tui.server.serve import ServeError

    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, Interrupted):
        return EXIT_INTERRUPTED, message
    if isinstance(exc, (UsageError, ConfigError, VideoError, CacheError, ServeError)):
        return EXIT_USAGE, message
    if isinstance(exc, (LibraryError, HandoffError)):
        return EXIT_USAGE, message
    if isinstance(exc, (AuthError, BadRequest)):
        return EXIT_USAGE, message
    if isinstance(exc, (ServerUnreachable, ServerError, EmbeddedServerError)):
        hint = (
            ""
            if "--api-url" in message
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
