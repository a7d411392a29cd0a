"""The validated settings object, its defaults, and the error every bad value raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from clipvi_tui.core.analysis import DEFAULT_BASELINE_PROMPTS, MomentSettings
from clipvi_tui.core.embeddings import DEFAULT_API_URL, DEFAULT_CLIP_VERSION
from clipvi_tui.core.server_specs import ServerSpec, server_specs

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
    # The defaults are the core's own (one place to change them).
    view: str = MomentSettings.view
    smooth_s: float = MomentSettings.smooth_s
    threshold: float | None = MomentSettings.threshold  # None = auto
    thresholds: dict[str, float | None] = field(default_factory=dict)  # None = auto
    max_gap_s: float = MomentSettings.max_gap_s
    min_length_s: float = MomentSettings.min_length_s
    pad_s: float = MomentSettings.pad_s
    presence_floor: float = MomentSettings.presence_floor
    spike_k: float = MomentSettings.spike_k
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

    # -- several servers (see core/server_specs.py, core/servers.py) -------------------------------
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
