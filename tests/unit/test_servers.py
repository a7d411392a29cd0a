"""The server pool's rules: parsing the list, choosing a server, adapting, setting aside.

Choosing (:func:`pick`) and comparing probes (:func:`disagreement`) are pure and tested
directly, with hypothesis for the choice. The pool's reactions to failures are driven by a scripted
in-process client per server, standing for servers that fail in precise ways; the same behaviours
against real Inference servers are in ``tests/integration/test_servers.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipvi_tui.core.embeddings import AuthError, ServerError, ServerUnreachable
from clipvi_tui.core.pool_members import DOWN, NEW, REFUSED, UP, PoolMember, pick
from clipvi_tui.core.server_check import (
    AGREEMENT,
    disagreement,
    make_probe,
    probe_image,
)
from clipvi_tui.core.server_specs import ServerSpec, server_specs
from clipvi_tui.core.servers import ServerPool

# -- the list ----------------------------------------------------------------------------------


def test_comma_separated_urls_become_specs_with_the_defaults() -> None:
    specs = server_specs("http://a:9001, http://b:9001/,", batch_size=16, max_in_flight=2)
    assert specs == [ServerSpec("http://a:9001", 16, 2), ServerSpec("http://b:9001", 16, 2)]


def test_list_entries_may_set_their_own_batch_and_flight() -> None:
    specs = server_specs(["http://a", {"url": "http://gpu", "batch_size": 64, "max_in_flight": 8}])
    assert specs == [ServerSpec("http://a", 8, 3), ServerSpec("http://gpu", 64, 8)]


def test_repeated_urls_are_kept_once() -> None:
    assert len(server_specs(["http://a", "http://a/"])) == 1


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("ftp://a", "http:// or https://"),
        ("", "at least one server"),
        ([{"url": "http://a", "batchsize": 4}], "unknown key(s) batchsize"),
        ([{"url": "http://a", "batch_size": 0}], "batch_size must be at least 1"),
        ([{"url": "http://a", "max_in_flight": "many"}], "max_in_flight must be a whole number"),
        ([{"url": "http://a", "batch_size": 2.5}], "batch_size must be a whole number"),
        ([{"batch_size": 4}], "http:// or https://"),
    ],
)
def test_bad_entries_are_named(value: object, needle: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        server_specs(value)  # type: ignore[arg-type]
    assert needle in str(info.value)


# -- choosing a server -------------------------------------------------------------------------

member_states = st.lists(
    st.tuples(
        st.sampled_from([NEW, UP, DOWN, REFUSED]),
        st.integers(0, 4),  # in flight
        st.integers(1, 4),  # max in flight
        st.integers(0, 50),  # requests so far
        st.booleans(),  # backoff over?
    ),
    min_size=1,
    max_size=6,
)


def _members(states: list[tuple[str, int, int, int, bool]]) -> list[PoolMember]:
    out = []
    for i, (state, in_flight, cap, requests, due) in enumerate(states):
        spec = ServerSpec(f"http://s{i}", 8, cap)
        out.append(
            PoolMember(
                spec=spec,
                client=None,
                state=state,
                in_flight=min(in_flight, cap),
                requests=requests,
                retry_at=0.0 if due else 100.0,
            )
        )
    return out


@given(member_states)
def test_pick_retries_a_due_server_else_the_least_loaded_healthy_one(states) -> None:
    members = _members(states)
    i = pick(members, now=10.0)
    due = [m for m in members if m.state == DOWN and m.in_flight == 0 and m.retry_at <= 10.0]
    healthy = [m for m in members if m.state in (NEW, UP) and m.in_flight < m.spec.max_in_flight]
    if due:
        assert i is not None and members[i] in due, (
            "a set-aside server whose backoff ran out is retried, one request at a time"
        )
    elif healthy:
        assert i is not None
        chosen = members[i]
        assert chosen in healthy
        assert chosen.in_flight == min(m.in_flight for m in healthy), "fewest in flight wins"
    else:
        assert i is None, "every server is busy, set aside or refused: the caller waits"


@given(member_states)
def test_pick_never_chooses_a_refused_or_full_server(states) -> None:
    members = _members(states)
    i = pick(members, now=10.0)
    if i is not None:
        assert members[i].state != REFUSED
        assert members[i].in_flight < members[i].spec.max_in_flight


def test_ties_go_to_the_server_that_sent_fewer_requests() -> None:
    members = _members([(UP, 1, 3, 10, True), (UP, 1, 3, 2, True), (UP, 2, 3, 0, True)])
    assert pick(members, 0.0) == 1


# -- comparing probes --------------------------------------------------------------------------


def test_probe_image_is_deterministic_and_not_square() -> None:
    a, b = probe_image(), probe_image()
    assert np.array_equal(a, b)
    assert a.shape[0] != a.shape[1], "a non-square card exposes crop vs squash"
    assert not np.array_equal(a, a[..., ::-1]), "a red/blue swap must change the card"


def test_same_vectors_agree_and_different_ones_are_explained() -> None:
    rng = np.random.default_rng(1)
    img, txt = rng.standard_normal(64), rng.standard_normal(64)
    ref = make_probe("http://a", img, txt, "1.8.3")
    assert disagreement(ref, make_probe("http://b", img * 3, txt, "1.8.3"), "clip/x") is None
    noisy = img + rng.standard_normal(64) * 0.3
    why = disagreement(ref, make_probe("http://b", noisy, txt, "0.9.0"), "clip/x")
    assert why is not None
    assert "http://b" in why and "http://a" in why and "clip/x" in why
    assert "Inference 0.9.0 vs 1.8.3" in why
    other_dim = make_probe("http://c", rng.standard_normal(32), rng.standard_normal(32))
    assert "32-dim vectors, not 64" in (disagreement(ref, other_dim, "clip/x") or "")


def test_agreement_threshold_tolerates_float_noise() -> None:
    rng = np.random.default_rng(2)
    img = rng.standard_normal(512)
    ref = make_probe("http://a", img, img)
    jitter = img + rng.standard_normal(512) * 1e-4 * np.abs(img).mean()
    assert disagreement(ref, make_probe("http://b", jitter, jitter), "m") is None
    assert AGREEMENT > 0.99


# -- the pool's reactions, with scripted servers -----------------------------------------------


class ScriptedServer:
    """An in-process stand-in for one server: a vector per frame from its pixels, and rules.

    Args:
        cap: more images than this in one request get HTTP 500 (a CLIP_MAX_BATCH_SIZE).
        down: while set, every call is refused (a server that is not there).
        broken: every call answers HTTP 500, whatever its size.
        drops: every call loses its connection without an answer (a server killed mid-request).
    """

    def __init__(
        self, cap: int = 8, down: bool = False, broken: bool = False, drops: bool = False
    ) -> None:
        self.cap = cap
        self.drops = drops
        self.down = threading.Event()
        if down:
            self.down.set()
        self.broken = broken
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def embed_images(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        with self.lock:
            self.batches.append(len(frames))
        if self.down.is_set():
            raise ServerUnreachable("cannot reach the Inference server (scripted)")
        if self.broken or len(frames) > self.cap:
            error = ServerError("Inference server error (HTTP 500)")
            error.http_status = 500
            raise error
        if self.drops:
            raise ServerError("Inference request failed: ServerDisconnectedError")
        return np.stack([f.reshape(-1)[:16].astype(np.float32) + 1 for f in frames])

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if self.down.is_set():
            raise ServerUnreachable("cannot reach the Inference server (scripted)")
        return np.ones((len(texts), 16), np.float32)


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((4, 4, 3), k, np.uint8) for k in range(n)]


def _pool(servers: list[ScriptedServer], **kw) -> tuple[ServerPool, list[str]]:
    events: list[str] = []
    by_url = {f"http://s{i}": s for i, s in enumerate(servers)}
    specs = [ServerSpec(url, 8, 2) for url in by_url]
    pool = ServerPool(
        specs,
        client_factory=lambda spec: by_url[spec.url],
        on_event=events.append,
        backoff=0.01,
        **kw,
    )
    return pool, events


def test_a_500_for_a_big_batch_halves_it_once_and_remembers(monkeypatch) -> None:
    server = ScriptedServer(cap=3)
    pool, events = _pool([server])
    out = pool.embed_images(_frames(20))
    assert out.shape == (20, 16)
    assert np.array_equal(out[:, 0], np.arange(20) + 1), "every frame, in order"
    assert server.batches[:3] == [8, 4, 2], "halve until the server takes it"
    assert set(server.batches[3:]) <= {2}, "then keep the size that worked"
    assert pool.health().servers[0].batch == 2
    notes = [e for e in events if "HTTP 500" in e]
    assert len(notes) == 1 and "8 images" in notes[0] and "2 per request" in notes[0]
    pool.embed_images(_frames(5))
    assert len([e for e in events if "HTTP 500" in e]) == 1, "said once"


def test_a_server_failing_even_one_image_is_set_aside_with_its_batch_restored() -> None:
    broken, fine = ScriptedServer(broken=True), ScriptedServer()
    pool, events = _pool([broken, fine])
    pool._members[0].verified = pool._members[1].verified = True  # scripted: no probe
    out = pool.embed_images(_frames(8))
    assert out.shape == (8, 16)
    state = pool.health().servers[0]
    assert state.state == DOWN and state.batch == 8, "a 500 on one image is not the batch cap"
    assert any("set aside" in e for e in events)


def test_work_moves_to_the_others_and_the_lost_server_is_tried_again() -> None:
    a, b = ScriptedServer(), ScriptedServer(down=True)
    pool, events = _pool([a, b])
    for m in pool._members:
        m.verified = True
    assert pool.embed_images(_frames(40)).shape == (40, 16)
    assert pool.health().servers[1].state == DOWN
    b.down.clear()
    import time

    time.sleep(0.05)  # past the set-aside time
    pool.embed_images(_frames(40))
    assert pool.health().servers[1].state == UP
    assert any("answers again" in e for e in events)
    assert pool.health().up == 2


def test_a_call_gives_up_only_after_every_server_failed_retries_times() -> None:
    a, b = ScriptedServer(down=True), ScriptedServer(down=True)
    pool, _ = _pool([a, b], retries=2)
    for m in pool._members:
        m.verified = True
    with pytest.raises(ServerUnreachable):
        pool.embed_images(_frames(4))
    assert len(a.batches) == 3 and len(b.batches) == 3, "retries + 1 attempts on each server"


def test_a_rejected_key_is_not_retried() -> None:
    class KeyRejected(ScriptedServer):
        def embed_images(self, frames):
            raise AuthError("Inference server at http://s0 rejected the API key (HTTP 401)")

    pool, _ = _pool([KeyRejected()])
    with pytest.raises(AuthError):
        pool.embed_images(_frames(2))


def test_the_pool_reports_its_capacity_and_batch() -> None:
    pool, _ = _pool([ScriptedServer(), ScriptedServer()])
    assert pool.concurrency == 4, "the indexer keeps every server's slots busy"
    assert pool.max_batch == 8
    assert pool.model_id == "clip/ViT-B-16"
    assert pool.preprocess_tag == "area224"


def test_a_dropped_connection_sets_the_server_aside_without_halving() -> None:
    dropping, fine = ScriptedServer(drops=True), ScriptedServer()
    pool, events = _pool([dropping, fine])
    for m in pool._members:
        m.verified = True
    assert pool.embed_images(_frames(16)).shape == (16, 16)
    assert dropping.batches[0] == 8
    state = pool.health().servers[0]
    assert state.state == DOWN and state.batch == 8, "no answer is not a batch-size answer"
    assert not any("HTTP 500" in e for e in events)


def test_requests_already_in_flight_at_the_old_size_do_not_repeat_the_news() -> None:
    """Two 8-image requests in flight both get a 500; the size is halved once and said once."""
    server = ScriptedServer(cap=4)
    pool, events = _pool([server])
    barrier = threading.Barrier(2)
    original = server.embed_images

    def both_in_flight(frames):
        if len(frames) == 8:
            barrier.wait(timeout=5)  # the second 8 is sent before the first one's 500 is seen
        return original(frames)

    server.embed_images = both_in_flight  # type: ignore[method-assign]
    out: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: out.append(pool.embed_images(_frames(8)))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(out) == 2 and all(o.shape == (8, 16) for o in out)
    assert pool.health().servers[0].batch == 4, "halved once, not twice"
    assert len([e for e in events if "HTTP 500" in e]) == 1, events
