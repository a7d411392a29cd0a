"""Settings: config.yaml, environment and command line merged into one validated object.

Precedence, highest first: command line > environment > config.yaml > defaults.

config.yaml keeps the original app's keys (``roboflow_api_key``, ``video_path``, ``CLIP``: the
prompts) and adds ``api_url``, ``clip_version``, ``sample_fps``, ``cache_dir``, ``graphics``,
``server`` and ``model_dir``. The file is found at ``--config``, else ``./config.yaml``, else
``<user config dir>/clipvi-tui/config.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from clipvi_tui.core.embeddings import DEFAULT_API_URL, DEFAULT_CLIP_VERSION
from clipvi_tui.core.video import parse_sample_fps

APP_NAME = "clipvi-tui"
GRAPHICS_CHOICES = ("auto", "kitty", "sixel", "halfcell", "unicode")
SERVER_CHOICES = ("auto", "external")
KNOWN_KEYS = {
    "roboflow_api_key",
    "api_key",
    "video_path",
    "CLIP",
    "prompts",
    "api_url",
    "clip_version",
    "sample_fps",
    "cache_dir",
    "graphics",
    "server",
    "model_dir",
}
# Environment variables and the setting each one feeds.
ENV_KEYS = {
    "ROBOFLOW_API_KEY": "api_key",
    "CLIPVI_API_URL": "api_url",
    "CLIPVI_CLIP_VERSION": "clip_version",
    "CLIPVI_SAMPLE_FPS": "sample_fps",
    "CLIPVI_CACHE_DIR": "cache_dir",
    "CLIPVI_GRAPHICS": "graphics",
    "CLIPVI_SERVER": "server",
    "CLIPVI_MODEL_DIR": "model_dir",
}


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
    config_path: Path | None = None


def find_config(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read, or None if there is none.

    Raises:
        ConfigError: if an explicitly named file does not exist.
    """
    if explicit is not None:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        return p
    for candidate in (Path("config.yaml"), default_config_path()):
        if candidate.is_file():
            return candidate
    return None


def read_config(path: Path) -> dict[str, Any]:
    """Parse a config.yaml into a dict of known keys.

    Raises:
        ConfigError: on YAML errors, a non-mapping document or unknown keys.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"config {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of keys to values")
    unknown = sorted(set(map(str, data)) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"config {path}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(KNOWN_KEYS))}"
        )
    return data


def _from_file(data: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """Map config.yaml keys to setting names; relative paths are taken from the file's folder."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        name = {"roboflow_api_key": "api_key", "CLIP": "prompts"}.get(key, key)
        if name in ("video_path", "cache_dir", "model_dir"):
            p = Path(str(value)).expanduser()
            value = p if p.is_absolute() else base / p
        out[name] = value
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
    if path is not None:
        merged.update(_from_file(read_config(path), path.resolve().parent))
    for var, name in ENV_KEYS.items():
        if env.get(var):
            merged[name] = env[var]
    for name, value in cli.items():
        if value is not None and value != []:
            merged[name] = value
    return _validate(merged, path)


def _validate(raw: dict[str, Any], path: Path | None) -> Settings:
    s = Settings(config_path=path)
    if "api_url" in raw:
        url = str(raw["api_url"]).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"api_url must start with http:// or https://, not {url!r}")
        s.api_url = url
    if raw.get("api_key"):
        s.api_key = str(raw["api_key"])
    if "clip_version" in raw:
        s.clip_version = str(raw["clip_version"]).strip()
        if not s.clip_version:
            raise ConfigError("clip_version must not be empty")
    if "sample_fps" in raw:
        try:
            s.sample_fps = parse_sample_fps(raw["sample_fps"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if "cache_dir" in raw:
        s.cache_dir = Path(str(raw["cache_dir"])).expanduser()
    if raw.get("video_path"):
        s.video_path = Path(str(raw["video_path"])).expanduser()
    if "prompts" in raw:
        prompts = raw["prompts"]
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            raise ConfigError("CLIP (the prompts) must be a list of strings")
        s.prompts = _unique([p.strip() for p in prompts if p.strip()])
    for name, choices in (("graphics", GRAPHICS_CHOICES), ("server", SERVER_CHOICES)):
        if name in raw:
            value = str(raw[name]).strip().lower()
            if value not in choices:
                raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
            setattr(s, name, value)
    if raw.get("model_dir"):
        s.model_dir = Path(str(raw["model_dir"])).expanduser()
    return s


def _unique(items: list[str]) -> list[str]:
    """Drop repeated prompts, keeping the first occurrence's position."""
    return list(dict.fromkeys(items))
