"""One server of a :class:`~clipvi_tui.core.servers.ServerPool`: its health and which one is next.

A :class:`PoolMember` keeps one server's live state: up, set aside (``down``) until a backoff
runs out, or refused; its requests in flight; and the batch size it takes, halved while a 5xx
suggests the server's ``CLIP_MAX_BATCH_SIZE`` is lower. :meth:`PoolMember.record_success` and
:meth:`PoolMember.record_failure` do that bookkeeping after each request, :func:`pick` chooses
the server the next request goes to, and :class:`PoolHealth` is the snapshot status lines show.
Nothing here locks or sends: the pool calls all of it under its own condition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clipvi_tui.core.embeddings import SERVER_MAX_BATCH, EmbeddingError, ServerError
from clipvi_tui.core.server_specs import ServerSpec

log = logging.getLogger(__name__)

# Longest wait before a set-aside server is tried again.
MAX_SET_ASIDE_S = 5.0

NEW, UP, DOWN, REFUSED = "new", "up", "down", "refused"


@dataclass(frozen=True)
class ServerHealth:
    """What one server looks like now (for status bars and progress lines)."""

    url: str
    state: str
    in_flight: int
    batch: int
    requests: int
    images: int
    error: str | None


@dataclass(frozen=True)
class PoolHealth:
    """The servers of a pool at one moment."""

    servers: tuple[ServerHealth, ...]

    @property
    def total(self) -> int:
        """Servers in the list."""
        return len(self.servers)

    @property
    def up(self) -> int:
        """Servers not known to be down or refused (``new`` ones have not failed yet)."""
        return sum(s.state in (NEW, UP) for s in self.servers)


@dataclass
class PoolMember:
    """One server's live state; guarded by the pool's condition."""

    spec: ServerSpec
    client: Any
    state: str = NEW
    verified: bool = False
    in_flight: int = 0
    batch: int = SERVER_MAX_BATCH
    failures: int = 0  # consecutive
    retry_at: float = 0.0
    requests: int = 0
    images: int = 0
    error: EmbeddingError | None = None
    halved_from: int | None = None  # the batch size that drew a 500, while adapting

    def health(self) -> ServerHealth:
        """A snapshot of this server's state."""
        return ServerHealth(
            url=self.spec.url,
            state=self.state,
            in_flight=self.in_flight,
            batch=self.batch,
            requests=self.requests,
            images=self.images,
            error=str(self.error) if self.error else None,
        )

    def back_note(self) -> str:
        """What a user is told when this set-aside server answers again."""
        return f"{self.spec.url} answers again; sending it work"

    def record_success(self, images: int) -> list[str]:
        """Count a request that worked (``images`` frames, 0 for texts): the server is up.

        Returns:
            Notes for the user: the server is back, or the smaller batch that works.
        """
        notes = []
        self.requests += 1
        self.images += images
        if self.state == DOWN:
            notes.append(self.back_note())
        self.state, self.failures, self.error = UP, 0, None
        if self.halved_from is not None and images:
            notes.append(
                f"{self.spec.url} answered HTTP 500 to {self.halved_from} images per "
                f"request (its CLIP_MAX_BATCH_SIZE is lower); {self.batch} per request "
                "work, sending that many from now on"
            )
            self.halved_from = None
        return notes

    def record_failure(
        self,
        exc: EmbeddingError,
        size: int,
        *,
        others: Sequence[PoolMember],
        retries: int,
        backoff: float,
        exhausted: bool,
    ) -> str | None:
        """Count a request of ``size`` inputs that failed: halve the batch or set the server aside.

        Args:
            exc: what the request raised.
            size: images (or 1 for texts and probes) the request carried.
            others: the pool's other members (their states go into the note).
            retries: how many times in a row a server may fail before a call gives up.
            backoff: first set-aside time in seconds; doubles up to :data:`MAX_SET_ASIDE_S`.
            exhausted: the failure uses up this server's retries at once (it timed out, or
                nothing listens on its port any more).

        Returns:
            A note for the user when the server is newly set aside while others exist.

        Raises:
            EmbeddingError: ``exc`` itself when it is not transient (bad key, bad input).
        """
        answered_5xx = isinstance(exc, ServerError) and (exc.http_status or 0) >= 500
        if answered_5xx and size > 1:
            # Most likely the server's CLIP_MAX_BATCH_SIZE: try half as many at once. A
            # request sent before the batch shrank (size above it) just goes again smaller.
            if size <= self.batch:
                if self.halved_from is None:
                    self.halved_from = size
                self.batch = max(1, size // 2)
            log.debug("%s: HTTP 5xx for %d images, trying %d", self.spec.url, size, size // 2)
            return None
        if self.halved_from is not None:
            # Even one image fails: the batch size was not the problem. Undo the halving.
            self.batch, self.halved_from = self.spec.batch_size, None
        if not exc.transient:
            raise exc
        self.failures += 1
        delay = min(backoff * 2 ** (self.failures - 1), MAX_SET_ASIDE_S)
        if exhausted:
            self.failures = max(self.failures, retries + 1)
        self.retry_at = time.monotonic() + delay
        self.error = exc
        note = None
        if self.state != DOWN and others:
            # With one server there is nothing to set it aside for: the call's own error
            # (or the app's status) says it; a note first would say the same line twice.
            up = sum(m.state in (NEW, UP) for m in others)
            where = f"; {up} other server(s) carry on" if up else ""
            note = f"{self.spec.url} set aside ({exc}){where}"
        self.state = DOWN
        return note


def pick(members: Sequence[PoolMember], now: float) -> int | None:
    """The member the next request goes to, or None when every one is busy, down or refused.

    A set-aside member whose backoff has run out comes first, one request at a time: that is
    its retry, and a dead server costs one quick failure per backoff (the request then goes
    elsewhere), not a stream of them. Otherwise the healthy member with a free slot and the
    fewest requests in flight wins (then fewest sent, then list order).
    """
    best: tuple[int, int, int, int] | None = None
    choice = None
    for i, m in enumerate(members):
        if m.state == DOWN and m.in_flight == 0 and now >= m.retry_at:
            key = (0, 0, m.requests, i)
        elif m.state in (NEW, UP) and m.in_flight < m.spec.max_in_flight:
            key = (1, m.in_flight, m.requests, i)
        else:
            continue
        if best is None or key < best:
            best, choice = key, i
    return choice
