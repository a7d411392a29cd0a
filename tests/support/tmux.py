"""A private tmux server for end-to-end tests of the real app in a real terminal."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Tmux:
    """One detached session on a private tmux server (never the user's)."""

    def __init__(self, name: str) -> None:
        self.socket = name
        self.session = name

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def start(self, command: str, width: int = 120, height: int = 40) -> None:
        self.run("new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height))
        self.run("send-keys", "-t", self.session, command, "Enter")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def screen(self, colours: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if colours else []), "-t", self.session)

    def kill(self) -> None:
        self.run("kill-server")


@contextmanager
def private_tmux(name: str = "clipvi-e2e") -> Iterator[Tmux]:
    """A private tmux server (named after this process), killed afterwards."""
    t = Tmux(f"{name}-{os.getpid()}")
    try:
        yield t
    finally:
        t.kill()


def wait_screen(tmux: Tmux, predicate: Callable[[str], Any], timeout: float, what: str) -> str:
    """Poll the pane until ``predicate(text)`` holds; fail showing the screen otherwise."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = tmux.screen()
        if predicate(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; screen was:\n{text}")


def toasts(screen: str) -> str:
    """The text of Textual's notifications on the screen, as one line.

    Notifications are drawn over the right of the screen, each line starting with ``▌``; their
    lines are joined so a message wrapped over several lines can be searched as a sentence.
    """
    parts = [line.rsplit("▌", 1)[1] for line in screen.splitlines() if "▌" in line]
    # What lies right of a toast line is the border of whatever it covers: any box-drawing
    # characters (U+2500-U+257F: │ ┬ ╯ ─ …), never text.
    return " ".join(re.sub(r"[\u2500-\u257f]+\s*$", "", p).strip() for p in parts)


def in_toasts(needle: str, screen: str) -> bool:
    """True when a notification on ``screen`` says ``needle`` (wrapping ignored, even mid-word)."""
    return "".join(needle.split()) in "".join(toasts(screen).split())
