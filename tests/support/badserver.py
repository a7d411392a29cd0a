"""A deliberately misbehaving Inference server: it stands for a broken or hostile server.

Where the real server can run, tests use it. This stands in only for what the real server never
does: vectors of the wrong dimension or count, malformed JSON, HTML error pages, hangs, every
HTTP error status. With ``upstream`` set it forwards to the real server and changes only what
its ``reply`` function changes (e.g. a different model under the same name).

Every request is recorded (path, query, headers, body) so a test can check what went over the
wire — counts, and that an API key never travelled in a URL.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (None if it is not JSON)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def count(self) -> int:
        """How many images or texts the request carries."""
        doc = self.json() or {}
        item = doc.get("image", doc.get("text")) if isinstance(doc, dict) else None
        return len(item) if isinstance(item, list) else 1


@dataclass
class Reply:
    """What to answer: status, body, content type; ``hang`` never answers."""

    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    hang: bool = False

    @classmethod
    def json(cls, doc: Any, status: int = 200) -> Reply:
        """A JSON reply."""
        return cls(status, json.dumps(doc).encode())

    @classmethod
    def embeddings(cls, rows: list[list[float]]) -> Reply:
        """The shape the real server answers /clip/embed_* with."""
        return cls.json({"embeddings": rows, "time": 0.01, "frame_id": None})


# reply(request, upstream_reply) -> Reply; upstream_reply is None without an upstream.
ReplyFn = Callable[[Request, "Reply | None"], Reply]


def vectors(n: int, dim: int, value: float = 0.1) -> list[list[float]]:
    """``n`` rows of ``dim`` numbers (distinct per row so nothing looks like a copy)."""
    return [[value + 0.001 * i + 0.0001 * j for j in range(dim)] for i in range(n)]


def answer_with(dim: int = 16, count_delta: int = 0) -> ReplyFn:
    """Answer embedding requests with ``dim``-wide vectors, ``count_delta`` rows off."""

    def reply(req: Request, _up: Reply | None) -> Reply:
        return Reply.embeddings(vectors(max(0, req.count() + count_delta), dim))

    return reply


@dataclass
class BadServer:
    """A loopback HTTP server whose embedding answers come from ``reply``.

    ``/info`` answers like the real server unless ``info`` says otherwise, so "something
    listens here" checks pass and only the embedding requests misbehave.
    """

    reply: ReplyFn
    upstream: str | None = None
    info: Reply | None = None
    port: int = 0
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                path, _, query = self.path.partition("?")
                body = b""
                if self.command == "POST":
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                req = Request(self.command, path, query, dict(self.headers.items()), body)
                server.requests.append(req)
                if path == "/info":
                    out = server.info or Reply.json(
                        {"name": "Roboflow Inference Server", "version": "test"}
                    )
                else:
                    upstream = server._forward(req) if server.upstream else None
                    out = server.reply(req, upstream)
                if out.hang:
                    # Hold the connection open without answering until the test ends.
                    server._stop.wait(600)
                    return
                self.send_response(out.status)
                self.send_header("Content-Type", out.content_type)
                self.send_header("Content-Length", str(len(out.body)))
                self.end_headers()
                self.wfile.write(out.body)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True  # restart on the same port at once
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients that give up (timeouts, Ctrl-C) reset connections: expected

        self._server = Server(("127.0.0.1", self.port), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll keeps shutdown() quick (the default 0.5 s adds up over many tests).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _forward(self, req: Request) -> Reply:
        """Send ``req`` to the upstream (real) server and return its answer."""
        assert self.upstream is not None
        headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host",)}
        url = self.upstream.rstrip("/") + req.path + (f"?{req.query}" if req.query else "")
        r = urllib.request.Request(url, data=req.body or None, headers=headers, method=req.method)
        try:
            with urllib.request.urlopen(r, timeout=60) as resp:
                return Reply(resp.status, resp.read(), resp.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read(), err.headers.get("Content-Type", ""))

    def __enter__(self) -> BadServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def embed_requests(self) -> list[Request]:
        """The requests that asked for embeddings."""
        return [r for r in self.requests if r.path.startswith("/clip/")]


def hang_after(seconds: float) -> ReplyFn:
    """Answer nothing at all (the connection stays open) — a hung server."""

    def reply(_req: Request, _up: Reply | None) -> Reply:
        time.sleep(seconds)
        return Reply(hang=True)

    return reply
