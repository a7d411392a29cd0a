"""A private asyncio event loop on a daemon thread, for synchronous callers that await.

The inference-sdk's ``*_async`` calls are coroutines; the indexer and the app call from plain
threads. :class:`LoopThread` runs the coroutines on its own loop and bounds each with
``asyncio.wait_for``, which really cancels a hung request instead of abandoning a thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class LoopThread:
    """A private asyncio loop on a daemon thread, so sync callers can await with timeouts."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="clipvi-embed-loop", daemon=True
        )
        self._thread.start()

    def run(self, coro: Awaitable[T], timeout: float) -> T:
        """Run ``coro`` on the loop; cancel it and raise TimeoutError after ``timeout`` s."""

        async def bounded() -> T:
            return await asyncio.wait_for(coro, timeout)

        future: Future[T] = asyncio.run_coroutine_threadsafe(bounded(), self.loop)
        try:
            return future.result()
        except BaseException:
            # Ctrl-C in the waiting thread (or any failure): stop the request on the loop too,
            # so nothing keeps a hung connection open after we gave up on it.
            future.cancel()
            raise

    def close(self) -> None:
        """Stop the loop and wait (briefly) for its thread to end."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=2)
