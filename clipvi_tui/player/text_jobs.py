"""The player's text jobs: prompt vectors and search-query vectors, cache first (worker threads).

Like the jobs in :mod:`~clipvi_tui.player.services`, each gets a ``post`` callable and a
``cancelled`` callable and never touches widgets; blocking calls go through
:func:`~clipvi_tui.player.context.run_abandonable` so quitting never waits for a hung server. A
prompt ensemble (``a | b``) is embedded part by part and averaged, as the command line does.
"""

from __future__ import annotations

import numpy as np

from clipvi_tui.core.cache import CacheError, EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient, EmbeddingError, ServerUnreachable
from clipvi_tui.core.failures import PromptTooLong
from clipvi_tui.core.indexer import prompt_vectors
from clipvi_tui.core.prompts import ensemble_vectors, prompt_parts
from clipvi_tui.player.context import Abandoned, Cancelled, Post, ServiceHandles, run_abandonable
from clipvi_tui.player.messages import (
    CacheFailed,
    PromptDeferred,
    PromptEmbedded,
    PromptRejected,
    QueryEmbedded,
    QueryFailed,
    ServerStateChanged,
    ServicesReady,
)


def embed_prompts(
    handles: ServiceHandles,
    ready: ServicesReady,
    texts: list[str],
    post: Post,
    cancelled: Cancelled,
) -> None:
    """Get a vector for each prompt (cache first), one at a time so one bad prompt stays alone.

    Posts :class:`PromptEmbedded`, :class:`PromptRejected` (the server refused the text, e.g. over
    77 tokens) or :class:`PromptDeferred` (server trouble; the screen retries later).
    """
    cache: EmbeddingCache = ready.cache
    client: EmbeddingClient = ready.client
    for text in texts:
        if cancelled():
            return

        def lookup(t: str = text) -> tuple[bool, np.ndarray]:
            return _text_vector(handles, cache, client, t)

        try:
            was_cached, vectors = run_abandonable(lookup, cancelled)
        except Abandoned:
            return
        except PromptTooLong as exc:
            post(PromptRejected(text, str(exc)))
            continue
        except EmbeddingError as exc:
            if exc.transient:
                state = "unreachable" if isinstance(exc, ServerUnreachable) else "retrying"
            else:  # the key, the model, the URL: retrying soon will not help by itself
                state = "failed"
            post(ServerStateChanged(state, str(exc)))
            post(PromptDeferred(text, str(exc)))
            continue
        except CacheError as exc:
            post(CacheFailed(str(exc)))
            post(PromptDeferred(text, str(exc)))
            continue
        if not was_cached:
            post(ServerStateChanged("connected", ""))
        post(PromptEmbedded(text, np.asarray(vectors[0], dtype=np.float32)))


def _text_vector(
    handles: ServiceHandles, cache: EmbeddingCache, client: EmbeddingClient, text: str
) -> tuple[bool, np.ndarray]:
    """``(was_cached, [1, D] vector)`` of ``text``; an ensemble is averaged from its parts."""
    with handles.using_cache():
        found, _ = cache.get_texts(client.model_id, prompt_parts(text))
        if not found.all() and handles.gate is not None:
            handles.gate.ensure()  # the server's model must be the cached one before it writes
        vectors = ensemble_vectors([text], lambda parts: prompt_vectors(client, cache, parts))
        return bool(found.all()), vectors


def embed_query(
    handles: ServiceHandles, ready: ServicesReady, text: str, post: Post, cancelled: Cancelled
) -> None:
    """The vector of a search query (cache first): posts :class:`QueryEmbedded` or
    :class:`QueryFailed` with a one-line reason."""
    try:
        _, vectors = run_abandonable(
            lambda: _text_vector(handles, ready.cache, ready.client, text), cancelled
        )
    except Abandoned:
        return
    except (EmbeddingError, CacheError, ValueError) as exc:
        post(QueryFailed(text, str(exc)))
        return
    post(QueryEmbedded(text, np.asarray(vectors[0], dtype=np.float32)))
