"""The embedded default server: start ``clipvi-tui serve`` in a subprocess when none is running.

Used when ``server: auto`` (the default), the configured ``api_url`` is on this machine and nothing
answers there, and the server extra is installed. The child binds a free loopback port, lives as
long as the parent, and is stopped on exit (also if the parent dies: it is in its own process
group and is told to terminate from ``atexit``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from clipvi_tui.core.reachability import server_answers

if TYPE_CHECKING:
    from clipvi_tui.config import Settings

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
# The real server takes ≈8–12 s to import and build; leave room for a slow, busy machine.
START_TIMEOUT_S = 120.0


class EmbeddedServerError(Exception):
    """The embedded server could not be started; ``str()`` says why."""


def is_loopback(api_url: str) -> bool:
    """True when ``api_url`` points at this machine."""
    return (urlparse(api_url).hostname or "") in LOOPBACK_HOSTS


def should_start(api_url: str, mode: str) -> bool:
    """Decide whether to start an embedded server for ``api_url`` under ``server: mode``."""
    from clipvi_tui.server.serve import server_extra_installed

    return (
        mode == "auto"
        and is_loopback(api_url)
        and not server_answers(api_url)
        and server_extra_installed()
    )


def die_with_parent() -> None:
    """In a child before exec: ask Linux to SIGTERM it when its parent dies, even by SIGKILL.

    Without this a crashed or killed app would leave a 1.5 GB server running. A no-op where
    prctl is unavailable (the atexit hook still covers normal exits there).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, 15, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class EmbeddedServer:
    """A ``clipvi-tui serve`` child process on a free loopback port."""

    def __init__(
        self,
        model_dir: Path | None,
        clip_version: str,
        log_path: Path | None = None,
    ) -> None:
        """Describe the server to start; call :meth:`start` to run it."""
        from clipvi_tui.server.serve import free_port

        self.model_dir = model_dir
        self.clip_version = clip_version
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Launch the child; returns at once (see :meth:`wait_ready`)."""
        cmd = [
            sys.executable,
            "-m",
            "clipvi_tui",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--clip-version",
            self.clip_version,
        ]
        if self.model_dir is not None:
            cmd += ["--model-dir", str(self.model_dir)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # Ctrl-C in the terminal goes to the app, not the server
            # PDEATHSIG fires when the *thread* that forked exits, so only tie the child to the
            # main thread; a worker thread that started it would otherwise kill it on return.
            preexec_fn=die_with_parent
            if threading.current_thread() is threading.main_thread()
            else None,
        )
        atexit.register(self.stop)

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Block until the server answers.

        Raises:
            EmbeddedServerError: if the child exits or does not answer in time.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                where = f" (see {self.log_path})" if self.log_path else ""
                raise EmbeddedServerError(
                    f"embedded Inference server exited with code {self.process.returncode}{where}"
                )
            if server_answers(self.api_url, timeout=0.5):
                return
            time.sleep(0.25)
        self.stop()
        raise EmbeddedServerError(f"embedded Inference server did not start in {timeout:.0f} s")

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Terminate the child (then kill it if it lingers)."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)


@contextmanager
def serving(
    settings: Settings, say: Callable[[str], object] = print, *, needed: bool = True
) -> Iterator[None]:
    """Start an embedded Inference server for the run if the settings call for one.

    Updates ``settings.api_url`` to point at it, and stops it afterwards. Never with a list of
    servers: there, one that does not answer is set aside and the others do the work. With
    ``needed=False`` (the cache holds everything the run uses, see ``cli.cached``) nothing is
    started or even asked: a fully cached run works with no server at all.
    """
    if (
        not needed
        or len(settings.servers) > 1
        or not should_start(settings.api_url, settings.server)
    ):
        yield
        return
    server = EmbeddedServer(settings.model_dir, settings.clip_version)
    say(
        f"clipvi-tui: no Inference server at {settings.api_url}; starting one on "
        f"{server.api_url} (takes about 10 s)...",
    )
    server.start()
    try:
        server.wait_ready()
        settings.api_url = server.api_url
        yield
    finally:
        server.stop()
