"""``export VIDEO --vectors FILE.npz`` and ``import-vectors VIDEO FILE.npz``: the hand-off.

Export indexes what is missing, then writes every sampled frame's vector with its frame index,
time, model id and preprocessing (format: :mod:`clipvi_tui.core.handoff`). Import checks the
file against the video, the model and its dimension, and files the vectors in the cache, so the
app and ``export`` use them without embedding a frame.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from clipvi_tui.cli.indexing import make_client, run_index
from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient, EmbeddingError
from clipvi_tui.core.handoff import (
    export_vectors,
    import_vectors,
    read_vectors,
    write_vectors,
)
from clipvi_tui.core.reachability import server_answers
from clipvi_tui.core.video import fingerprint, probe, sample_indices


def export_vector_file(settings: Settings, video: Path, target: Path) -> str:
    """Index ``video`` where needed and write its sampled frames' vectors to ``target``.

    Returns:
        A one-line summary for stderr.

    Raises:
        HandoffError: if the file cannot be written.
        EmbeddingError, VideoError, CacheError: as raised while indexing.
    """
    client = make_client(settings)
    result = run_index(settings, video, [], client=client)
    with EmbeddingCache(settings.cache_dir) as cache:
        data = export_vectors(
            cache,
            result.info or probe(video),
            result.fingerprint,
            client.model_id,
            client.preprocess_tag,
            result.sampled,
        )
    write_vectors(target, data)
    dim = data.vectors.shape[1] if data.vectors.size else 0
    return f"wrote {len(data.frames)} vectors ({client.model_id}, {dim}-dim) to {target}"


def import_vector_file(settings: Settings, video: Path, source: Path, *, force: bool) -> str:
    """Check ``source`` against ``video`` and the configured model, then cache its vectors.

    Returns:
        A summary (and any notes), one line each, for stderr.

    Raises:
        HandoffError: on a model or dimension mismatch, another video's file, or a bad file.
        VideoError, CacheError: as raised by the core.
    """
    info = probe(video)
    client = make_client(settings)
    data = read_vectors(source, info)
    key = fingerprint(video, info)
    dim, checked = _server_dim(client)
    with EmbeddingCache(settings.cache_dir) as cache:
        notes = import_vectors(
            cache,
            data,
            info,
            key,
            client.model_id,
            client.preprocess_tag,
            expected_dim=dim,
            force=force,
        )
        cached = cache.frame_indices(key, client.model_id, client.preprocess_tag)
    sampled = sample_indices(info, settings.sample_fps)
    have = int(np.isin(sampled, cached).sum())
    lines = [
        f"imported {len(data.frames)} vectors ({client.model_id}, {data.vectors.shape[1]}-dim) "
        f"for {video.name}; {have}/{len(sampled)} sampled frames are now cached",
        *notes,
    ]
    if not checked:
        lines.append(
            "no Inference server answered: the dimension was checked against the cache only"
        )
    return "\n".join(lines)


def _server_dim(client: EmbeddingClient) -> tuple[int | None, bool]:
    """The model's vector length as a server computes it, and whether a server was asked."""
    urls = getattr(client, "api_urls", None) or []
    if not any(server_answers(u, timeout=1.0) for u in urls):
        return None, False
    try:
        return int(client.embed_texts(["a photo"]).shape[1]), True
    except EmbeddingError:
        return None, False


def say(text: str) -> None:
    """Each line of ``text`` on stderr, prefixed ``clipvi-tui:``."""
    for line in text.splitlines():
        print(f"clipvi-tui: {line}", file=sys.stderr)
