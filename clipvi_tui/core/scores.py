"""Scores from what the cache holds: prompt vectors (embedded once) and the per-frame table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient
from clipvi_tui.core.similarity import ScoreTable, score_table
from clipvi_tui.core.validation import check_vectors, server_of


def prompt_vectors(
    client: EmbeddingClient, cache: EmbeddingCache, prompts: Sequence[str]
) -> np.ndarray:
    """Vectors for ``prompts``, embedding (and caching) only those not cached yet.

    Raises:
        EmbeddingError: if the server is needed and fails.
    """
    found, vectors = cache.get_texts(client.model_id, prompts)
    missing = [p for p, ok in zip(prompts, found, strict=True) if not ok]
    if missing:
        fresh = check_vectors(
            client.embed_texts(missing),
            len(missing),
            server=server_of(client),
            model_id=client.model_id,
        )
        cache.put_texts(client.model_id, missing, fresh)
        found, vectors = cache.get_texts(client.model_id, prompts)
    return vectors


def cached_scores(
    cache: EmbeddingCache,
    client: EmbeddingClient,
    video_fingerprint: str,
    sampled: np.ndarray,
    prompts: list[str],
    text_vectors: np.ndarray,
    times: np.ndarray,
) -> ScoreTable:
    """The score table from what the cache holds now (NaN for frames not embedded yet).

    ``times`` are the sampled frames' times in seconds (``VideoInfo.times_of(sampled)``).
    """
    idx, vecs = cache.frame_matrix(video_fingerprint, client.model_id, client.preprocess_tag)
    return score_table(sampled, idx, vecs, prompts, text_vectors, times)
