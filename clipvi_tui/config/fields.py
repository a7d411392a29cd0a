"""The general settings as a field table: config keys, environment variable and parser of each.

Every parser checks the value's type as well as its range and raises :class:`ConfigError`
naming the key; adding a setting means one row here and one attribute on :class:`Settings`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipvi_tui.config.settings import (
    DEFAULT_TIMEOUT_S,
    GRAPHICS_CHOICES,
    MAX_TIMEOUT_S,
    SERVER_CHOICES,
    ConfigError,
)
from clipvi_tui.core.prompts import canonical_prompt
from clipvi_tui.core.server_specs import ServerSpec, positive_int, server_specs
from clipvi_tui.core.video import parse_sample_fps

# -- the fields ---------------------------------------------------------------------------------
# Every setting is one row: its name on Settings, its config.yaml keys (the first one is the
# documented one; others are accepted aliases), its environment variable, and its parser. A
# parser turns a raw value (from YAML, the environment or the command line) into the setting's
# value, raises ConfigError naming the key on a bad one, or returns _UNSET to keep the default.

_UNSET = object()


@dataclass(frozen=True)
class Field:
    """One setting: where it comes from and how it is parsed."""

    name: str
    keys: tuple[str, ...]
    env: str | None
    parse: Callable[[Any], Any]
    path: bool = False  # a path, taken relative to the config file's folder


def _kind(value: Any) -> str:
    """How a wrong value is named in a message: ``a list``, ``true``, ``'fast'``…"""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _text(name: str, value: Any, wants: str) -> str:
    """``value`` as text; YAML lists, mappings and booleans are refused, numbers are accepted."""
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"{name} must be {wants}, not {_kind(value)}")


def _url(value: Any) -> str:
    """The first server's URL; a list (YAML, repeated --api-url, comma-separated) is checked whole
    here and expanded into ``Settings.servers`` by :func:`_validate`."""
    return _server_list(value)[0].url


def _server_list(
    value: Any, batch_size: int | None = None, flight: int | None = None
) -> list[ServerSpec]:
    if not isinstance(value, (str, list, tuple)):
        raise ConfigError(f"api_url must be a URL or a list of URLs, not {_kind(value)}")
    try:
        return server_specs(value, batch_size=batch_size, max_in_flight=flight)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _positive_int(name: str) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, (bool, list, dict)):
            raise ConfigError(f"{name} must be a whole number, not {_kind(value)}")
        try:
            return positive_int(name, value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    return parse


def _api_key(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return _UNSET
    return _text("roboflow_api_key", value, "text (your Roboflow API key)").strip()


def _clip_version(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"clip_version must be text like ViT-B-16, not {_kind(value)}")
    text = value.strip()
    if not text:
        raise ConfigError("clip_version must not be empty (e.g. ViT-B-16)")
    return text


def _sample_fps(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(f"sample_fps must be a positive number or 'all', not {_kind(value)}")
    text = str(value).strip().lower()
    if text not in ("all", "every"):
        try:
            rate = float(text)
        except ValueError:
            rate = math.nan
        # 0 and -0 used to mean "every frame" by accident; say 'all' for that.
        if not math.isfinite(rate) or rate <= 0:
            raise ConfigError(
                f"sample_fps must be a positive number of frames per second, or 'all' for "
                f"every frame, not {_kind(value)}"
            )
    try:
        return parse_sample_fps(text)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(f"timeout must be a number of seconds, not {_kind(value)}")
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = math.nan
    if not (0 < seconds <= MAX_TIMEOUT_S):
        raise ConfigError(
            f"timeout must be seconds between 0 and {MAX_TIMEOUT_S:g} (default "
            f"{DEFAULT_TIMEOUT_S:g}), not {_kind(value)}"
        )
    return seconds


def _path_of(name: str, value: Any) -> Path:
    text = _text(name, value, "a path")
    if not text.strip():
        raise ConfigError(f"{name} must not be empty")
    if "://" in text:  # Path would quietly turn "http://host/a.mp4" into "http:/host/a.mp4"
        raise ConfigError(f"{name} must be a local path, not a URL ({text})")
    return Path(text).expanduser()


def _path(value: Any) -> Path:
    return _path_of("cache_dir", value)


def _optional_path_of(name: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return _UNSET
        return _path_of(name, value)

    return parse


def _prompts(value: Any) -> list[str]:
    prompts = [value] if isinstance(value, str) else value
    if not isinstance(prompts, list):
        raise ConfigError(f"CLIP (the prompts) must be a list of text, not {_kind(value)}")
    bad = [p for p in prompts if not isinstance(p, str)]
    if bad:
        raise ConfigError(
            f"CLIP (the prompts) must be a list of text; {_kind(bad[0])} is not text "
            "(put quotes around it)"
        )
    # Ensembles ("a dog|a puppy") are kept in one spelling, "a dog | a puppy".
    return _unique([canonical_prompt(p) for p in prompts if canonical_prompt(p)])


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _flag(name: str) -> Callable[[Any], bool]:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ConfigError(f"{name} must be true or false, not {text!r}")

    return parse


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {_kind(value)}")
        text = value.strip().lower()
        if text not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {text!r}")
        return text

    return parse


FIELDS: tuple[Field, ...] = (
    Field("api_url", ("api_url",), "CLIPVI_API_URL", _url),
    Field("api_key", ("roboflow_api_key", "api_key"), "ROBOFLOW_API_KEY", _api_key),
    Field("clip_version", ("clip_version",), "CLIPVI_CLIP_VERSION", _clip_version),
    Field("sample_fps", ("sample_fps",), "CLIPVI_SAMPLE_FPS", _sample_fps),
    Field("cache_dir", ("cache_dir",), "CLIPVI_CACHE_DIR", _path, path=True),
    Field("video_path", ("video_path",), None, _optional_path_of("video_path"), path=True),
    Field("prompts", ("CLIP", "prompts"), None, _prompts),
    Field("graphics", ("graphics",), "CLIPVI_GRAPHICS", _choice("graphics", GRAPHICS_CHOICES)),
    Field("server", ("server",), "CLIPVI_SERVER", _choice("server", SERVER_CHOICES)),
    Field(
        "model_dir", ("model_dir",), "CLIPVI_MODEL_DIR", _optional_path_of("model_dir"), path=True
    ),
    Field("batch_size", ("batch_size",), "CLIPVI_BATCH_SIZE", _positive_int("batch_size")),
    Field(
        "max_in_flight", ("max_in_flight",), "CLIPVI_MAX_IN_FLIGHT", _positive_int("max_in_flight")
    ),
    Field("autoplay", ("autoplay",), "CLIPVI_AUTOPLAY", _flag("autoplay")),
    Field("restore_session", ("restore_session",), None, _flag("restore_session")),
    Field("timeout", ("timeout",), "CLIPVI_TIMEOUT", _timeout),
)


def _unique(items: list[str]) -> list[str]:
    """Drop repeated prompts, keeping the first occurrence's position."""
    return list(dict.fromkeys(items))
