"""Settings: config.yaml, environment and command line merged into one validated object.

Precedence, highest first: command line > environment > config.yaml > defaults.

config.yaml keeps the original app's keys (``roboflow_api_key``, ``video_path``, ``CLIP``: the
prompts) and adds ``api_url`` (one URL or a list of servers), ``batch_size`` and
``max_in_flight``, ``clip_version``, ``sample_fps``, ``cache_dir``, ``graphics``, ``server``,
``model_dir``, ``timeout``, ``autoplay`` (the app starts playing; ``--paused`` overrides),
``restore_session`` (reopen a video with its last prompts; ``--fresh`` overrides), and the
defaults of finding moments (``view``, ``smooth_s``, ``threshold``, ``thresholds``,
``max_gap_s``, ``min_length_s``, ``pad_s``, ``presence_floor``, ``spike_k``,
``baseline_prompts``, ``search_k``). The file is found at ``--config``, else ``./config.yaml``,
else ``<user config dir>/clipvi-tui/config.yaml``.

Every value is checked for its type as well as its range, wherever it comes from: a YAML list
where a number belongs (``sample_fps: [1]``), a boolean (``sample_fps: true``), a mapping as the
API key, a file that is not UTF-8 — each is a :class:`ConfigError` naming the key and what it
wants. An unknown key is not fatal: it becomes a warning in :attr:`Settings.warnings` naming the
closest known key, and the run goes on.

Each setting is one row of :data:`FIELDS` (name, config keys, environment variable, parser):
adding a setting means adding a row and a :class:`Settings` attribute.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from clipvi_tui.core.analysis import DEFAULT_BASELINE_PROMPTS, MomentSettings
from clipvi_tui.core.embeddings import DEFAULT_API_URL, DEFAULT_CLIP_VERSION
from clipvi_tui.core.prompts import canonical_prompt
from clipvi_tui.core.servers import ServerSpec, positive_int, server_specs
from clipvi_tui.core.video import parse_sample_fps
from clipvi_tui.core.views import VIEWS

APP_NAME = "clipvi-tui"
GRAPHICS_CHOICES = ("auto", "kitty", "sixel", "halfcell", "unicode")
SERVER_CHOICES = ("auto", "external")
# Seconds one request to the Inference server may take (``timeout:``), and its allowed range.
DEFAULT_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 3600.0


class ConfigError(Exception):
    """The configuration is unreadable or holds a bad value; ``str()`` says which."""


def default_cache_dir() -> Path:
    """The platform's user cache directory for clipvi-tui."""
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "embeddings"


def default_config_path() -> Path:
    """The platform's user config file for clipvi-tui."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.yaml"


@dataclass
class Settings:
    """Everything a command needs to know, already validated."""

    api_url: str = DEFAULT_API_URL
    api_key: str | None = None
    clip_version: str = DEFAULT_CLIP_VERSION
    sample_fps: float | None = 5.0
    cache_dir: Path = field(default_factory=default_cache_dir)
    video_path: Path | None = None
    prompts: list[str] = field(default_factory=list)
    graphics: str = "auto"
    server: str = "auto"
    model_dir: Path | None = None
    autoplay: bool = True
    restore_session: bool = True
    timeout: float = DEFAULT_TIMEOUT_S
    config_path: Path | None = None
    # -- finding moments (defaults of the app's keys and of export --segments / search) --
    view: str = "raw"
    smooth_s: float = 0.0
    threshold: float | None = None  # None = auto
    thresholds: dict[str, float | None] = field(default_factory=dict)  # None = auto
    max_gap_s: float = 1.0
    min_length_s: float = 0.4
    pad_s: float = 0.0
    presence_floor: float = 0.25
    spike_k: float = 5.0
    baseline_prompts: list[str] = field(default_factory=lambda: list(DEFAULT_BASELINE_PROMPTS))
    search_k: int = 10
    # One line each, e.g. an unknown config key; printed by the CLI, notified by the app.
    warnings: list[str] = field(default_factory=list)

    def moment_settings(self) -> MomentSettings:
        """The settings of finding moments, as the core takes them."""
        return MomentSettings(
            view=self.view,
            smooth_s=self.smooth_s,
            threshold=self.threshold,
            thresholds=dict(self.thresholds),
            max_gap_s=self.max_gap_s,
            min_length_s=self.min_length_s,
            pad_s=self.pad_s,
            presence_floor=self.presence_floor,
            spike_k=self.spike_k,
        )

    # -- several servers (see core/servers.py) --------------------------------------------------
    # ``api_url`` above is the first server; ``servers`` is the whole list with each server's
    # batch size and requests in flight. ``batch_size``/``max_in_flight`` are the defaults a
    # list entry may override. Empty ``servers`` means "api_url alone".
    servers: list[ServerSpec] = field(default_factory=list)
    batch_size: int | None = None
    max_in_flight: int | None = None

    def server_specs(self, api_url: str | None = None) -> list[ServerSpec]:
        """The servers to send work to.

        Args:
            api_url: the URL a caller resolved (e.g. an embedded server it started); when it is
                not the configured first server, that one server is used alone.

        Returns:
            The configured list, or a one-server list for ``api_url`` (or ``self.api_url`` when
            code pointed it elsewhere, as the embedded server does).
        """
        url = api_url or self.api_url
        if self.servers and self.servers[0].url == url:
            return list(self.servers)
        return server_specs(url, batch_size=self.batch_size, max_in_flight=self.max_in_flight)


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
FIELDS = FIELDS + MOMENT_FIELDS

# config.yaml key → field, and environment variable → field.
FIELD_BY_KEY = {key: f for f in FIELDS for key in f.keys}
KNOWN_KEYS = set(FIELD_BY_KEY)
ENV_KEYS = {f.env: f.name for f in FIELDS if f.env}


def find_config(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read, or None if there is none.

    Raises:
        ConfigError: if an explicitly named file does not exist.
    """
    if explicit is not None:
        p = Path(explicit).expanduser()
        if p.is_dir():
            raise ConfigError(f"config {p} is a folder, not a file (give the config.yaml in it)")
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        return p
    for candidate in (Path("config.yaml"), default_config_path()):
        if candidate.is_file():
            return candidate
    return None


def read_config(path: Path, warnings: list[str] | None = None) -> dict[str, Any]:
    """Parse a config.yaml into a dict of known keys.

    Args:
        path: the file.
        warnings: unknown keys are dropped and reported here (one line each).

    Raises:
        ConfigError: if the file cannot be read, is not UTF-8, not YAML or not a mapping.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1].hex()
        raise ConfigError(
            f"config {path} is not UTF-8 text (byte 0x{bad} at offset {exc.start}): "
            "save it as UTF-8"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"config {path} is not valid YAML{where}") from None
    except RecursionError:
        raise ConfigError(f"config {path} is nested too deeply to be a config file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of keys to values")
    known: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str) and key in KNOWN_KEYS:
            known[key] = value
        elif warnings is not None:
            warnings.append(unknown_key_warning(path, key))
    return known


def unknown_key_warning(path: Path, key: Any) -> str:
    """``config X: unknown key 'sampel_fps' ignored (did you mean 'sample_fps'?)``."""
    text = str(key)
    by_lower = {k.lower(): k for k in KNOWN_KEYS}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
    return f"config {path}: unknown key {text!r} ignored{hint}"


def _from_file(data: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """Map config.yaml keys to setting names; relative paths are taken from the file's folder."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        f = FIELD_BY_KEY[str(key)]
        if f.path:
            parsed = f.parse(value)
            if parsed is _UNSET:
                continue
            value = parsed if parsed.is_absolute() else base / parsed
        out[f.name] = value
    return out


def load_settings(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults, config file, environment and command line into :class:`Settings`.

    Args:
        cli: values given on the command line (None = not given); ``config`` names the file.
        env: the environment (defaults to ``os.environ``).

    Raises:
        ConfigError: on any invalid value, naming it.
    """
    cli = dict(cli or {})
    env = os.environ if env is None else env
    path = find_config(cli.pop("config", None))
    merged: dict[str, Any] = {}
    warnings: list[str] = []
    if path is not None:
        merged.update(_from_file(read_config(path, warnings), path.resolve().parent))
    for var, name in ENV_KEYS.items():
        if env.get(var):
            merged[name] = env[var]
    for name, value in cli.items():
        if value is not None and value != []:
            merged[name] = value
    settings = _validate(merged, path)
    settings.warnings = warnings
    return settings


def _validate(raw: dict[str, Any], path: Path | None) -> Settings:
    """Parse every given value with its field's parser into :class:`Settings`."""
    s = Settings(config_path=path)
    for f in FIELDS:
        if raw.get(f.name) is not None:
            value = f.parse(raw[f.name])
            if value is not _UNSET:
                setattr(s, f.name, value)
    if raw.get("api_url") is not None:
        s.servers = _server_list(raw["api_url"], s.batch_size, s.max_in_flight)
    return s


def _unique(items: list[str]) -> list[str]:
    """Drop repeated prompts, keeping the first occurrence's position."""
    return list(dict.fromkeys(items))
