"""What can go wrong talking to an Inference server, as exceptions whose ``str()`` is one line.

:func:`classify` turns whatever the SDK, aiohttp or asyncio raised into one of the classes here.
The SDK often loses the server's own explanation (aiohttp keeps only the reason phrase, a 200 with
an HTML body becomes a ``TypeError``, a 503 on images a ``KeyError: 'request_data'``), so when
the cause is not clear from the exception, :func:`diagnose` repeats a tiny text request with
``urllib`` and reads the status, content type and ``message`` of the answer itself. That request
runs only on the error path and carries the API key in a header, never in the URL.

Every message names the server; none contains the API key (:func:`redact` is applied last).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

# Server messages (inference 1.8.3) that mean "this model cannot be loaded here".
_MODEL_MISSING = re.compile(
    r"model package is broken|could not connect to roboflow api|"
    r"roboflow resource not found|invalid model id|model.*not found",
    re.IGNORECASE,
)
# The server's 400 for a prompt over CLIP's 77-token context.
_TOKEN_LIMIT = re.compile(r"context length|too long|77 tokens", re.IGNORECASE)
TEXT_PATH = "/clip/embed_text"
IMAGE_PATH = "/clip/embed_image"


class EmbeddingError(Exception):
    """Base of every embedding failure; ``str()`` is a one-line message for the user.

    Attributes:
        transient: worth retrying later (the app keeps retrying these).
        status: the HTTP status behind it, if there was one.
    """

    transient = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        """Carry ``message`` (one line) and the HTTP ``status``, if any."""
        super().__init__(message)
        self.status = status

    @property
    def http_status(self) -> int | None:
        """The same as :attr:`status` (the server pool halves a batch on a 5xx answer)."""
        return self.status

    @http_status.setter
    def http_status(self, value: int | None) -> None:
        self.status = value


class ServerUnreachable(EmbeddingError):
    """No answer from the server: refused, reset, DNS failure or timeout."""

    transient = True


class ServerTimeout(ServerUnreachable):
    """The server accepted the request but did not answer within the configured timeout.

    Not retried inside one call (a server that hung for ``timeout`` seconds rarely answers the
    next try sooner); the app still retries later, like any unreachable server.
    """


class AuthError(EmbeddingError):
    """The server rejected the API key (HTTP 401/403)."""


class BadRequest(EmbeddingError):
    """The server rejected the request (HTTP 4xx other than 401/403/429)."""


class PromptTooLong(BadRequest):
    """The server rejected a prompt over CLIP's 77-token context (HTTP 400)."""


class ServerError(EmbeddingError):
    """The server failed while handling a valid request (HTTP 5xx)."""

    transient = True


class RateLimited(ServerError):
    """The server asks us to slow down (HTTP 429)."""


class ModelUnavailable(EmbeddingError):
    """The server cannot load the requested CLIP model (unknown version, no weights, offline)."""


class InvalidResponse(EmbeddingError):
    """The server answered, but not with usable embeddings; nothing from it is cached."""


class ModelMismatch(InvalidResponse):
    """The server's model differs from the one the cache holds under the same name."""


class EmbeddingCancelled(EmbeddingError):
    """The request was cancelled because the run is stopping."""


@dataclass(frozen=True)
class Diagnosis:
    """What a server answered to a plain request: status, content type, ``message``."""

    status: int | None
    content_type: str = ""
    message: str = ""
    is_json: bool = True
    reason: str = ""  # set when there was no HTTP answer at all (refused, timed out)


@dataclass(frozen=True)
class RequestContext:
    """Who was asked what, for messages: server URL, model, endpoint, per-request timeout."""

    api_url: str
    model_id: str = ""
    path: str = IMAGE_PATH
    timeout: float | None = None

    @property
    def url(self) -> str:
        """The full URL of the endpoint."""
        return self.api_url.rstrip("/") + self.path


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "***")
    return text


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def diagnose(
    api_url: str,
    api_key: str | None,
    clip_version: str,
    timeout: float = 5.0,
    texts: list[str] | None = None,
) -> Diagnosis:
    """POST a text embedding request with urllib and describe the answer.

    Args:
        api_url: the server.
        api_key: sent as a Bearer header (never in the URL), if any.
        clip_version: the model to ask for.
        timeout: seconds to wait for the answer.
        texts: the texts of the request that failed (so a 400 says why); a one-word probe
            when None (for failed image requests: is the model there at all?).
    """
    import urllib.error
    import urllib.request

    payload = texts if texts else "probe"
    body = json.dumps({"text": payload, "clip_version_id": clip_version}).encode()
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(
        api_url.rstrip("/") + "/clip/embed_text", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return _describe(resp.status, resp.headers.get("Content-Type", ""), resp.read(4096))
    except urllib.error.HTTPError as err:
        return _describe(err.code, err.headers.get("Content-Type", ""), err.read(4096))
    except (TimeoutError, OSError, ValueError) as exc:
        reason = "timed out" if "timed out" in str(exc) else one_line(str(exc), 80)
        return Diagnosis(None, reason=reason)


def _describe(status: int, content_type: str, raw: bytes) -> Diagnosis:
    text = raw.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except ValueError:
        html = "<html" in text[:500].lower() or "<!doctype" in text[:500].lower()
        kind = "an HTML page instead of JSON" if html else "text that is not JSON"
        return Diagnosis(status, content_type, kind, is_json=False)
    message = doc.get("message", "") if isinstance(doc, dict) else ""
    return Diagnosis(status, content_type, one_line(str(message or "")), is_json=True)


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status carried by an SDK or aiohttp error (or its cause), if any."""
    seen: BaseException | None = exc
    for _ in range(3):
        if seen is None:
            break
        for attr in ("status_code", "status"):
            value = getattr(seen, attr, None)
            if isinstance(value, int):
                return value
        seen = seen.__cause__
    return None


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, concurrent.futures.TimeoutError)):
        return True
    name = type(exc).__name__
    cause = exc.__cause__
    return (
        "Timeout" in name or "timed out" in str(exc) or (cause is not None and _is_timeout(cause))
    )


def _is_connection_error(exc: BaseException) -> bool:
    name = type(exc).__name__
    cause = exc.__cause__
    return (
        "Connection" in name
        or isinstance(exc, OSError)
        or (cause is not None and _is_connection_error(cause))
    )


def classify(
    exc: BaseException,
    ctx: RequestContext,
    diagnosis: Callable[[], Diagnosis] | None = None,
) -> EmbeddingError:
    """Translate an SDK/aiohttp/asyncio failure into an :class:`EmbeddingError`.

    Args:
        exc: what was raised.
        ctx: the request's server, model and timeout, for the message.
        diagnosis: repeats a plain request when ``exc`` alone does not say what happened.
    """
    if isinstance(exc, EmbeddingError):
        return exc
    if isinstance(exc, (asyncio.CancelledError, concurrent.futures.CancelledError)):
        return EmbeddingCancelled(f"request to {ctx.api_url} cancelled")
    if _is_timeout(exc):
        waited = f" within {ctx.timeout:g} s" if ctx.timeout else " in time"
        return ServerTimeout(
            f"Inference server at {ctx.api_url} did not answer{waited} (timed out; "
            "raise `timeout:` in config.yaml or --timeout if it is just slow)"
        )
    status = _status_of(exc)
    message = _api_message(exc)
    if status is None and _is_connection_error(exc):
        return ServerUnreachable(f"cannot reach the Inference server at {ctx.api_url}")
    if diagnosis is not None and (
        status is None or status == 200 or status >= 500 or not _informative(status, message)
    ):
        # The SDK lost the real answer: a parse error, a retry give-up without a status, or an
        # error status whose body (the server's reason) aiohttp threw away.
        found = diagnosis()
        if found.status is None:
            if found.reason == "timed out":
                return classify(TimeoutError(), ctx)
            return ServerUnreachable(
                f"cannot reach the Inference server at {ctx.api_url} ({found.reason})"
            )
        if (status in (None, 200) or found.status == status) and (
            found.status != 200 or not found.is_json
        ):
            status = found.status
            message = found.message
    if status is None or status == 200:
        # Never Python's own words (KeyError: 'embeddings'): say what the answer looked like.
        detail = f"HTTP 200 with {message}" if message else "an answer that holds no embeddings"
        return InvalidResponse(
            f"Inference server at {ctx.api_url} did not answer with valid embeddings ({detail}): "
            "is api_url the address of an Inference server?",
            status=status,
        )
    return from_status(status, message, ctx)


def from_status(status: int, message: str, ctx: RequestContext) -> EmbeddingError:
    """The error for an HTTP ``status`` with the server's ``message``."""
    detail = f"HTTP {status}" + (f": {message}" if message else "")
    where = f"Inference server at {ctx.api_url}"
    if _MODEL_MISSING.search(message or ""):
        return ModelUnavailable(
            f"{where} cannot load model {ctx.model_id or '?'} ({detail}): check clip_version; "
            "a local server needs the model's files (--model-dir DIR, or model_dir: in "
            "config.yaml) or internet access to download them",
            status=status,
        )
    if status in (401, 403):
        return AuthError(
            f"{where} rejected the API key ({detail}): check roboflow_api_key in config.yaml "
            "or ROBOFLOW_API_KEY",
            status=status,
        )
    if status == 429:
        return RateLimited(f"{where} is rate-limiting requests ({detail})", status=status)
    if status == 400 and ctx.path == TEXT_PATH and _TOKEN_LIMIT.search(message or ""):
        return PromptTooLong(f"{where} rejected a prompt ({detail})", status=status)
    if status in (404, 405):
        return BadRequest(
            f"{ctx.url} answered {detail}: is api_url the Inference server's base address "
            "(like http://localhost:9001)?",
            status=status,
        )
    if status == 413:
        return BadRequest(f"{ctx.url} refused the request as too large ({detail})", status=status)
    if 400 <= status < 500:
        return BadRequest(f"{ctx.url} rejected the request ({detail})", status=status)
    if status == 503:
        return ServerError(f"{where} is unavailable ({detail})", status=status)
    return ServerError(f"{where} failed ({detail})", status=status)


def _informative(status: int, message: str) -> bool:
    """True when ``message`` says more than the standard reason phrase of ``status``."""
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return bool(message) and message.strip().lower() != phrase.lower()


def _api_message(exc: BaseException) -> str:
    """The server's own explanation, if the SDK kept one that says more than the reason."""
    msg = getattr(exc, "api_message", None)
    if isinstance(msg, str) and msg.strip():
        return one_line(msg)
    return ""


def probe_server(api_url: str, timeout: float = 2.0) -> str | None:
    """Why nothing usable answers at ``api_url`` — None when something speaks HTTP there.

    Returns:
        None, or a short reason: ``connection refused``, ``timed out after 2 s``, ….
    """
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/info", timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None  # it speaks HTTP; the embedding request will tell what is wrong
    except (TimeoutError, OSError, ValueError) as exc:
        text = str(getattr(exc, "reason", exc))
        if "timed out" in text or isinstance(exc, TimeoutError):
            return f"timed out after {timeout:g} s"
        if "refused" in text.lower():
            return "connection refused"
        return one_line(text, 80)
