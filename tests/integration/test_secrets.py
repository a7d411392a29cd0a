"""The Roboflow API key never leaks: not to stdout, stderr, logs, exports, the cache files, the
screen or any URL — against the real server, a server that rejects it (401) and an address where
nothing listens. And the server binds to this machine only unless told otherwise.

The key is given the way users give it (``ROBOFLOW_API_KEY`` and ``roboflow_api_key:`` in
config.yaml); every byte that leaves the process is searched for it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from clipvi_tui.server.serve import free_port
from tests.conftest import REPO, InferenceServer
from tests.support.badserver import BadServer, Reply, Request
from tests.support.faults import cli_options, clipvi, forward, stderr_lines, wait_until
from tests.support.tmux import in_toasts, private_tmux, wait_screen

pytestmark = pytest.mark.integration

KEY = "rf_sEcReT_9f8e7d6c5b4a"


def run_with_key(args: list[str], cwd: Path, *, via: str) -> subprocess.CompletedProcess[str]:
    """Run ``clipvi-tui ARGS`` with the key in the environment or in ./config.yaml."""
    env = dict(os.environ)
    if via == "env":
        env["ROBOFLOW_API_KEY"] = KEY
    else:
        (cwd / "config.yaml").write_text(f"roboflow_api_key: {KEY}\n", encoding="utf-8")
    return subprocess.run(
        clipvi(*args), capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def assert_no_key_in_files(*folders: Path) -> None:
    """Search every file under ``folders`` (cache, exports, logs) byte for byte."""
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "config.yaml":
                assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"


def assert_no_key_on_the_wire(server: BadServer) -> None:
    """The key travelled only in the Authorization header: never in a URL or a body."""
    assert server.requests, "nothing reached the server"
    for req in server.requests:
        assert KEY not in req.path + "?" + req.query, f"the key is in the URL {req.path}"
        assert KEY.encode() not in req.body, f"the key is in the body of {req.path}"
    embeds = [r for r in server.requests if r.path.startswith("/clip/")]
    assert all(r.headers.get("Authorization") == f"Bearer {KEY}" for r in embeds)


@pytest.mark.parametrize("via", ["env", "config"])
def test_the_key_stays_secret_with_the_real_server(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path, via: str
) -> None:
    cache, out_dir = tmp_path / "cache", tmp_path / "out"
    out_dir.mkdir()
    with BadServer(forward, upstream=inference_server.url) as server:
        common = cli_options(server.url, cache, "-p", "red")
        runs = [
            run_with_key(["index", str(coded_video), *common], tmp_path, via=via),
            run_with_key(["export", str(coded_video), *common], tmp_path, via=via),
            run_with_key(
                ["export", str(coded_video), *common, "-o", str(out_dir / "s.json")],
                tmp_path,
                via=via,
            ),
        ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert KEY not in run.stdout and KEY not in run.stderr
    assert (out_dir / "s.json").stat().st_size > 0
    assert_no_key_on_the_wire(server)
    assert_no_key_in_files(cache, out_dir, Path(os.environ["HOME"]))


def echo_key_401(req: Request, _up: Reply | None) -> Reply:
    """A server that rejects the key and quotes it back in its error message."""
    return Reply.json({"message": f"invalid key {req.headers.get('Authorization', '')}"}, 401)


def test_the_key_stays_secret_when_the_server_rejects_it(coded_video: Path, tmp_path: Path) -> None:
    with BadServer(echo_key_401) as server:
        run = run_with_key(
            [
                "export",
                str(coded_video),
                "--api-url",
                server.url,
                "--server",
                "external",
                "--cache-dir",
                str(tmp_path / "cache"),
                "-p",
                "red",
            ],
            tmp_path,
            via="env",
        )
    assert run.returncode == 2, run.stderr
    [line] = stderr_lines(run.stderr)
    assert "rejected the API key (HTTP 401" in line and "***" in line
    assert KEY not in run.stdout + run.stderr
    assert_no_key_on_the_wire(server)
    assert_no_key_in_files(tmp_path / "cache")


def test_the_key_stays_secret_when_nothing_listens(coded_video: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = run_with_key(
        ["index", str(coded_video), "--api-url", url, "--server", "external", "-p", "red"],
        tmp_path,
        via="config",
    )
    assert run.returncode == 3, run.stderr
    assert "cannot reach the Inference server" in run.stderr
    assert KEY not in run.stdout + run.stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_the_key_is_not_on_the_screen(coded_video: Path, tmp_path: Path) -> None:
    """The app against a server that rejects the key (and quotes it): the notification says the
    key was rejected; the key itself is nowhere on the screen."""
    with BadServer(echo_key_401) as server, private_tmux("clipvi-secrets") as tmux:
        cmd = clipvi(
            str(coded_video),
            "-p",
            "red",
            "--api-url",
            server.url,
            "--server",
            "external",
            "--graphics",
            "halfcell",
            "--cache-dir",
            str(tmp_path / "cache"),
        )
        tmux.start(f"cd {shlex.quote(str(tmp_path))} && ROBOFLOW_API_KEY={KEY} {shlex.join(cmd)}")
        text = wait_screen(
            tmux, lambda s: in_toasts("rejected the API key (HTTP 401", s), 60, "the 401 notice"
        )
        assert in_toasts("invalid key Bearer ***", text), "the echoed key is masked"
        wait_until(lambda: len(server.requests) >= 2, 10, "requests")
        assert KEY not in text and KEY not in tmux.run("capture-pane", "-p", "-S", "-200")
        tmux.keys("q")
    assert_no_key_on_the_wire(server)


def test_committed_config_holds_no_key() -> None:
    doc = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    assert not doc.get("roboflow_api_key") and not doc.get("api_key")


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A = LISTEN
                found.add(addr)
    return found


def test_serve_binds_loopback_by_default(inference_server: InferenceServer) -> None:
    """The session's server was started as users start it (``clipvi-tui serve``): it listens on
    127.0.0.1 only, never on every interface."""
    port = int(inference_server.url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}, "not bound to 127.0.0.1 alone"


def test_serve_warns_when_bound_elsewhere() -> None:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run(
            clipvi("serve", "--host", "0.0.0.0", "--port", str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    lines = stderr_lines(out.stderr)
    assert lines[0].startswith("clipvi-tui: warning: serving on 0.0.0.0, not only this machine")
    assert out.returncode == 2 and "already in use" in lines[-1]
