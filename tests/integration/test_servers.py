"""Several real Inference servers behind one pool: spreading, failing over, adapting, refusing.

Requests are counted on the wire by a proxy in front of each server. Results are compared,
vector for vector, with what one server alone produces.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import ServerUnreachable
from clipvi_tui.core.indexer import Indexer, Progress
from clipvi_tui.core.server_specs import ServerSpec
from clipvi_tui.core.servers import ServerMismatch, ServerPool
from clipvi_tui.server.serve import free_port
from tests.integration.conftest import Fleet
from tests.support.proxy import CountingProxy
from tests.support.videos import write_coded_video

pytestmark = pytest.mark.integration


def pool_of(*urls: str, version: str = "tiny-test", events: list[str] | None = None, **kw):
    specs = [ServerSpec(u, kw.pop("batch_size", 8), kw.pop("max_in_flight", 2)) for u in urls]
    return ServerPool(
        specs, clip_version=version, on_event=None if events is None else events.append, **kw
    )


def index_all(video: Path, pool: ServerPool, cache_dir: Path, on_progress=None) -> Progress:
    with EmbeddingCache(cache_dir) as cache:
        return Indexer(video, pool, cache, sample_fps=None, on_progress=on_progress).run()


def vectors(cache_dir: Path, video: Path, pool: ServerPool) -> tuple[np.ndarray, np.ndarray]:
    from clipvi_tui.core.video import fingerprint, probe

    with EmbeddingCache(cache_dir) as cache:
        fp = fingerprint(video, probe(video))
        return cache.frame_matrix(fp, pool.model_id, pool.preprocess_tag)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 distinct frames (each shows its own index)."""
    return write_coded_video(tmp_path_factory.mktemp("v") / "coded.mp4", frames=120)


@pytest.fixture(scope="module")
def reference(
    video: Path, fleet: Fleet, tmp_path_factory: pytest.TempPathFactory
) -> tuple[np.ndarray, np.ndarray]:
    """Every frame's vector as the session's one server computes it."""
    cache_dir = tmp_path_factory.mktemp("reference")
    pool = pool_of(fleet.main.url)
    assert index_all(video, pool, cache_dir).state == "done"
    return vectors(cache_dir, video, pool)


def test_both_servers_get_image_requests_and_the_vectors_match_one_server(
    fleet: Fleet, video: Path, reference, tmp_path: Path
) -> None:
    with CountingProxy(fleet.main.url) as a, CountingProxy(fleet.second.url) as b:
        pool = pool_of(a.url, b.url)
        final = index_all(video, pool, tmp_path / "cache")
    assert final.state == "done" and final.done == 120
    # Each server embedded the 1-image probe, then real batches.
    for name, proxy in (("first", a), ("second", b)):
        real = proxy.image_batches[1:]
        assert real and sum(real) > 0, f"the {name} server got no image requests: {proxy.counts}"
    assert sum(a.image_batches) + sum(b.image_batches) == 120 + 2, "each frame sent once"
    idx, vecs = vectors(tmp_path / "cache", video, pool)
    assert np.array_equal(idx, reference[0])
    assert np.array_equal(vecs, reference[1]), "two servers must give one server's vectors"


def test_a_server_killed_mid_index_leaves_the_run_to_the_other(
    fleet: Fleet, video: Path, reference, tmp_path: Path
) -> None:
    """SIGKILL the victim while the pool has one of its requests out (after it has answered at
    least one): that request fails, the victim is set aside, and the run completes on the other."""
    events: list[str] = []
    pool = pool_of(fleet.victim.url, fleet.main.url, events=events)
    pool.verify()  # both probed: the victim has loaded its model and is as quick as the other
    killed: list[int] = []
    victim_down = threading.Event()
    victim_client, main_client = pool._members[0].client, pool._members[1].client
    victim_answer, main_answer = victim_client.embed_images, main_client.embed_images

    def kill_on_a_request_after_an_answer(frames: list[np.ndarray]) -> np.ndarray:
        # The pool has handed this request to the victim; the server dies before it can answer.
        # Done in the request's own path: a watcher thread polling the pool's health missed the
        # moment on a loaded machine.
        if not killed and pool.health().servers[0].images > 0:
            os.killpg(fleet.victim.process.pid, signal.SIGKILL)
            fleet.victim.process.wait(10)
            killed.append(pool.health().servers[0].images)
            victim_down.set()
        return victim_answer(frames)

    def wait_for_the_kill(frames: list[np.ndarray]) -> np.ndarray:
        # The other server holds its requests until then, so the victim surely gets one more
        # request after its first answer (a quick main server could otherwise take them all).
        victim_down.wait(30)
        return main_answer(frames)

    victim_client.embed_images = kill_on_a_request_after_an_answer
    main_client.embed_images = wait_for_the_kill
    final = index_all(video, pool, tmp_path / "cache")
    assert killed, "the victim never got a request after its first answer"
    assert final.state == "done" and final.done == 120, final
    victim = pool.health().servers[0]
    assert victim.images > 0, "the victim answered before it died"
    assert victim.state == "down"
    assert any("set aside" in e and fleet.victim.url in e for e in events), events
    idx, vecs = vectors(tmp_path / "cache", video, pool)
    assert np.array_equal(idx, reference[0]), "no frame lost"
    assert np.array_equal(vecs, reference[1])


def test_a_server_capped_at_4_gets_4_per_request_after_one_500(
    fleet: Fleet, video: Path, reference, tmp_path: Path
) -> None:
    events: list[str] = []
    with CountingProxy(fleet.capped.url) as proxy:
        pool = pool_of(proxy.url, events=events, batch_size=8, max_in_flight=2)
        final = index_all(video, pool, tmp_path / "cache")
    assert final.state == "done" and final.done == 120
    batches = proxy.image_batches
    eights = [i for i, n in enumerate(batches) if n > 4]
    assert len(eights) <= 2, f"one refused batch per request in flight at most: {batches}"
    assert max(eights) < 4, f"then never more than 4: {batches}"
    assert set(batches[max(eights) + 1 :]) <= {1, 2, 3, 4}
    notes = [e for e in events if "HTTP 500" in e]
    assert len(notes) == 1 and "4 per request" in notes[0], events
    idx, vecs = vectors(tmp_path / "cache", video, pool)
    assert np.array_equal(idx, reference[0]), "no frame lost"
    assert np.array_equal(vecs, reference[1])


def test_one_server_gets_no_probe(fleet: Fleet, tmp_path: Path) -> None:
    clip = write_coded_video(tmp_path / "short.mp4", frames=16)
    with CountingProxy(fleet.main.url) as proxy:
        pool = pool_of(proxy.url)
        index_all(clip, pool, tmp_path / "cache")
    assert proxy.image_batches == [8, 8]
    assert proxy.counts["/clip/embed_text"] == 0


def test_servers_with_different_models_under_one_name_are_refused(
    fleet: Fleet, video: Path, tmp_path: Path
) -> None:
    pool = pool_of(fleet.second.url, fleet.capped.url, version="imposter")
    with pytest.raises(ServerMismatch) as info:
        pool.verify()
    message = str(info.value)
    assert fleet.second.url in message and fleet.capped.url in message, message
    assert "clip/imposter" in message

    # Without the up-front check, the odd one out is refused and the run uses the other.
    events: list[str] = []
    lazy = pool_of(fleet.second.url, fleet.capped.url, version="imposter", events=events)
    assert index_all(video, lazy, tmp_path / "cache").state == "done"
    first, odd = lazy.health().servers
    assert odd.state == "refused" and odd.images == 0
    assert first.images == 120
    assert any(e.startswith("refusing") for e in events)


def test_same_model_on_both_passes_the_check(fleet: Fleet) -> None:
    pool = pool_of(fleet.main.url, fleet.capped.url)
    pool.verify()
    assert [s.state for s in pool.health().servers] == ["up", "up"]


def test_no_server_at_all_fails_with_a_clear_error(tmp_path: Path) -> None:
    """Every server refuses: the call ends with the last one's error, after one try each (the
    SDK itself retries a refused connection 3 times, ≈1–2 s per server, before we see it)."""
    dead = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    pool = pool_of(*dead, retries=0, backoff=0.05)
    with pytest.raises(ServerUnreachable, match="cannot reach"):
        pool.embed_images([np.zeros((32, 32, 3), np.uint8)])
