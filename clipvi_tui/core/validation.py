"""Checks on embeddings before they touch the cache, and on the model behind a name.

Two rules keep the cache trustworthy whatever a server sends:

* **Every response is validated** (:func:`embeddings_from_response`, :func:`check_vectors`):
  one vector per input, one dimension, finite numbers, not all zeros. A response that breaks a
  rule raises :class:`~clipvi_tui.core.failures.InvalidResponse` naming the server and the
  model, and nothing of it is written.
* **One model id, one model** (:func:`verify_model`): the cache stores, per model id, the vector
  dimension and a *probe vector* (the model's embedding of :data:`PROBE_TEXT`). A server whose
  model gives another dimension, or another probe vector, under the same name is refused before
  anything is embedded, with a message that says how to keep both (another ``clip_version``
  name, or another ``--cache-dir``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from clipvi_tui.core.failures import EmbeddingError, InvalidResponse, ModelMismatch

if TYPE_CHECKING:
    from clipvi_tui.core.cache import EmbeddingCache
    from clipvi_tui.core.embeddings import EmbeddingClient

# Embedded once per run that needs the server; identical text gives an identical vector from the
# same model (the tokenizer is deterministic), so a different vector means a different model.
PROBE_TEXT = "clipvi-tui model probe: a photo of a red car next to a dog"
# float16 storage and server-side float noise stay far above this; another model lands far below.
PROBE_MIN_COSINE = 0.995

RESOLVE_HINT = (
    "to keep both, give the other model its own clip_version name, or use another --cache-dir"
)


def server_of(client: object) -> str | None:
    """How messages name the server(s) behind ``client`` (None for a non-HTTP backend)."""
    url = getattr(client, "api_url", None)
    if url:
        return str(url)
    urls = getattr(client, "api_urls", None) or []
    return ", ".join(urls) if urls else None


def _where(server: str | None) -> str:
    return f"Inference server at {server}" if server else "the embedding backend"


def embeddings_from_response(
    result: Any, expected: int, *, server: str | None, model_id: str, dim: int | None = None
) -> np.ndarray:
    """Pull the ``embeddings`` rows out of an SDK response and validate them.

    Args:
        result: what the SDK returned: a dict with ``embeddings`` or a list of such dicts.
        expected: how many inputs were sent.
        server: the server's URL, for messages.
        model_id: the model asked for, for messages.
        dim: the dimension this model's earlier answers had, if any.

    Returns:
        A float32 ``[expected, D]`` matrix.

    Raises:
        InvalidResponse: if the answer is not ``expected`` usable vectors.
    """
    items = result if isinstance(result, list) else [result]
    rows: list[Any] = []
    for item in items:
        emb = item.get("embeddings") if isinstance(item, dict) else None
        if not isinstance(emb, list):
            raise InvalidResponse(
                f"{_where(server)} answered without an embeddings list for {model_id}; "
                "nothing was cached"
            )
        rows.extend(emb)
    if not all(isinstance(r, list) for r in rows):
        raise InvalidResponse(
            f"{_where(server)} answered embeddings that are not lists of numbers for "
            f"{model_id}; nothing was cached"
        )
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        raise InvalidResponse(
            f"{_where(server)} answered vectors of mixed sizes {sorted(lengths)} for "
            f"{model_id}; nothing was cached"
        )
    try:
        mat = np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidResponse(
            f"{_where(server)} answered embeddings that are not numbers for {model_id}; "
            "nothing was cached"
        ) from None
    if mat.ndim == 1 and mat.size == 0:
        mat = mat.reshape(0, 0)
    return check_vectors(mat, expected, server=server, model_id=model_id, dim=dim)


def check_vectors(
    vectors: np.ndarray,
    expected: int,
    *,
    server: str | None,
    model_id: str,
    dim: int | None = None,
) -> np.ndarray:
    """Validate a matrix of embeddings: count, one non-zero dimension, finite, not all zeros.

    Args:
        vectors: the matrix to check.
        expected: how many rows there must be.
        server: the server's URL, for messages (None: a non-HTTP backend).
        model_id: the model, for messages.
        dim: the dimension the rows must have, when already known for this model.

    Returns:
        ``vectors`` as float32.

    Raises:
        InvalidResponse: naming the server, the model and what is wrong.
    """
    v = np.asarray(vectors)
    where = _where(server)
    if v.ndim != 2:
        raise InvalidResponse(
            f"{where} answered a {v.ndim}-d array instead of one vector per input for "
            f"{model_id}; nothing was cached"
        )
    if v.shape[0] != expected:
        raise InvalidResponse(
            f"{where} answered {v.shape[0]} vectors for {expected} inputs ({model_id}); "
            "nothing was cached"
        )
    if expected and v.shape[1] == 0:
        raise InvalidResponse(
            f"{where} answered empty (zero-length) vectors for {model_id}; nothing was cached"
        )
    if dim is not None and expected and v.shape[1] != dim:
        raise InvalidResponse(
            f"{where} answered {v.shape[1]}-dim vectors for {model_id} after {dim}-dim ones; "
            "nothing was cached"
        )
    if not np.issubdtype(v.dtype, np.number):
        raise InvalidResponse(f"{where} answered non-numeric vectors for {model_id}")
    v = v.astype(np.float32, copy=False)
    if not np.isfinite(v).all():
        raise InvalidResponse(
            f"{where} answered vectors with NaN or infinite values for {model_id}; "
            "nothing was cached"
        )
    if expected and (np.abs(v).max(axis=1) == 0).any():
        raise InvalidResponse(
            f"{where} answered all-zero vectors for {model_id}; nothing was cached"
        )
    return v


def dimension_conflict(model_id: str, cached: int, got: int, where: str) -> ModelMismatch:
    """The error for a model whose vectors changed size under the same name."""
    return ModelMismatch(
        f"{where} gives {got}-dim vectors for {model_id}, but the cache holds {cached}-dim "
        f"vectors under that name (another model?); nothing was cached; {RESOLVE_HINT}"
    )


def verify_model(
    client: EmbeddingClient, cache: EmbeddingCache, *, server: str | None = None
) -> None:
    """Make sure the model behind ``client.model_id`` is the one the cache knows by that name.

    The first time a model id is seen its dimension and probe vector are recorded; later runs
    compare. Call it once per run before anything is embedded (it costs one text request).

    Raises:
        ModelMismatch: if the dimension or the probe vector differs.
        InvalidResponse, EmbeddingError: if the probe request itself fails.
    """
    model_id = client.model_id
    where = _where(server)
    probe = check_vectors(client.embed_texts([PROBE_TEXT]), 1, server=server, model_id=model_id)[0]
    record = cache.model_record(model_id)
    known_dim = record.dim if record is not None else cache.legacy_dim(model_id)
    if known_dim is not None and known_dim != probe.shape[0]:
        raise dimension_conflict(model_id, known_dim, probe.shape[0], where)
    if record is not None and record.probe is not None:
        cos = cosine(record.probe, probe)
        if cos < PROBE_MIN_COSINE:
            raise ModelMismatch(
                f"{where} serves a different model as {model_id} than the one the cache holds "
                f"under that name (probe cosine {cos:.3f}); nothing was cached; {RESOLVE_HINT}"
            )
        return
    cache.set_model_record(model_id, probe.shape[0], probe)


class ModelGate:
    """:func:`verify_model` once per client and cache, shared by the threads that embed.

    The first :meth:`ensure` verifies; later calls return at once. A transient failure (server
    down) is raised and tried again next time; a lasting one (another model, no such model) is
    remembered and raised to every later caller without asking the server again.
    """

    def __init__(
        self, client: EmbeddingClient, cache: EmbeddingCache, server: str | None = None
    ) -> None:
        """Guard ``client`` writing into ``cache``; ``server`` names it in messages."""
        self.client = client
        self.cache = cache
        self.server = server if server is not None else server_of(client)
        self._lock = threading.Lock()
        self._verified = False
        self._failure: EmbeddingError | None = None

    @property
    def verified(self) -> bool:
        """True once the model was checked and found to be the one cached under its name."""
        return self._verified

    def ensure(self) -> None:
        """Verify the model unless that was done already.

        Raises:
            ModelMismatch: the cache holds another model under this name.
            EmbeddingError: the probe request failed (retry later if ``transient``).
        """
        with self._lock:
            if self._verified:
                return
            if self._failure is not None:
                raise self._failure
            try:
                verify_model(self.client, self.cache, server=self.server)
            except EmbeddingError as exc:
                if not exc.transient:
                    self._failure = exc
                raise
            self._verified = True


def cosine(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Cosine similarity of two vectors (0.0 when either is all zeros)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    if denom == 0 or x.shape != y.shape:
        return 0.0
    value = float(x @ y) / denom
    return value if math.isfinite(value) else 0.0
