"""The real inference-sdk client against a deliberately broken server: every bad answer is one
clear error naming the server (and the model where it matters), never a Python message.

The broken server (``tests/support/badserver.py``) stands in for what the real Inference server
never does; the real server's own error answers are covered in ``tests/integration``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from clipvi_tui.core.embeddings import InferenceEmbeddingClient
from clipvi_tui.core.failures import (
    AuthError,
    BadRequest,
    EmbeddingError,
    InvalidResponse,
    ModelUnavailable,
    PromptTooLong,
    RateLimited,
    ServerError,
    ServerTimeout,
)
from tests.support.badserver import BadServer, Reply, ReplyFn, answer_with, hang_after

FRAMES = [np.full((40, 40, 3), 90, np.uint8)] * 3


def status(code: int, message: str, content_type: str = "application/json") -> ReplyFn:
    """Answer every embedding request with HTTP ``code``."""
    body = f'{{"message": "{message}"}}'.encode() if "json" in content_type else message.encode()
    return lambda _req, _up: Reply(code, body, content_type)


CASES: list[tuple[str, ReplyFn, type[EmbeddingError], str]] = [
    ("wrong count", answer_with(16, count_delta=-1), InvalidResponse, "2 vectors for 3 inputs"),
    ("zero-length vectors", answer_with(0), InvalidResponse, "empty (zero-length) vectors"),
    (
        "NaN values",
        lambda req, _up: Reply.embeddings([[float("nan"), 1.0]] * req.count()),
        InvalidResponse,
        "NaN or infinite",
    ),
    (
        "all-zero vectors",
        lambda req, _up: Reply.embeddings([[0.0] * 8] * req.count()),
        InvalidResponse,
        "all-zero vectors",
    ),
    (
        "mixed sizes",
        lambda req, _up: Reply.embeddings([[0.1] * (8 + i) for i in range(req.count())]),
        InvalidResponse,
        "mixed sizes",
    ),
    (
        "malformed JSON",
        lambda _req, _up: Reply(200, b'{"embeddings": [[0.1,'),
        InvalidResponse,
        "text that is not JSON",
    ),
    (
        "an HTML page with 200",
        status(200, "<html><body>Welcome to nginx</body></html>", "text/html"),
        InvalidResponse,
        "an HTML page instead of JSON",
    ),
    (
        "no embeddings key",
        lambda _req, _up: Reply.json({"time": 0.1, "frame_id": None, "predictions": []}),
        InvalidResponse,
        "embeddings",
    ),
    (
        "an HTML 502 from a proxy",
        status(502, "<html>Bad Gateway</html>", "text/html"),
        ServerError,
        "HTTP 502: an HTML page",
    ),
    ("401", status(401, "Unauthorized"), AuthError, "rejected the API key (HTTP 401"),
    ("403", status(403, "Forbidden"), AuthError, "rejected the API key (HTTP 403"),
    ("404", status(404, "Not Found"), BadRequest, "answered HTTP 404"),
    ("413", status(413, "Payload Too Large"), BadRequest, "too large (HTTP 413"),
    ("429", status(429, "slow down"), RateLimited, "rate-limiting requests (HTTP 429"),
    ("500", status(500, "boom"), ServerError, "failed (HTTP 500: boom)"),
    ("503", status(503, "overloaded"), ServerError, "unavailable (HTTP 503: overloaded)"),
    (
        "a model it cannot load",
        status(500, "Model package is broken."),
        ModelUnavailable,
        "cannot load model clip/test-model",
    ),
    (
        "offline without weights",
        status(503, "Internal error. Could not connect to Roboflow API."),
        ModelUnavailable,
        "--model-dir",
    ),
]


@pytest.mark.parametrize(("kind", "call"), [("images", 0), ("texts", 1)])
@pytest.mark.parametrize(("name", "reply", "error", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_answer_is_one_clear_error(
    name: str, reply: ReplyFn, error: type[EmbeddingError], message: str, kind: str, call: int
) -> None:
    with BadServer(reply) as server:
        client = InferenceEmbeddingClient(
            server.url, clip_version="test-model", retries=1, backoff=0.05, timeout=10
        )
        with pytest.raises(EmbeddingError) as info:
            if call == 0:
                client.embed_images(FRAMES)
            else:
                client.embed_texts(["a", "b", "c"])
        client.close()
    err = info.value
    text = str(err)
    assert isinstance(err, error), f"{name}: {type(err).__name__}: {text}"
    assert message in text, text
    assert server.url in text, "the message names the server"
    assert "\n" not in text and "Traceback" not in text
    for python_noise in ("KeyError", "TypeError", "JSONDecodeError", "request_data"):
        assert python_noise not in text, text


def test_a_4xx_on_text_names_status_and_url_not_the_token_limit() -> None:
    """A wrong path in api_url answers 404: the message says so, not "77 tokens"."""
    with BadServer(status(404, "Not Found")) as server:
        client = InferenceEmbeddingClient(server.url + "/v1", clip_version="x", retries=0)
        with pytest.raises(BadRequest) as info:
            client.embed_texts(["a dog"])
    assert not isinstance(info.value, PromptTooLong)
    assert f"{server.url}/v1/clip/embed_text answered HTTP 404" in str(info.value)
    assert "77" not in str(info.value)


def test_a_token_limit_answer_is_prompt_too_long() -> None:
    """Only the server's own "too long for the context length" 400 means the prompt is too long
    (aiohttp drops the body, so the client asks again to read it)."""
    reply = status(400, "Error with model input. Cause: Text input is too long for the model")
    with BadServer(reply) as server:
        client = InferenceEmbeddingClient(server.url, clip_version="x", retries=0)
        with pytest.raises(PromptTooLong, match="too long"):
            client.embed_texts(["word " * 100])


def test_a_hung_server_times_out_after_the_configured_time() -> None:
    """Accepting the connection and never answering ends in ``timeout`` seconds, not after
    retries: the message says it timed out and after how long."""
    with BadServer(hang_after(0)) as server:
        client = InferenceEmbeddingClient(server.url, clip_version="x", timeout=1.5, retries=3)
        for call in (lambda: client.embed_images(FRAMES), lambda: client.embed_texts(["a"])):
            with pytest.raises(ServerTimeout, match=r"did not answer within 1\.5 s \(timed out"):
                call()
        client.close()
    assert len(server.embed_requests()) == 2, "a timed-out request is not retried"


def test_one_dimension_per_model_across_answers() -> None:
    dims = iter([16, 16, 8])

    def reply(req: object, _up: object) -> Reply:
        return answer_with(next(dims))(req, None)  # type: ignore[arg-type]

    with BadServer(reply) as server:
        client = InferenceEmbeddingClient(server.url, clip_version="x", retries=0)
        assert client.embed_images(FRAMES).shape == (3, 16)
        assert client.embed_texts(["a"]).shape == (1, 16)
        with pytest.raises(InvalidResponse, match="8-dim vectors for clip/x after 16-dim"):
            client.embed_texts(["b"])


def test_the_api_key_is_never_in_a_message_or_a_url() -> None:
    """A server that echoes the key back in its error: the message shows *** instead; the key
    travelled only in the Authorization header."""
    key = "rf_SECRET_key_123456"
    echo: Callable[[object, object], Reply] = lambda _r, _u: Reply.json(  # noqa: E731
        {"message": f"bad key {key}"}, 500
    )
    with BadServer(echo) as server:
        client = InferenceEmbeddingClient(server.url, api_key=key, clip_version="x", retries=0)
        with pytest.raises(ServerError) as info:
            client.embed_texts(["a"])
    assert key not in str(info.value) and "***" in str(info.value)
    for req in server.requests:
        assert key not in req.path + req.query, "the key travelled in a URL"
        assert key not in req.body.decode("utf-8", "replace"), "the key travelled in a body"
    assert any(req.headers.get("Authorization") == f"Bearer {key}" for req in server.requests)
