"""Several Inference servers behind one :class:`~clipvi_tui.core.embeddings.EmbeddingClient`.

The engine that scales embedding is Roboflow Inference itself (a GPU image, ``NUM_WORKERS``,
replicas behind a load balancer); this module only feeds a list of them well:

* **Least loaded first.** Each request goes to the healthy server with the fewest requests in
  flight, never more than that server's ``max_in_flight``, at most its ``batch_size`` images.
* **Set aside, not given up.** A server that does not answer is set aside and tried again after
  a backoff (0.5 s, doubling to :data:`MAX_SET_ASIDE_S`); its frames go to the others at once, so
  the work completes there. A call fails only when every server keeps failing.
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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clipvi_tui.core.embeddings import (
    DEFAULT_CLIP_VERSION,
    DEFAULT_INPUT_SIZE,
    SERVER_MAX_BATCH,
    EmbeddingError,
    InferenceEmbeddingClient,
    ServerError,
    ServerUnreachable,
    nothing_listens,
    upload_frame,
)
from clipvi_tui.core.failures import ServerTimeout
from clipvi_tui.core.server_check import (
    PROBE_TEXT,
    Probe,
    disagreement,
    make_probe,
    probe_image,
    server_version,
)

log = logging.getLogger(__name__)

# Requests kept in flight per server unless configured: enough to overlap upload, inference and
# download on one CPU server (bench/index.py); a GPU server with NUM_WORKERS wants more.
DEFAULT_MAX_IN_FLIGHT = 3
# Longest wait before a set-aside server is tried again.
MAX_SET_ASIDE_S = 5.0

NEW, UP, DOWN, REFUSED = "new", "up", "down", "refused"


class ServerMismatch(EmbeddingError):
    """Two servers compute different vectors for the same input; mixing them would lie."""


@dataclass(frozen=True)
class ServerSpec:
    """One server of the list and how hard to push it.

    Attributes:
        url: base URL of the Inference server.
        batch_size: images per request (keep at or below the server's CLIP_MAX_BATCH_SIZE).
        max_in_flight: requests kept in flight at once on this server.
    """

    url: str
    batch_size: int = SERVER_MAX_BATCH
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT


def server_specs(
    value: str | Sequence[str | Mapping[str, Any]],
    *,
    batch_size: int | None = None,
    max_in_flight: int | None = None,
) -> list[ServerSpec]:
    """Turn an ``api_url`` setting into server specs.

    Args:
        value: one URL, comma-separated URLs (as ``CLIPVI_API_URL`` carries them), or a list of
            URLs and ``{url, batch_size, max_in_flight}`` mappings (config.yaml).
        batch_size: images per request for servers that do not set their own.
        max_in_flight: requests in flight for servers that do not set their own.

    Returns:
        One spec per distinct URL, in the given order.

    Raises:
        ValueError: naming the bad entry (not http(s), empty, unknown key, non-positive number).
    """
    items: list[Any] = []
    for item in [value] if isinstance(value, str) else value:
        items.extend(item.split(",") if isinstance(item, str) else [item])
    default_batch = positive_int(
        "batch_size", SERVER_MAX_BATCH if batch_size is None else batch_size
    )
    default_flight = positive_int(
        "max_in_flight", DEFAULT_MAX_IN_FLIGHT if max_in_flight is None else max_in_flight
    )
    specs: dict[str, ServerSpec] = {}
    for item in items:
        entry: Mapping[str, Any] = item if isinstance(item, Mapping) else {"url": item}
        unknown = sorted(set(map(str, entry)) - {"url", "batch_size", "max_in_flight"})
        if unknown:
            raise ValueError(
                f"api_url entry {dict(entry)!r}: unknown key(s) {', '.join(unknown)}; "
                "known: url, batch_size, max_in_flight"
            )
        url = str(entry.get("url") or "").strip().rstrip("/")
        if not url and not isinstance(item, Mapping):
            continue  # "a,,b" or a trailing comma
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"api_url must start with http:// or https://, not {url!r}")
        batch = positive_int("batch_size", entry.get("batch_size", default_batch))
        flight = positive_int("max_in_flight", entry.get("max_in_flight", default_flight))
        specs.setdefault(url, ServerSpec(url=url, batch_size=batch, max_in_flight=flight))
    if not specs:
        raise ValueError("api_url must name at least one server")
    return list(specs.values())


def positive_int(name: str, value: Any) -> int:
    """``value`` as a whole number ≥ 1.

    Raises:
        ValueError: naming the setting ``name``.
    """
    try:
        number = int(value)
        if number != float(value):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, not {number}")
    return number


@dataclass
class _Member:
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


def _back_note(member: _Member) -> str:
    return f"{member.spec.url} answers again; sending it work"


def pick(members: Sequence[_Member], now: float) -> int | None:
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
            backoff: first set-aside time in seconds; doubles up to :data:`MAX_SET_ASIDE_S`.
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
            _Member(spec=s, client=factory(s), batch=s.batch_size, verified=single) for s in servers
        ]
        self._cond = threading.Condition()
        self._verify_lock = threading.Lock()
        self._reference: Probe | None = None
        self._mismatch: str | None = None

    # -- EmbeddingClient -----------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """``clip/<version>``, the same on every server."""
        return f"clip/{self.clip_version}"

    @property
    def preprocess_tag(self) -> str:
        """Frames are shrunk with INTER_AREA to ``input_size`` on the short side."""
        return f"area{self.input_size}"

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
            return PoolHealth(
                tuple(
                    ServerHealth(
                        url=m.spec.url,
                        state=m.state,
                        in_flight=m.in_flight,
                        batch=m.batch,
                        requests=m.requests,
                        images=m.images,
                        error=str(m.error) if m.error else None,
                    )
                    for m in self._members
                )
            )

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

    def _acquire(self) -> _Member:
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

    def _slot(self) -> _Member:
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

    def _verified(self, member: _Member) -> bool:
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
            self._event(_back_note(member))
        return True

    def _release(self, member: _Member) -> None:
        with self._cond:
            member.in_flight -= 1
            self._cond.notify_all()

    def _succeeded(self, member: _Member, images: int) -> None:
        notes = []
        with self._cond:
            member.in_flight -= 1
            member.requests += 1
            member.images += images
            if member.state == DOWN:
                notes.append(_back_note(member))
            member.state, member.failures, member.error = UP, 0, None
            if member.halved_from is not None and images:
                notes.append(
                    f"{member.spec.url} answered HTTP 500 to {member.halved_from} images per "
                    f"request (its CLIP_MAX_BATCH_SIZE is lower); {member.batch} per request "
                    "work, sending that many from now on"
                )
                member.halved_from = None
            self._cond.notify_all()
        for note in notes:
            self._event(note)

    def _failed(self, member: _Member, exc: EmbeddingError, size: int) -> None:
        """Release ``member`` after ``exc``: halve its batch, set it aside, or re-raise.

        A request that timed out, or a server whose port refuses connections (it is gone),
        uses up that server's retries at once: a call then waits at most ``timeout`` per
        server, as documented, instead of ``retries`` more timeouts or backoffs (the app still
        tries the server again after the backoff; other servers carry on meanwhile).

        Raises:
            EmbeddingError: ``exc`` itself when it is not transient (bad key, bad input).
        """
        note = None
        exhausted = isinstance(exc, ServerTimeout) or (
            isinstance(exc, ServerUnreachable) and nothing_listens(member.spec.url)
        )
        with self._cond:
            member.in_flight -= 1
            self._cond.notify_all()
            answered_5xx = isinstance(exc, ServerError) and (exc.http_status or 0) >= 500
            if answered_5xx and size > 1:
                # Most likely the server's CLIP_MAX_BATCH_SIZE: try half as many at once. A
                # request sent before the batch shrank (size above it) just goes again smaller.
                if size <= member.batch:
                    if member.halved_from is None:
                        member.halved_from = size
                    member.batch = max(1, size // 2)
                log.debug("%s: HTTP 5xx for %d images, trying %d", member.spec.url, size, size // 2)
                return
            if member.halved_from is not None:
                # Even one image fails: the batch size was not the problem. Undo the halving.
                member.batch, member.halved_from = member.spec.batch_size, None
            if not exc.transient:
                raise exc
            member.failures += 1
            delay = min(self.backoff * 2 ** (member.failures - 1), MAX_SET_ASIDE_S)
            if exhausted:
                member.failures = max(member.failures, self.retries + 1)
            member.retry_at = time.monotonic() + delay
            member.error = exc
            if member.state != DOWN and len(self._members) > 1:
                # With one server there is nothing to set it aside for: the call's own error
                # (or the app's status) says it; a note first would say the same line twice.
                others = sum(m.state in (NEW, UP) for m in self._members if m is not member)
                where = f"; {others} other server(s) carry on" if others else ""
                note = f"{member.spec.url} set aside ({exc}){where}"
            member.state = DOWN
        if note is not None:
            self._event(note)

    def _event(self, text: str) -> None:
        self.events.append(text)
        log.info("%s", text)
        if self.on_event is not None:
            self.on_event(text)
