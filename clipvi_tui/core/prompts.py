"""Prompt ensembles: ``a dog | a puppy | a hound`` is one prompt made of several phrasings.

CLIP's prompt-ensembling practice: embed every phrasing, normalise each vector, average them and
normalise the mean. The ensemble is shown and exported as one prompt (its canonical text, parts
joined by `` | ``); only its parts are sent to the server and cached, so a part shared by two
ensembles is embedded once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from clipvi_tui.core.cache import normalise

SEPARATOR = "|"


def prompt_parts(prompt: str) -> list[str]:
    """The phrasings of ``prompt``: its ``|``-separated parts, whitespace-normalised.

    Empty parts are dropped; a prompt without ``|`` is its own single part.
    """
    parts = [" ".join(p.split()) for p in prompt.split(SEPARATOR)]
    parts = [p for p in parts if p]
    return list(dict.fromkeys(parts))


def all_parts(prompts: Iterable[str]) -> list[str]:
    """Every distinct phrasing of ``prompts``, in order: the texts whose vectors they need."""
    return list(dict.fromkeys(part for p in prompts for part in prompt_parts(p)))


def canonical_prompt(prompt: str) -> str:
    """The text an ensemble is shown and keyed by: its parts joined by `` | ``."""
    return f" {SEPARATOR} ".join(prompt_parts(prompt))


def is_ensemble(prompt: str) -> bool:
    """True when ``prompt`` has more than one part."""
    return len(prompt_parts(prompt)) > 1


def combine(part_vectors: np.ndarray) -> np.ndarray:
    """The normalised mean of the normalised ``[K, D]`` part vectors (``[D]`` float32)."""
    v = normalise(np.asarray(part_vectors, dtype=np.float32))
    return normalise(v.mean(axis=0, keepdims=True))[0]


def ensemble_vectors(
    prompts: Sequence[str], embed: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """One vector per prompt, ensembles averaged from their parts.

    Args:
        prompts: prompts, each possibly an ensemble.
        embed: returns ``[K, D]`` vectors for a list of plain texts (e.g. the cache-first
            :func:`clipvi_tui.core.indexer.prompt_vectors`); called once with every distinct
            part.

    Returns:
        ``[P, D]`` float32 unit vectors.

    Raises:
        ValueError: if a prompt has no text at all.
    """
    split = [prompt_parts(p) for p in prompts]
    for p, parts in zip(prompts, split, strict=True):
        if not parts:
            raise ValueError(f"prompt {p!r} has no text")
    unique = all_parts(prompts)
    if not unique:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.asarray(embed(unique), dtype=np.float32)
    row = {text: i for i, text in enumerate(unique)}
    return np.stack([combine(vectors[[row[t] for t in parts]]) for parts in split])
