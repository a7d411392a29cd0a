"""Embedding clients: the protocol the rest of the code uses and the inference-sdk implementation.

The real client talks to a Roboflow Inference server through ``inference_sdk``. Three things the
SDK does not do are done here:

* **Timeouts.** The SDK's calls have none, so a hung server would hang the app. Every call runs as
  a coroutine of the SDK's ``*_async`` API on a private event loop
  (:mod:`clipvi_tui.core.loop_thread`) and is bounded by ``asyncio.wait_for``, which really
  cancels the request instead of abandoning a thread.
* **Batching within the server's cap.** The server answers HTTP 500 (not 400) to more than
  ``CLIP_MAX_BATCH_SIZE`` images per request (default 8), so frames are split into chunks of at
  most ``max_batch`` images, and several chunks are kept in flight at once.
* **Error mapping.** Failures become :class:`ServerUnreachable`, :class:`AuthError`,
  :class:`BadRequest` or :class:`ServerError` with a one-line message a user can act on (the
  classes and the mapping live in :mod:`clipvi_tui.core.failures`).
* **Validation.** Every answer is checked before anyone sees it: one finite, non-empty vector
  per input, and one dimension per model id (:mod:`clipvi_tui.core.validation`).

Frames are passed as OpenCV BGR arrays, unchanged in colour: the SDK treats numpy input as BGR and
JPEG-encodes it correctly. (The original app converted to RGB and then sent the BGR array as if it
were RGB, so CLIP saw red and blue swapped; ``tests/integration`` has a test that catches that.)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from clipvi_tui.core.failures import (
    IMAGE_PATH,
    TEXT_PATH,
    AuthError,
    BadRequest,
    EmbeddingError,
    RequestContext,
    ServerError,
    ServerTimeout,
    ServerUnreachable,
    classify,
    diagnose,
    redact,
)
from clipvi_tui.core.loop_thread import LoopThread
from clipvi_tui.core.reachability import nothing_listens
from clipvi_tui.core.validation import embeddings_from_response
from clipvi_tui.core.video import centre_square, shrink_area

__all__ = [
    "AuthError",
    "BadRequest",
    "EmbeddingClient",
    "EmbeddingError",
    "InferenceEmbeddingClient",
    "ServerError",
    "ServerUnreachable",
]

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_API_URL = "http://localhost:9001"
DEFAULT_CLIP_VERSION = "ViT-B-16"
# The server's default CLIP_MAX_BATCH_SIZE; above it, it answers 500.
SERVER_MAX_BATCH = 8
# CLIP models take 224 px (ViT-L-14-336 takes 336). Frames are shrunk to this short side
# before upload: the server would do the same resize, but only after we paid for a big JPEG.
DEFAULT_INPUT_SIZE = 224


def clip_model_id(clip_version: str) -> str:
    """The cache's and the server's name of a CLIP model: ``clip/<version>``."""
    return f"clip/{clip_version}"


def area_preprocess_tag(input_size: int) -> str:
    """The cache's name of how frames are shrunk before upload (INTER_AREA to ``input_size``
    on the short side): vectors of differently shrunk frames are kept apart."""
    return f"area{input_size}"


@runtime_checkable
class EmbeddingClient(Protocol):
    """What the indexer and the app need from an embedding backend."""

    @property
    def model_id(self) -> str:
        """Identifies the model; part of every cache key."""
        ...

    @property
    def preprocess_tag(self) -> str:
        """Identifies how frames are shrunk before upload; part of every frame cache key."""
        ...

    @property
    def max_batch(self) -> int:
        """How many images one :meth:`embed_images` call should carry at most."""
        ...

    def embed_images(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """Embed BGR frames; returns float32 ``[len(frames), D]``."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed prompts; returns float32 ``[len(texts), D]``."""
        ...


def upload_frame(frame: np.ndarray, input_size: int) -> np.ndarray:
    """A BGR frame as it is uploaded (kept BGR: the SDK JPEG-encodes BGR correctly).

    The server resizes the short side to the model's input and keeps the centre square, so only
    that square is shrunk (area-averaged, :func:`~clipvi_tui.core.video.shrink_area`) and sent:
    44% fewer pixels of a 16:9 frame to shrink, JPEG-encode, upload and decode, and nothing left
    for the server's resize and crop to do. Against what earlier versions uploaded (the whole
    frame through one INTER_AREA step) the pixels the model sees differ by about one level on
    average, less than the JPEG encoding's own error, so cached vectors stay comparable and the
    ``area<size>`` tag still describes them. Frames smaller than ``input_size`` are sent whole
    (the server upscales them). Idempotent: an upload prepared again is unchanged.
    """
    h, w = frame.shape[:2]
    if min(h, w) < input_size:
        return frame
    return shrink_area(np.ascontiguousarray(centre_square(frame)), input_size)


class InferenceEmbeddingClient:
    """:class:`EmbeddingClient` backed by a Roboflow Inference server via ``inference-sdk``.

    Thread-safe: several threads may call :meth:`embed_images` at once; their requests are in
    flight concurrently on one event loop.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        api_key: str | None = None,
        clip_version: str = DEFAULT_CLIP_VERSION,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_batch: int = SERVER_MAX_BATCH,
        input_size: int = DEFAULT_INPUT_SIZE,
    ) -> None:
        """Prepare a client; nothing is sent until the first call.

        Args:
            api_url: Base URL of the Inference server.
            api_key: Roboflow API key; a local server with local weights needs none.
            clip_version: CLIP model version, e.g. ``ViT-B-16``.
            timeout: Seconds one HTTP request may take before it counts as failed (timed-out
                requests are not retried within a call: the wait is bounded by this).
            retries: Extra attempts after a transient failure (unreachable or 5xx).
            backoff: First retry delay in seconds; doubles each attempt.
            max_batch: Images per request; keep at or below the server's CLIP_MAX_BATCH_SIZE.
            input_size: Short side in pixels frames are shrunk to before upload.
        """
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.clip_version = clip_version
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._max_batch = max(1, int(max_batch))
        self.input_size = input_size
        self._sdk: Any = None
        self._sdk_lock = threading.Lock()
        self._loop: LoopThread | None = None
        self.requests_sent = {"images": 0, "texts": 0}
        # The dimension this model's answers had so far; every later answer must match it.
        self._dim: int | None = None

    # -- EmbeddingClient -----------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """``clip/<version>``, as the server names the model."""
        return clip_model_id(self.clip_version)

    @property
    def preprocess_tag(self) -> str:
        """Frames are shrunk with INTER_AREA to ``input_size`` on the short side."""
        return area_preprocess_tag(self.input_size)

    @property
    def max_batch(self) -> int:
        """Images per request."""
        return self._max_batch

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """Shrink a BGR frame to what is uploaded (see :func:`upload_frame`)."""
        return upload_frame(frame, self.input_size)

    def embed_images(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """Embed BGR frames in chunks of ``max_batch``, all chunks in flight together.

        Raises:
            EmbeddingError: a subclass saying what went wrong, after retries.
        """
        if not frames:
            return np.zeros((0, 0), dtype=np.float32)
        small = [self.prepare(f) for f in frames]
        chunks = [small[i : i + self._max_batch] for i in range(0, len(small), self._max_batch)]

        async def all_chunks() -> list[np.ndarray]:
            return list(await asyncio.gather(*(self._image_chunk(c) for c in chunks)))

        # The chunk coroutines carry their own per-request timeout; this outer bound only
        # guards against a bug that never returns.
        outer = (self.timeout + self.backoff * 2**self.retries) * (self.retries + 1) * 2
        try:
            parts = self._loop_thread().run(all_chunks(), outer)
        except Exception as exc:
            raise self._failure(exc, IMAGE_PATH) from exc
        return np.concatenate(parts, axis=0)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed prompts in one request (the server chunks texts itself).

        Raises:
            EmbeddingError: a subclass saying what went wrong, after retries.
        """
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        items = list(texts)

        async def call() -> np.ndarray:
            sdk = self._client()
            self.requests_sent["texts"] += 1
            result = await sdk.get_clip_text_embeddings_async(
                text=items, clip_version=self.clip_version
            )
            return self._validated(result, len(items))

        try:
            vectors = self._loop_thread().run(
                self._with_retries(call, TEXT_PATH, items), self.timeout * (self.retries + 2) * 2
            )
        except Exception as exc:
            raise self._failure(exc, TEXT_PATH, items) from exc
        return vectors

    def close(self) -> None:
        """Stop the private event loop."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    # -- internals -----------------------------------------------------------------------------

    async def _image_chunk(self, frames: list[np.ndarray]) -> np.ndarray:
        async def call() -> np.ndarray:
            sdk = self._client()
            self.requests_sent["images"] += 1
            result = await sdk.get_clip_image_embeddings_async(
                inference_input=frames, clip_version=self.clip_version
            )
            return self._validated(result, len(frames))

        return await self._with_retries(call, IMAGE_PATH)

    async def _with_retries(
        self, call: Callable[[], Awaitable[T]], path: str, texts: list[str] | None = None
    ) -> T:
        """Await ``call()`` with a timeout, retrying transient failures with backoff.

        A timeout is not retried: the caller's wait stays bounded by ``timeout``. Nor is a
        refused connection once nothing listens on the server's port any more (it died): the
        caller hears at once instead of after every backoff step. ``texts`` are the request's
        texts, repeated by the diagnosis if the error does not say enough.
        """
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return await asyncio.wait_for(call(), self.timeout)
            except Exception as exc:
                # Diagnosis does blocking I/O: run it off the loop so other requests go on.
                err = await asyncio.to_thread(self._failure, exc, path, texts)
                if not err.transient or isinstance(err, ServerTimeout) or attempt == self.retries:
                    raise err from exc
                if isinstance(err, ServerUnreachable) and await asyncio.to_thread(
                    nothing_listens, self.api_url
                ):
                    raise err from exc
                log.debug("retrying after %s (attempt %d)", err, attempt + 1)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    # -- validation and error mapping ----------------------------------------------------------

    def _validated(self, result: Any, expected: int) -> np.ndarray:
        """The vectors of an SDK answer, validated (count, finite, and the same dimension as
        this model's earlier answers: a change is refused before anything is cached)."""
        vectors = embeddings_from_response(
            result, expected, server=self.api_url, model_id=self.model_id, dim=self._dim
        )
        if self._dim is None and len(vectors):
            self._dim = int(vectors.shape[1])
        return vectors

    def _failure(
        self, exc: BaseException, path: str, texts: list[str] | None = None
    ) -> EmbeddingError:
        """Map ``exc`` to an :class:`EmbeddingError` (asking the server when unclear)."""
        if isinstance(exc, EmbeddingError):
            return exc
        ctx = RequestContext(self.api_url, self.model_id, path, self.timeout)
        err = classify(
            exc,
            ctx,
            lambda: diagnose(
                self.api_url,
                self.api_key,
                self.clip_version,
                timeout=min(5.0, self.timeout),
                texts=texts,
            ),
        )
        safe = redact(str(err), self.api_key)
        if safe != str(err):
            err = type(err)(safe, status=err.status)
        return err

    def _client(self) -> Any:
        # Imported lazily: inference_sdk pulls supervision, scipy and aiohttp (≈1 s).
        with self._sdk_lock:
            if self._sdk is None:
                from inference_sdk import InferenceConfiguration, InferenceHTTPClient

                sdk = InferenceHTTPClient(api_url=self.api_url, api_key=self.api_key)
                sdk.configure(
                    InferenceConfiguration(
                        max_batch_size=self._max_batch,
                        max_concurrent_requests=1,
                        # The key goes in a header, never in the URL (the original app put it
                        # in the query string, where proxies and logs keep it).
                        api_key_transport="header",
                    )
                )
                self._sdk = sdk
            return self._sdk

    def _loop_thread(self) -> LoopThread:
        with self._sdk_lock:
            if self._loop is None:
                self._loop = LoopThread()
            return self._loop
