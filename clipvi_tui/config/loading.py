"""Finding, reading and merging config.yaml, the environment and the command line."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from clipvi_tui.config.fields import _UNSET, Field, _server_list
from clipvi_tui.config.fields import FIELDS as GENERAL_FIELDS
from clipvi_tui.config.moment_fields import MOMENT_FIELDS
from clipvi_tui.config.settings import ConfigError, Settings, default_config_path

# Every field, general and of finding moments.
FIELDS: tuple[Field, ...] = GENERAL_FIELDS + MOMENT_FIELDS
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
