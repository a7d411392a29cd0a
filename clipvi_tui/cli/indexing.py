"""The headless pipeline behind ``clipvi-tui index`` and ``export``: index what is missing, score.

Progress goes to stderr; ``cli.errors`` turns the exceptions into one-line messages and exit
codes. Benchmarks and integration tests call these functions directly.

Before anything is sent, a run that needs the server checks that one answers (failing in two
seconds, not after a minute of retries) and that its model is the one the cache holds under the
same name (:func:`~clipvi_tui.core.validation.verify_model`). Damaged cache entries found on the
way are reported once, as a warning, and embedded again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from clipvi_tui.cli.errors import IndexingFailed, IndexStopped, Interrupted
from clipvi_tui.cli.progress import ProgressBar, cancel_on_sigint
from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import (
    EmbeddingClient,
    ServerUnreachable,
)
from clipvi_tui.core.failures import PromptTooLong, ServerTimeout, probe_server
from clipvi_tui.core.indexer import Indexer, Progress, cached_scores, prompt_vectors
from clipvi_tui.core.prompts import all_parts, ensemble_vectors
from clipvi_tui.core.servers import ServerPool
from clipvi_tui.core.similarity import ScoreTable
from clipvi_tui.core.validation import ModelGate
from clipvi_tui.core.video import VideoInfo, probe

# How long the "is anything there?" check waits before saying the server timed out.
REACHABLE_TIMEOUT_S = 2.0


def make_client(settings: Settings, on_event: Callable[[str], None] | None = None) -> ServerPool:
    """The client the settings describe: a pool over every configured Inference server.

    Args:
        settings: validated settings (``servers``, key, model).
        on_event: told what a user should know about the servers (one set aside, back, a
            smaller batch that works); default: a line on stderr.
    """
    return ServerPool(
        settings.server_specs(),
        api_key=settings.api_key,
        clip_version=settings.clip_version,
        timeout=settings.timeout,
        on_event=on_event or say_on_stderr,
    )


def say_on_stderr(text: str) -> None:
    """Print ``clipvi-tui: text`` on stderr (looked up now: tests replace sys.stderr)."""
    print(f"clipvi-tui: {text}", file=sys.stderr)


def servers_label(client: EmbeddingClient) -> Callable[[], str] | None:
    """A function giving ``servers 2/3`` for a pool's progress line (None for other clients)."""
    health = getattr(client, "health", None)
    if health is None:
        return None

    def label() -> str:
        h = health()
        return f"servers {h.up}/{h.total}"

    return label


@contextmanager
def notes_above(bar: ProgressBar | None, client: EmbeddingClient) -> Iterator[None]:
    """While a bar is drawn, a pool's news goes above it instead of through it."""
    previous = getattr(client, "on_event", None)
    if bar is None or not isinstance(client, ServerPool):
        yield
        return
    client.on_event = lambda text: bar.note(f"clipvi-tui: {text}")
    try:
        yield
    finally:
        client.on_event = previous


def prepare_servers(client: EmbeddingClient) -> None:
    """Before work that needs a server: fail fast when none answers, refuse disagreeing ones.

    Raises:
        ServerUnreachable: if no server answers at all.
        ServerMismatch: if the servers compute different vectors (a pool checks by probe).
    """
    ensure_reachable(client)
    verify = getattr(client, "verify", None)
    if verify is not None:
        verify()


def checked_prompt_vectors(
    client: EmbeddingClient, cache: EmbeddingCache, prompts: list[str]
) -> np.ndarray:
    """Like :func:`prompt_vectors`, but a prompt over the token limit is named in the error.

    Only the server's token-limit answer is reported as one; any other rejection keeps its
    own message (status and URL).

    Raises:
        PromptTooLong: naming the first prompt the server found too long.
    """
    try:
        return prompt_vectors(client, cache, prompts)
    except PromptTooLong as exc:
        for p in prompts:
            try:
                prompt_vectors(client, cache, [p])
            except PromptTooLong:
                short = p if len(p) <= 40 else p[:37] + "..."
                raise PromptTooLong(
                    f"prompt {short!r} was rejected by the server as too long; CLIP prompts "
                    "must fit in 77 tokens (about 50-60 words)",
                    status=exc.status,
                ) from exc
        raise


def ensure_reachable(client: EmbeddingClient) -> None:
    """Fail at once, not after a minute of retries, when no server answers at all.

    Raises:
        ServerUnreachable: if the client has an ``api_url`` and nothing answers there
            (:class:`ServerTimeout` when something accepted the connection but never answered).
    """
    urls = getattr(client, "api_urls", None) or [getattr(client, "api_url", None)]
    urls = [u for u in urls if u]
    if not urls:
        return
    reasons = {}
    for url in urls:
        reason = probe_server(url, timeout=REACHABLE_TIMEOUT_S)
        if reason is None:
            return
        reasons[url] = reason
    where = urls[0] if len(urls) == 1 else f"any of {', '.join(urls)}"
    if all(r.startswith("timed out") for r in reasons.values()):
        raise ServerTimeout(
            f"Inference server at {where} did not answer within {REACHABLE_TIMEOUT_S:g} s "
            "(timed out: something accepts connections there but does not answer)"
        )
    why = reasons[urls[0]] if len(urls) == 1 else "; ".join(f"{u}: {r}" for u, r in reasons.items())
    raise ServerUnreachable(f"cannot reach the Inference server at {where} ({why})")


def warn_damage(cache: EmbeddingCache, say: Callable[[str], object]) -> None:
    """Say once how many damaged cache entries were found (they are embedded again)."""
    damaged = cache.take_damage_report()
    if damaged:
        say(
            f"clipvi-tui: warning: {damaged} damaged entr{'y' if damaged == 1 else 'ies'} in "
            f"the cache at {cache.directory} failed their checksum; treated as missing and "
            "embedded again"
        )


def text_vectors(settings: Settings, client: EmbeddingClient, prompts: list[str]) -> np.ndarray:
    """``[P, D]`` vectors of ``prompts`` (ensembles averaged), cache first.

    Raises:
        ServerUnreachable: if a part is not cached and no server answers.
        BadRequest: naming a part the server rejected.
    """
    texts = all_parts(prompts)
    with EmbeddingCache(settings.cache_dir) as cache:
        found, _ = cache.get_texts(client.model_id, texts)
        if not found.all():
            ensure_reachable(client)
            ModelGate(client, cache).ensure()  # the server's model must be the cached one
        return ensemble_vectors(prompts, lambda parts: checked_prompt_vectors(client, cache, parts))


@dataclass
class IndexResult:
    """What one indexing run did."""

    progress: Progress
    fingerprint: str
    sampled: np.ndarray
    seconds: float
    embedded_now: int
    times: np.ndarray  # seconds of each sampled frame
    info: VideoInfo | None = None  # the video's metadata, as the indexer probed it


def run_index(
    settings: Settings,
    video: Path,
    prompts: list[str],
    *,
    client: EmbeddingClient | None = None,
    stderr: TextIO | None = None,
    quiet: bool = False,
) -> IndexResult:
    """Embed every sampled frame of ``video`` and the prompts, reusing the cache.

    Raises:
        IndexingFailed: when the server fails for good.
        Interrupted: on Ctrl-C (what was embedded stays cached).
        EmbeddingError, VideoError, CacheError: as raised by the core.
    """
    client = client or make_client(settings)
    # An ensemble ("a dog | a puppy") is embedded and cached part by part.
    texts = all_parts(prompts)
    # sys.stderr is looked up now, not at import: tests and callers may have replaced it.
    err = stderr or sys.stderr

    def say(line: str) -> None:
        print(line, file=err, flush=True)

    with EmbeddingCache(settings.cache_dir) as cache:
        gate = ModelGate(client, cache)

        def need_server() -> None:
            if not gate.verified:
                prepare_servers(client)  # one answers; several agree with each other
                gate.ensure()

        bar = None if quiet else ProgressBar(err, video.name, servers=servers_label(client))
        # The video first: a file that is not a video is the user's to fix, before any server.
        indexer = Indexer(
            video,
            client,
            cache,
            sample_fps=settings.sample_fps,
            info=probe(video, cache),
            on_progress=bar.update if bar else None,
        )
        if texts:
            found, _ = cache.get_texts(client.model_id, texts)
            if not found.all():
                need_server()
            checked_prompt_vectors(client, cache, texts)
        warn_damage(cache, say)
        before = indexer.done
        if before < indexer.total:
            need_server()
        t0 = time.monotonic()
        with cancel_on_sigint(indexer), notes_above(bar, client):
            final = indexer.run()
        seconds = time.monotonic() - t0
        warn_damage(cache, say)
        if final.state == "cancelled":
            raise Interrupted(
                f"interrupted: {final.done}/{final.total} frames cached "
                "(a rerun embeds only the rest)"
            )
        if final.state == "failed":
            cause = indexer.last_exception or IndexingFailed(final.error or "indexing failed")
            raise IndexStopped(cause, final.done, final.total)
        return IndexResult(
            final,
            indexer.fingerprint,
            indexer.sampled,
            seconds,
            final.done - before,
            indexer.info.times_of(indexer.sampled),
            indexer.info,
        )


def scores_for(
    settings: Settings,
    video: Path,
    prompts: list[str],
    *,
    client: EmbeddingClient | None = None,
    stderr: TextIO | None = None,
    quiet: bool = False,
) -> ScoreTable:
    """Index what is missing, then score every sampled frame against ``prompts``.

    An ensemble prompt (``a dog | a puppy``) is scored with the normalised mean of its parts.
    """
    client = client or make_client(settings)
    result = run_index(settings, video, prompts, client=client, stderr=stderr, quiet=quiet)
    with EmbeddingCache(settings.cache_dir) as cache:
        texts = ensemble_vectors(prompts, lambda parts: prompt_vectors(client, cache, parts))
        table = cached_scores(
            cache, client, result.fingerprint, result.sampled, prompts, texts, result.times
        )
        warn_damage(cache, lambda line: print(line, file=stderr or sys.stderr, flush=True))
        return table
