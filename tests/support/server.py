"""Start the real Inference server as a user does (`clipvi-tui serve`), for tests and benches."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from clipvi_tui.core.reachability import server_answers
from clipvi_tui.server.embedded import die_with_parent
from clipvi_tui.server.serve import free_port

START_TIMEOUT = 180.0


class ServerDidNotStart(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""


@dataclass
class LaunchedServer:
    """A ``clipvi-tui serve`` process that may still be starting."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the server answers.

        Raises:
            ServerDidNotStart: with the tail of the server's log.
        """
        deadline = time.monotonic() + timeout
        while not server_answers(self.url, timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise ServerDidNotStart(
                    f"Inference server did not start:\n{self.log.read_text()[-3000:]}"
                )
            time.sleep(0.3)

    def stop(self) -> None:
        """Terminate the server (kill it if it lingers)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def launch_test_server(
    root: Path,
    model_dir: Path,
    version: str,
    extra: dict[str, Path] | None = None,
    env: Mapping[str, str] | None = None,
) -> LaunchedServer:
    """Start serving ``model_dir`` as ``clip/<version>`` (plus ``extra``) on a free port.

    Returns at once; call :meth:`LaunchedServer.wait_ready`. Launching several servers before
    waiting for any lets their ≈10 s start-ups overlap.

    Args:
        root: a private folder for the server's model cache, working directory and log.
        model_dir: the ONNX pair served as ``clip/<version>``.
        version: its CLIP version name.
        extra: more pairs, by version name.
        env: extra environment for the server (e.g. ``CLIP_MAX_BATCH_SIZE``).
    """
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "clipvi_tui",
        "serve",
        "--port",
        str(port),
        "--model-dir",
        str(model_dir),
        "--clip-version",
        version,
    ]
    for name, folder in (extra or {}).items():
        cmd += ["--extra-model", f"{name}={folder}"]
    full_env = dict(os.environ, MODEL_CACHE_DIR=str(root / "model-cache"), **(env or {}))
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=root,
            start_new_session=True,
            preexec_fn=die_with_parent,  # no orphaned server if the caller is killed
        )
    return LaunchedServer(proc, f"http://127.0.0.1:{port}", log)


def start_test_server(
    root: Path, model_dir: Path, version: str, extra: dict[str, Path] | None = None
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Serve ``model_dir`` as ``clip/<version>`` (plus ``extra``) on a free loopback port.

    Returns:
        The process, its base URL and its log file.

    Raises:
        ServerDidNotStart: with the tail of the server's log.
    """
    server = launch_test_server(root, model_dir, version, extra)
    server.wait_ready()
    return server.process, server.url, server.log
