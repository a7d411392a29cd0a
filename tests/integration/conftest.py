"""More real Inference servers for the scale-out tests, started together once per session.

* ``second``: the same models as the session's ``inference_server`` (a replica);
* ``capped``: the same models, started with ``CLIP_MAX_BATCH_SIZE=4`` (it answers HTTP 500 to
  more images per request);
* ``victim``: a replica that the test using it kills.

Both replicas and the capped server also serve ``imposter``, a tiny model drawn from a different
seed on ``capped`` than on ``second``: same name, same shape, different vectors.

They are launched before any is waited for, so their start-ups overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import DEMO_MODEL, InferenceServer
from tests.support.server import LaunchedServer, ServerDidNotStart, launch_test_server
from tests.support.tiny_model import write_tiny_clip


@dataclass
class Fleet:
    """The extra servers (see the module docstring)."""

    second: LaunchedServer
    capped: LaunchedServer
    victim: LaunchedServer
    main: InferenceServer


@pytest.fixture(scope="session")
def fleet(
    inference_server: InferenceServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    """Start the extra servers once; stop them at the end of the session."""
    root = tmp_path_factory.mktemp("fleet")
    tiny = inference_server.tiny_model_dir
    imposter = write_tiny_clip(root / "imposter", seed=1)
    models = {"shapes-demo": DEMO_MODEL} if inference_server.demo_version else {}
    second = launch_test_server(root / "second", tiny, "tiny-test", {**models, "imposter": tiny})
    capped = launch_test_server(
        root / "capped",
        tiny,
        "tiny-test",
        {**models, "imposter": imposter},
        env={"CLIP_MAX_BATCH_SIZE": "4"},
    )
    victim = launch_test_server(root / "victim", tiny, "tiny-test")
    servers = (second, capped, victim)
    try:
        for server in servers:
            server.wait_ready()
    except ServerDidNotStart as exc:
        for server in servers:
            server.stop()
        pytest.fail(str(exc))
    yield Fleet(second=second, capped=capped, victim=victim, main=inference_server)
    for server in servers:
        server.stop()
