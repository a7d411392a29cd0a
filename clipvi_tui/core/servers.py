"""Several Inference servers behind one :class:`~clipvi_tui.core.embeddings.EmbeddingClient`.

The engine that scales embedding is Roboflow Inference itself (a GPU image, ``NUM_WORKERS``,
replicas behind a load balancer); this module only feeds a list of them well:

* **Least loaded first.** Each request goes to the healthy server with the fewest requests in
  flight, never more than that server's ``max_in_flight``, at most its ``batch_size`` images.
* **Set aside, not given up.** A server that does not answer is set aside and tried again after
  a backoff (0.5 s, doubling to :data:`~clipvi_tui.core.pool_members.MAX_SET_ASIDE_S`); its
  frames go to the others at once, so the work completes there. A call fails only when every
  server keeps failing.
* **The batch cap.** The server answers HTTP 500, not 400, to more images per request than its
  ``CLIP_MAX_BATCH_SIZE`` (default 8), and the SDK does not retry a 500. So a 5xx on a
  multi-image request halves that server's batch and retries at once; the size that worked is
  remembered and reported once.
* **Same vectors everywhere.** With more than one server, each one embeds a probe
  (:mod:`clipvi_tui.core.server_check`) before it gets work; a server that computes different
  vectors is refused with a message naming it, so one cache never mixes two models.

Each server is reached through its own :class:`InferenceEmbeddingClient` with retries turned off:
retrying is decided here, where the other servers are known. A pool of one server behaves like
the plain client (same retries and backoff), plus the batch-cap adaptation, and sends no probe.

This module holds the pool: slots, waiting, the probe and the calls. Each server's health
bookkeeping and the choice of the next one are in :mod:`clipvi_tui.core.pool_members`; the
server list setting is read by :mod:`clipvi_tui.core.server_specs`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from clipvi_tui.core.embeddings import (
    DEFAULT_CLIP_VERSION,
    DEFAULT_INPUT_SIZE,
    EmbeddingError,
    InferenceEmbeddingClient,
    ServerUnreachable,
    area_preprocess_tag,
    clip_model_id,
    upload_frame,
)
from clipvi_tui.core.failures import ServerTimeout
from clipvi_tui.core.pool_members import DOWN, REFUSED, UP, PoolHealth, PoolMember, pick
from clipvi_tui.core.reachability import nothing_listens
from clipvi_tui.core.server_check import (
    PROBE_TEXT,
    Probe,
    disagreement,
    make_probe,
    probe_image,
    server_version,
)
from clipvi_tui.core.server_specs import ServerSpec

log = logging.getLogger(__name__)


class ServerMismatch(EmbeddingError):
    """Two servers compute different vectors for the same input; mixing them would lie."""


class ServerPool:
    """An :class:`EmbeddingClient` over one or more Inference servers. Thread-safe."""

    def __init__(
        self,
        servers: Sequence[ServerSpec],
        *,
        api_key: str | None = None,
        clip_version: str = DEFAULT_CLIP_VERSION,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        input_size: int = DEFAULT_INPUT_SIZE,
        on_event: Callable[[str], None] | None = None,
        client_factory: Callable[[ServerSpec], Any] | None = None,
    ) -> None:
        """Prepare the pool; nothing is sent until the first call.

        Args:
            servers: the servers, in order of preference for ties (see :func:`server_specs`).
            api_key: Roboflow API key, sent to every server.
            clip_version: CLIP model version, the same on every server.
            timeout: seconds one request may take before its server counts as failing.
            retries: how many times in a row every server may fail before a call gives up.
            backoff: first set-aside time in seconds; doubles up to
                :data:`~clipvi_tui.core.pool_members.MAX_SET_ASIDE_S`.
            input_size: short side in pixels frames are shrunk to before upload.
            on_event: told, once each, about things a user should know (a server set aside or
                back, a smaller batch that works, a refused server). Called from worker threads.
            client_factory: builds the client of one server (default: an
                :class:`InferenceEmbeddingClient` with retries off).

        Raises:
            ValueError: if ``servers`` is empty.
        """
        if not servers:
            raise ValueError("a server pool needs at least one server")
        self.clip_version = clip_version
        self.input_size = input_size
        self.retries = max(0, retries)
        self.backoff = backoff
        self.on_event = on_event
        self.events: list[str] = []
        factory = client_factory or (
            lambda spec: InferenceEmbeddingClient(
                spec.url,
                api_key,
                clip_version,
                timeout=timeout,
                retries=0,
                backoff=backoff,
                max_batch=spec.batch_size,
                input_size=input_size,
            )
        )
        single = len(servers) == 1
        self._members = [
            PoolMember(spec=s, client=factory(s), batch=s.batch_size, verified=single)
            for s in servers
        ]
        self._cond = threading.Condition()
        self._verify_lock = threading.Lock()
        self._reference: Probe | None = None
        self._mismatch: str | None = None

    # -- EmbeddingClient -----------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """``clip/<version>``, the same on every server."""
        return clip_model_id(self.clip_version)

    @property
    def preprocess_tag(self) -> str:
        """Frames are shrunk as by one server's client (the cache keys must be the same)."""
        return area_preprocess_tag(self.input_size)

    @property
    def max_batch(self) -> int:
        """The largest batch any usable server takes now (it shrinks when a server adapts)."""
        with self._cond:
            sizes = [m.batch for m in self._members if m.state != REFUSED]
        return max(sizes or [1])

    @property
    def concurrency(self) -> int:
        """Requests the pool can have in flight at once: the sum of ``max_in_flight``."""
        return sum(m.spec.max_in_flight for m in self._members if m.state != REFUSED)

    @property
    def api_urls(self) -> list[str]:
        """The servers' URLs, in order."""
        return [m.spec.url for m in self._members]

    @property
    def requests_sent(self) -> dict[str, int]:
        """Requests sent by all servers' clients, by kind (as the plain client counts them)."""
        total = {"images": 0, "texts": 0}
        for m in self._members:
            for kind, n in getattr(m.client, "requests_sent", {}).items():
                total[kind] = total.get(kind, 0) + n
        return total

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """Shrink a BGR frame to what is uploaded (the centre square, see ``upload_frame``)."""
        return upload_frame(frame, self.input_size)

    def embed_images(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """Embed BGR frames, each request on the least loaded healthy server.

        Raises:
            EmbeddingError: when every server keeps failing, a server refuses the input or the
                API key, or the servers disagree (:class:`ServerMismatch`).
        """
        if not frames:
            return np.zeros((0, 0), dtype=np.float32)
        frames = list(frames)
        parts: list[np.ndarray] = []
        pos = 0
        while pos < len(frames):
            member = self._acquire()
            n = min(member.batch, len(frames) - pos)
            try:
                vectors = member.client.embed_images(frames[pos : pos + n])
            except EmbeddingError as exc:
                self._failed(member, exc, n)
                continue
            self._succeeded(member, images=n)
            parts.append(vectors)
            pos += n
        return np.concatenate(parts, axis=0)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed prompts in one request to the least loaded healthy server.

        Raises:
            EmbeddingError: as :meth:`embed_images`.
        """
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        while True:
            member = self._acquire()
            try:
                vectors = member.client.embed_texts(list(texts))
            except EmbeddingError as exc:
                self._failed(member, exc, 1)
                continue
            self._succeeded(member, images=0)
            return np.asarray(vectors)

    def close(self) -> None:
        """Close every server's client."""
        for m in self._members:
            close = getattr(m.client, "close", None)
            if close is not None:
                close()

    # -- health and verification ---------------------------------------------------------------

    def health(self) -> PoolHealth:
        """A snapshot of every server's state."""
        with self._cond:
            return PoolHealth(tuple(m.health() for m in self._members))

    def verify(self) -> None:
        """Probe every server now, so a mismatch stops a run before any work is done.

        A server that does not answer is set aside (and probed when it comes back). Does
        nothing for a pool of one server.

        Raises:
            ServerMismatch: if a server computes different vectors from the first one.
        """
        for m in self._members:
            with self._cond:
                if m.verified or m.state == REFUSED:
                    continue
                m.in_flight += 1
            try:
                agrees = self._verified(m)
            except EmbeddingError as exc:
                self._failed(m, exc, 1)  # sets it aside (re-raises a bad key or input)
                continue
            self._release(m)
            if not agrees:
                raise ServerMismatch(self._mismatch or "the servers disagree")

    # -- internals -----------------------------------------------------------------------------

    def _acquire(self) -> PoolMember:
        """Block until a server can take a request; count it in flight; verify it if new.

        Raises:
            EmbeddingError: the last server error when every server has failed more than
                ``retries`` times in a row; :class:`ServerMismatch` when none is left.
        """
        while True:
            member = self._slot()
            try:
                if self._verified(member):
                    return member
            except EmbeddingError as exc:
                self._failed(member, exc, 1)
                continue
            self._release(member)

    def _slot(self) -> PoolMember:
        with self._cond:
            while True:
                now = time.monotonic()
                i = pick(self._members, now)
                if i is not None:
                    member = self._members[i]
                    member.in_flight += 1
                    return member
                live = [m for m in self._members if m.state != REFUSED]
                if not live:
                    raise ServerMismatch(self._mismatch or "every server was refused")
                hopeless = all(
                    m.state == DOWN and m.in_flight == 0 and m.failures > self.retries for m in live
                )
                if hopeless:
                    last = max(live, key=lambda m: m.retry_at)
                    raise last.error or ServerUnreachable("no Inference server answers")
                due = [m.retry_at for m in live if m.state == DOWN and m.in_flight == 0]
                wait = min(due) - now if due else 1.0
                self._cond.wait(min(max(wait, 0.01), 1.0))

    def _verified(self, member: PoolMember) -> bool:
        """True once ``member`` is known to compute the reference vectors; False if refused.

        Raises:
            EmbeddingError: if the probe request itself fails.
        """
        if member.verified:
            return True
        with self._verify_lock:
            if member.verified:
                return True
            client = member.client
            image = client.embed_images([probe_image()])[0]
            text = client.embed_texts([PROBE_TEXT])[0]
            probe = make_probe(member.spec.url, image, text, server_version(member.spec.url))
            reference = self._reference
            why = None if reference is None else disagreement(reference, probe, self.model_id)
            with self._cond:
                back = member.state == DOWN
                if why is not None:
                    member.state = REFUSED
                    self._mismatch = why
                else:
                    # It answered the probe: as good as a first request.
                    member.verified = True
                    member.state, member.failures, member.error = UP, 0, None
                    if reference is None:
                        self._reference = probe
                self._cond.notify_all()
        if why is not None:
            self._event(f"refusing {why}")
            return False
        if back:
            self._event(member.back_note())
        return True

    def _release(self, member: PoolMember) -> None:
        with self._cond:
            member.in_flight -= 1
            self._cond.notify_all()

    def _succeeded(self, member: PoolMember, images: int) -> None:
        with self._cond:
            member.in_flight -= 1
            notes = member.record_success(images)
            self._cond.notify_all()
        for note in notes:
            self._event(note)

    def _failed(self, member: PoolMember, exc: EmbeddingError, size: int) -> None:
        """Release ``member`` after ``exc``: halve its batch, set it aside, or re-raise.

        A request that timed out, or a server whose port refuses connections (it is gone),
        uses up that server's retries at once: a call then waits at most ``timeout`` per
        server, as documented, instead of ``retries`` more timeouts or backoffs (the app still
        tries the server again after the backoff; other servers carry on meanwhile).

        Raises:
            EmbeddingError: ``exc`` itself when it is not transient (bad key, bad input).
        """
        exhausted = isinstance(exc, ServerTimeout) or (
            isinstance(exc, ServerUnreachable) and nothing_listens(member.spec.url)
        )
        with self._cond:
            member.in_flight -= 1
            self._cond.notify_all()
            note = member.record_failure(
                exc,
                size,
                others=[m for m in self._members if m is not member],
                retries=self.retries,
                backoff=self.backoff,
                exhausted=exhausted,
            )
        if note is not None:
            self._event(note)

    def _event(self, text: str) -> None:
        self.events.append(text)
        log.info("%s", text)
        if self.on_event is not None:
            self.on_event(text)
