"""The cache first: what a command can answer without any server, and whether it needs one.

``export``, ``index`` and ``search`` look here before they contact, or auto-start, an Inference
server: with every sampled frame and every prompt cached they need none, so a fully cached run
makes no connection, starts no process and does not import inference-sdk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipvi_tui.cli.indexing import make_client
from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.prompts import all_parts, ensemble_vectors
from clipvi_tui.core.similarity import ScoreTable, score_table
from clipvi_tui.core.video import VideoError, probe, sample_indices


@dataclass
class CachedRun:
    """What the cache holds for one video, sampling rate, model and prompt list."""

    fingerprint: str
    sampled: np.ndarray
    times: np.ndarray  # seconds of each sampled frame
    cached_frames: int  # sampled frames with a vector
    table: ScoreTable | None  # every score, when the cache holds every vector needed

    @property
    def complete(self) -> bool:
        """True when no server is needed: every sampled frame and every prompt is cached."""
        return self.table is not None


def from_cache(settings: Settings, video: Path, prompts: list[str]) -> CachedRun:
    """Look at what the cache holds, without contacting a server or importing inference-sdk.

    ``export``, ``index`` (and ``search``) call this first and start or contact a server only
    when something is missing, so a fully cached run needs no server at all.

    Raises:
        VideoError, CacheError: as raised by the core.
    """
    client = make_client(settings)  # builds nothing: the SDK is imported on the first request
    with EmbeddingCache(settings.cache_dir) as cache:
        info = probe(video, cache)
        fp = info.fingerprint or ""
        sampled = sample_indices(info, settings.sample_fps)
        times = info.times_of(sampled)
        idx, vecs = cache.frame_matrix(fp, client.model_id, client.preprocess_tag)
        have = int(np.isin(sampled, idx).sum())
        # An ensemble ("a dog | a puppy") needs every part cached.
        parts = all_parts(prompts)
        found, _ = cache.get_texts(client.model_id, parts)
        table = None
        if have == len(sampled) and bool(found.all()):
            texts = ensemble_vectors(prompts, lambda ps: cache.get_texts(client.model_id, ps)[1])
            table = score_table(sampled, idx, vecs, prompts, texts, times)
        return CachedRun(fp, sampled, times, have, table)


def cache_covers(settings: Settings, videos: Sequence[Path], prompts: Sequence[str]) -> bool:
    """True when the cache holds every sampled frame of ``videos`` and every part of ``prompts``:
    then a command has nothing for a server to do and should neither contact nor start one.

    A video that cannot be read counts as covered: there is nothing a server could do for it,
    and the command reports it in its own words.
    """
    client = make_client(settings)  # builds nothing: the SDK is imported on the first request
    parts = all_parts(prompts)
    with EmbeddingCache(settings.cache_dir) as cache:
        if parts and not bool(cache.get_texts(client.model_id, parts)[0].all()):
            return False
        for video in videos:
            try:
                info = probe(video, cache)
            except VideoError:
                continue
            sampled = sample_indices(info, settings.sample_fps)
            have = cache.frame_indices(
                info.fingerprint or "", client.model_id, client.preprocess_tag
            )
            if not bool(np.isin(sampled, have).all()):
                return False
    return True
