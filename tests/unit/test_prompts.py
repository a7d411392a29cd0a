"""Prompt ensembles: parsing and the normalised mean of the parts' vectors."""

from __future__ import annotations

import numpy as np
import pytest

from clipvi_tui.core.prompts import (
    canonical_prompt,
    combine,
    ensemble_vectors,
    is_ensemble,
    prompt_parts,
)


def test_parts_and_canonical_text() -> None:
    assert prompt_parts("a dog |  a   puppy|a hound") == ["a dog", "a puppy", "a hound"]
    assert prompt_parts("a dog") == ["a dog"]
    assert prompt_parts(" | a dog | | a dog ") == ["a dog"]
    assert canonical_prompt("a dog|a puppy") == "a dog | a puppy"
    assert is_ensemble("a dog | a puppy") and not is_ensemble("a dog |")


def test_combine_is_the_normalised_mean_of_normalised_parts() -> None:
    parts = np.array([[3.0, 0.0], [0.0, 0.5]])
    got = combine(parts)
    assert got == pytest.approx(np.array([1.0, 1.0]) / np.sqrt(2))
    assert np.linalg.norm(got) == pytest.approx(1.0)


def test_ensemble_vectors_embeds_each_distinct_part_once() -> None:
    table = {"a dog": [1.0, 0.0, 0.0], "a puppy": [0.0, 2.0, 0.0], "a cat": [0.0, 0.0, 1.0]}
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([table[t] for t in texts])

    got = ensemble_vectors(["a dog | a puppy", "a cat", "a dog"], embed)
    assert calls == [["a dog", "a puppy", "a cat"]]
    assert got.shape == (3, 3)
    assert got[0] == pytest.approx(np.array([1, 1, 0]) / np.sqrt(2))
    assert got[1] == pytest.approx([0, 0, 1]) and got[2] == pytest.approx([1, 0, 0])


def test_a_prompt_without_text_is_an_error() -> None:
    with pytest.raises(ValueError, match="no text"):
        ensemble_vectors([" | "], lambda texts: np.zeros((len(texts), 2)))
