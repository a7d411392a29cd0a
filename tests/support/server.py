"""Start the real Inference server as a user does (`clipvi-tui serve`), for tests and benches."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from clipvi_tui.core.embeddings import server_answers
from clipvi_tui.server.embedded import die_with_parent
from clipvi_tui.server.serve import free_port

START_TIMEOUT = 180.0


class ServerDidNotStart(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""


def start_test_server(
    root: Path, model_dir: Path, version: str, extra: dict[str, Path] | None = None
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Serve ``model_dir`` as ``clip/<version>`` (plus ``extra``) on a free loopback port.

    Returns:
        The process, its base URL and its log file.

    Raises:
        ServerDidNotStart: with the tail of the server's log.
    """
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
    env = dict(os.environ, MODEL_CACHE_DIR=str(root / "model-cache"))
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
            start_new_session=True,
            preexec_fn=die_with_parent,  # no orphaned server if the caller is killed
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while not server_answers(url, timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise ServerDidNotStart(f"Inference server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    return proc, url, log
