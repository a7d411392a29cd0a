"""The command line without a server: help, version, and bad input → one line, right exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clipvi_tui.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real entry point the way a user does."""
    return subprocess.run(
        [sys.executable, "-m", "clipvi_tui", *args], capture_output=True, text=True, timeout=120
    )


def test_help_and_version() -> None:
    assert run("--version").stdout.startswith("clipvi-tui ")
    out = run("export", "--help")
    assert out.returncode == 0 and "--format" in out.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["index", "missing.mp4"], 2, "video not found"),
        (["export", "missing.mp4"], 2, "video not found"),
        (["export"], 2, "no video given"),
        (["index", "x.mp4", "--sample-fps", "fast"], 2, "sample_fps"),
        (["index", "x.mp4", "--config", "nope.yaml"], 2, "config file not found"),
        (["index", "x.mp4", "--api-url", "localhost:9001"], 2, "api_url"),
        (["--frobnicate"], 2, "unrecognized arguments"),
        (["serve", "--model-dir", "/nonexistent"], 2, "model dir not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], code: int, message: str) -> None:
    out = run(*args)
    assert out.returncode == code, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("clipvi-tui:")]
    assert len(lines) == 1 or out.stderr.startswith("usage:"), out.stderr


def test_not_a_video_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("hello")
    out = run("index", str(junk))
    assert out.returncode == 2 and "cannot open video" in out.stderr
    assert "Traceback" not in out.stderr


def test_export_needs_a_prompt(coded_video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(coded_video)]) == 2
    assert "at least one prompt" in capsys.readouterr().err


def test_unreachable_server_exits_3(coded_video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clipvi_tui.server.serve import free_port

    url = f"http://127.0.0.1:{free_port()}"
    code = main(["index", str(coded_video), "--api-url", url, "--server", "external"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "cannot reach the Inference server" in err and "Traceback" not in err


def test_serve_reports_a_taken_port() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = run("serve", "--port", str(port))
    assert out.returncode == 2 and "already in use" in out.stderr


BLOCK_SERVER = (
    "import sys; sys.modules['inference'] = None; "
    "from clipvi_tui.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_serve_without_the_server_extra_says_how_to_get_it() -> None:
    out = subprocess.run(
        [sys.executable, "-c", BLOCK_SERVER, "serve"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert "pip install 'clipvi-tui[server]'" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "high"], "--threshold wants auto, a number or PROMPT=VALUE"),
        (["--threshold", "nope=0.3"], "which is not one of the prompts"),
        (["--smooth", "-1"], "smooth_s must be 0 or more"),
        (["--view", "cosine"], "invalid choice"),
        (["--segments", "--spikes"], "not allowed with"),
    ],
)
def test_bad_moment_options_are_one_line_and_exit_2(
    coded_video: Path, args: list[str], message: str
) -> None:
    out = run("export", str(coded_video), "-p", "a dog", *args)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "a dog"], "needs a query and at least one video"),
        (["search", "a dog", "missing.mp4"], "video not found"),
        (["search", "--like", "clip.mp4", "x.mp4"], "--like wants VIDEO@SECONDS"),
        (["search", "--like", "missing.mp4@3", "x.mp4"], "video not found"),
        (["search", "--like", "{video}@1:xx", "{video}"], "--like wants VIDEO@SECONDS"),
        (["search", "a dog", "{video}", "-k", "0"], "-k must be at least 1"),
        (["search", "a dog", "{video}", "--view", "softmax"], "add -p PROMPT"),
        (["search", "--like", "{video}@1", "{video}", "--view", "baseline"], "use --view raw"),
    ],
)
def test_bad_search_input_is_one_line_and_exit_2(
    coded_video: Path, args: list[str], message: str
) -> None:
    out = run(*[a.replace("{video}", str(coded_video)) for a in args])
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr


def test_parse_clock() -> None:
    from clipvi_tui.cli.moments import parse_clock

    assert parse_clock("12.5") == 12.5 and parse_clock("1:02.5") == 62.5
    assert parse_clock("1:00:03") == 3603
    for bad in ("", "a", "1::2", "-3", "1:2:3:4"):
        with pytest.raises(ValueError):
            parse_clock(bad)
