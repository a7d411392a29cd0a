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

Each setting is one row of :data:`FIELDS` (name, config keys, environment variable, parser;
``fields`` holds the general ones, ``moment_fields`` those of finding moments): adding a setting
means adding a row and a :class:`Settings` attribute. ``settings`` holds the object and its
defaults, ``loading`` finds and merges the sources.
"""

from clipvi_tui.config.loading import (
    ENV_KEYS,
    FIELD_BY_KEY,
    FIELDS,
    KNOWN_KEYS,
    find_config,
    load_settings,
    read_config,
    unknown_key_warning,
)
from clipvi_tui.config.moment_fields import parse_threshold
from clipvi_tui.config.settings import (
    APP_NAME,
    DEFAULT_TIMEOUT_S,
    GRAPHICS_CHOICES,
    SERVER_CHOICES,
    ConfigError,
    Settings,
    default_cache_dir,
    default_config_path,
)

__all__ = [
    "APP_NAME",
    "DEFAULT_TIMEOUT_S",
    "ENV_KEYS",
    "FIELDS",
    "FIELD_BY_KEY",
    "GRAPHICS_CHOICES",
    "KNOWN_KEYS",
    "SERVER_CHOICES",
    "ConfigError",
    "Settings",
    "default_cache_dir",
    "default_config_path",
    "find_config",
    "load_settings",
    "parse_threshold",
    "read_config",
    "unknown_key_warning",
]
