"""The settings of finding moments (views, smoothing, thresholds, segments, search) as fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clipvi_tui.config.fields import Field, _choice, _unique
from clipvi_tui.config.settings import ConfigError
from clipvi_tui.core.prompts import canonical_prompt
from clipvi_tui.core.views import VIEWS

# -- the settings of finding moments --------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConfigError(f"{name} must be a finite number, not {value!r}")
    return number


def _seconds(name: str) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        number = _number(name, value)
        if number < 0:
            raise ConfigError(f"{name} must be 0 or more seconds, not {value!r}")
        return number

    return parse


def parse_threshold(value: Any) -> float | None:
    """``auto`` (None) or a number; the value of ``threshold`` and of ``--threshold``."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    return _number("threshold", value)


def _thresholds(value: Any) -> dict[str, float | None]:
    if not isinstance(value, dict):
        raise ConfigError("thresholds must map prompts to numbers, e.g. {a red circle: 0.3}")
    out: dict[str, float | None] = {}
    for prompt, number in value.items():
        try:
            out[canonical_prompt(str(prompt))] = parse_threshold(number)
        except ConfigError:
            raise ConfigError(
                f"thresholds: {prompt!r} wants auto or a number, not {number!r}"
            ) from None
    return out


def _floor(value: Any) -> float:
    number = _number("presence_floor", value)
    if not -1.0 <= number <= 1.0:
        raise ConfigError(f"presence_floor is a cosine, between -1 and 1, not {value!r}")
    return number


def _spike_k(value: Any) -> float:
    number = _number("spike_k", value)
    if number <= 0:
        raise ConfigError(f"spike_k must be more than 0, not {value!r}")
    return number


def _baseline_prompts(value: Any) -> list[str]:
    prompts = [value] if isinstance(value, str) else value
    if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
        raise ConfigError("baseline_prompts must be a list of strings")
    return _unique([canonical_prompt(p) for p in prompts if canonical_prompt(p)])


def _search_k(value: Any) -> int:
    number = _number("search_k", value)
    if number < 1 or number != int(number):
        raise ConfigError(f"search_k must be a whole number of at least 1, not {value!r}")
    return int(number)


MOMENT_FIELDS: tuple[Field, ...] = (
    Field("view", ("view",), None, _choice("view", VIEWS)),
    Field("smooth_s", ("smooth_s",), None, _seconds("smooth_s")),
    Field("threshold", ("threshold",), None, parse_threshold),
    Field("thresholds", ("thresholds",), None, _thresholds),
    Field("max_gap_s", ("max_gap_s",), None, _seconds("max_gap_s")),
    Field("min_length_s", ("min_length_s",), None, _seconds("min_length_s")),
    Field("pad_s", ("pad_s",), None, _seconds("pad_s")),
    Field("presence_floor", ("presence_floor",), None, _floor),
    Field("spike_k", ("spike_k",), None, _spike_k),
    Field("baseline_prompts", ("baseline_prompts",), None, _baseline_prompts),
    Field("search_k", ("search_k",), None, _search_k),
)
