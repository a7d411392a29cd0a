"""Settings: precedence, original keys, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipvi_tui.config import ConfigError, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_without_any_config() -> None:
    s = load_settings({}, env={})
    assert s.api_url == "http://localhost:9001" and s.clip_version == "ViT-B-16"
    assert s.sample_fps == 5.0 and s.server == "auto" and s.prompts == []


def test_original_keys_are_read_and_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "config.yaml",
        "roboflow_api_key: KEY\nvideo_path: clips/a.mp4\nCLIP:\n  - chair\n  - couch\n  - chair\n",
    )
    s = load_settings({"config": cfg}, env={})
    assert s.api_key == "KEY" and s.prompts == ["chair", "couch"]
    assert s.video_path == tmp_path / "clips" / "a.mp4"


def test_precedence_cli_over_env_over_file(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.yaml", "api_url: http://file:1\nsample_fps: 2\nclip_version: F\n")
    env = {"CLIPVI_API_URL": "http://env:2", "CLIPVI_SAMPLE_FPS": "all"}
    s = load_settings({"config": cfg, "api_url": "http://cli:3"}, env=env)
    assert s.api_url == "http://cli:3" and s.sample_fps is None and s.clip_version == "F"


def test_dot_config_yaml_is_found_in_the_working_directory() -> None:
    write(Path("config.yaml"), "CLIP: [dog]\n")
    assert load_settings({}, env={}).prompts == ["dog"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("api_url: ftp://x\n", "api_url"),
        ("sample_fps: fast\n", "sample_fps"),
        ("graphics: vga\n", "graphics"),
        ("CLIP: 5\n", "CLIP"),
        ("- just\n- a list\n", "mapping"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_values_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    cfg = write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError, match=message):
        load_settings({"config": cfg}, env={})


def test_missing_explicit_config() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings({"config": "nope.yaml"}, env={})


def test_autoplay_and_restore_session_from_file_and_env(tmp_path: Path) -> None:
    """``autoplay`` and ``restore_session`` default on; the file and ``CLIPVI_AUTOPLAY`` turn
    them off; a value that is not a yes/no names the key."""
    assert load_settings({}, env={}).autoplay is True
    cfg = write(tmp_path / "c.yaml", "autoplay: false\nrestore_session: no\n")
    s = load_settings({"config": cfg}, env={})
    assert s.autoplay is False and s.restore_session is False
    assert load_settings({}, env={"CLIPVI_AUTOPLAY": "0"}).autoplay is False
    with pytest.raises(ConfigError, match="autoplay"):
        load_settings({"config": write(tmp_path / "d.yaml", "autoplay: sometimes\n")}, env={})


def test_an_unknown_key_is_a_warning_naming_the_closest_known_one(tmp_path: Path) -> None:
    """A typo no longer stops the run: the key is ignored, and the warning says what was meant."""
    cfg = write(tmp_path / "c.yaml", "sampel_fps: 2\nclip_version: X\ncolour: red\n")
    s = load_settings({"config": cfg}, env={})
    assert s.clip_version == "X" and s.sample_fps == 5.0, "known keys still apply"
    assert len(s.warnings) == 2, s.warnings
    assert "unknown key 'sampel_fps' ignored (did you mean 'sample_fps'?)" in s.warnings[0]
    assert "unknown key 'colour' ignored" in s.warnings[1]
