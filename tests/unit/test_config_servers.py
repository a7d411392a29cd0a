"""Settings for several servers: api_url lists from every source, batch_size, max_in_flight."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipvi_tui.config import ConfigError, Settings, load_settings
from clipvi_tui.core.server_specs import ServerSpec


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_one_url_is_one_server_with_the_defaults() -> None:
    s = load_settings({"api_url": ["http://a:1"]}, env={})
    assert s.api_url == "http://a:1"
    assert s.server_specs() == [ServerSpec("http://a:1", 8, 3)]


def test_a_yaml_list_with_per_server_settings(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.yaml",
        "api_url:\n  - http://a:1\n  - url: http://gpu:2\n    batch_size: 32\n"
        "batch_size: 4\nmax_in_flight: 2\n",
    )
    s = load_settings({"config": cfg}, env={})
    assert s.api_url == "http://a:1", "the first server is the one single-server code sees"
    assert s.server_specs() == [ServerSpec("http://a:1", 4, 2), ServerSpec("http://gpu:2", 32, 2)]


def test_the_environment_takes_commas_and_the_command_line_repeats() -> None:
    env = {"CLIPVI_API_URL": "http://a:1, http://b:2", "CLIPVI_MAX_IN_FLIGHT": "5"}
    s = load_settings({}, env=env)
    assert [x.url for x in s.server_specs()] == ["http://a:1", "http://b:2"]
    assert {x.max_in_flight for x in s.server_specs()} == {5}
    cli = load_settings({"api_url": ["http://c:3", "http://d:4,http://e:5"]}, env=env)
    assert [x.url for x in cli.server_specs()] == ["http://c:3", "http://d:4", "http://e:5"]


def test_a_url_set_by_code_replaces_the_list() -> None:
    """The embedded server points api_url at itself: that one server is used alone."""
    s = load_settings({"api_url": ["http://a:1", "http://b:2"]}, env={})
    s.api_url = "http://127.0.0.1:5555"
    assert [x.url for x in s.server_specs()] == ["http://127.0.0.1:5555"]
    assert [x.url for x in s.server_specs("http://a:1")] == ["http://a:1", "http://b:2"]
    assert [x.url for x in Settings(api_url="http://z:9").server_specs()] == ["http://z:9"]


@pytest.mark.parametrize(
    ("cli", "needle"),
    [
        ({"api_url": ["http://a", "ftp://b"]}, "http:// or https://"),
        ({"batch_size": "0"}, "batch_size must be at least 1"),
        ({"max_in_flight": "lots"}, "max_in_flight must be a whole number"),
    ],
)
def test_bad_values_are_named(cli: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings(cli, env={})


def test_a_bad_yaml_entry_is_named(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.yaml", "api_url:\n  - url: http://a\n    batchsize: 3\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings({"config": cfg}, env={})
    cfg = write(tmp_path / "d.yaml", "api_url: 5\n")
    with pytest.raises(ConfigError, match="api_url must be a URL or a list"):
        load_settings({"config": cfg}, env={})
