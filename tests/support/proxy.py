"""A loopback HTTP proxy that counts requests by path on their way to the real server.

Counting on the wire, not inside the client, is what proves that a cached run sent nothing.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CountingProxy:
    """Forwards every request to ``upstream`` and counts paths in :attr:`counts`.

    Stopping it and starting another on the same ``port`` looks, to a client, exactly like the
    server going down and coming back.
    """

    def __init__(self, upstream: str, port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.counts: Counter[str] = Counter()
        self.image_batches: list[int] = []  # images carried by each /clip/embed_image request
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                path = self.path.split("?")[0]
                proxy.counts[path] += 1
                body = None
                if self.command == "POST":
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    if path == "/clip/embed_image":
                        proxy._record_batch(body)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                req = urllib.request.Request(
                    proxy.upstream + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        status, payload, ctype = resp.status, resp.read(), resp.headers
                except urllib.error.HTTPError as err:
                    status, payload, ctype = err.code, err.read(), err.headers
                self.send_response(status)
                self.send_header("Content-Type", ctype.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _forward
            do_POST = _forward

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True  # restart on the same port at once
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def images_sent(self) -> int:
        """Requests that carried images."""
        return self.counts["/clip/embed_image"]

    def _record_batch(self, body: bytes) -> None:
        """Note how many images one request carried (a list, or a single image)."""
        try:
            image = json.loads(body).get("image")
        except (ValueError, AttributeError):
            return
        with self._lock:
            self.image_batches.append(len(image) if isinstance(image, list) else 1)
