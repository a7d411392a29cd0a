"""``clipvi-tui serve``: the real Roboflow Inference HTTP server, in-process, without Docker.

Builds the app the way Roboflow's Docker image does (``ModelManager`` over a
``RoboflowModelRegistry``, wrapped in ``WithFixedSizeCache``, served by ``HttpInterface``) and
runs it with uvicorn. Needs the optional extra ``clipvi-tui[server]`` (``inference-cpu[http]``).

With ``--model-dir`` (a folder holding ``visual.onnx`` and ``textual.onnx``) the pair is placed
where the server's model cache expects ``clip/<version>`` and the server runs fully offline.
Without it the server starts normally and, on a machine with internet, downloads real CLIP
weights itself on first use.

Everything the ``inference`` package reads at import time is set before importing it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile
import warnings
from pathlib import Path

import platformdirs

MODEL_FILES = ("visual.onnx", "textual.onnx")

# Core models the server would otherwise register at start-up; turning them off cuts start-up
# from ≈12 s to ≈8 s and memory by a few hundred MB. CLIP stays on.
_DISABLED_MODELS = (
    "PALIGEMMA_ENABLED",
    "FLORENCE2_ENABLED",
    "QWEN_2_5_ENABLED",
    "QWEN_3_ENABLED",
    "QWEN_3_5_ENABLED",
    "QWEN_3_8_ENABLED",
    "SMOLVLM2_ENABLED",
    "MOONDREAM2_ENABLED",
    "DEPTH_ESTIMATION_ENABLED",
    "ACTION_RECOGNITION_ENABLED",
    "COSMOS3_ENABLED",
    "VJEPA2_1_ENABLED",
    "GLM_OCR_ENABLED",
    "CORE_MODEL_SAM_ENABLED",
    "CORE_MODEL_SAM2_ENABLED",
    "CORE_MODEL_SAM3_ENABLED",
    "CORE_MODEL_DOCTR_ENABLED",
    "CORE_MODEL_EASYOCR_ENABLED",
    "CORE_MODEL_TROCR_ENABLED",
    "CORE_MODEL_PPOCR_ENABLED",
    "CORE_MODEL_GROUNDINGDINO_ENABLED",
    "CORE_MODEL_YOLO_WORLD_ENABLED",
    "CORE_MODEL_PE_ENABLED",
    "CORE_MODEL_GAZE_ENABLED",
    "CORE_MODEL_OWLV2_ENABLED",
    "ACTIVE_LEARNING_ENABLED",
    "ENABLE_STREAM_API",
    "ENABLE_BUILDER",
    "METRICS_ENABLED",
)


class ServeError(Exception):
    """The server cannot start; ``str()`` says why in one line."""


def default_model_cache() -> Path:
    """Where served models are kept unless MODEL_CACHE_DIR says otherwise."""
    return Path(platformdirs.user_cache_dir("clipvi-tui")) / "inference-models"


def server_extra_installed() -> bool:
    """True when the ``inference`` server package is importable."""
    import importlib.util

    try:
        return importlib.util.find_spec("inference") is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as missing
        return False


def check_model_dir(model_dir: Path) -> None:
    """Make sure ``model_dir`` holds an ONNX pair.

    Raises:
        ServeError: naming what is missing.
    """
    if not model_dir.is_dir():
        raise ServeError(f"model dir not found: {model_dir}")
    missing = [f for f in MODEL_FILES if not (model_dir / f).is_file()]
    if missing:
        raise ServeError(f"model dir {model_dir} lacks {', '.join(missing)}")


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def configure_environment(model_cache: Path, offline: bool) -> None:
    """Set what ``inference`` reads at import; values the user already exported win."""
    defaults = {
        "MODEL_CACHE_DIR": str(model_cache),
        # The legacy loader reads visual.onnx/textual.onnx from the cache; the default
        # (inference-models) needs the Roboflow API and mis-batches CLIP images in 1.8.3.
        "USE_INFERENCE_MODELS": "False",
        "ONNXRUNTIME_EXECUTION_PROVIDERS": "[CPUExecutionProvider]",
        "DISABLE_VERSION_CHECK": "True",
        "ALLOW_CUSTOM_PYTHON_EXECUTION_IN_WORKFLOWS": "False",
        "DISABLE_WORKFLOW_ENDPOINTS": "True",
    }
    if offline:
        defaults["OFFLINE_MODE"] = "True"  # no version check, pings or API lookups
    for name in _DISABLED_MODELS:
        defaults[name] = "False"
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def place_model(model_dir: Path, clip_version: str) -> Path:
    """Copy an ONNX pair to where the server looks for ``clip/<clip_version>``.

    Must run after :func:`configure_environment` (the cache path depends on MODEL_CACHE_DIR).

    Returns:
        The folder the files were placed in.
    """
    from inference.core.cache.model_artifacts import get_cache_dir

    from clipvi_tui.core.embeddings import clip_model_id

    target = Path(get_cache_dir(model_id=clip_model_id(clip_version)))
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        src, dst = model_dir / name, target / name
        if (
            not dst.exists()
            or dst.stat().st_size != src.stat().st_size
            or (dst.stat().st_mtime < src.stat().st_mtime)
        ):
            # Copy to a temporary name first so a running server never reads half a file.
            tmp = dst.with_suffix(".part")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
    return target


def build_app() -> object:
    """The Inference HTTP ASGI app, assembled as Roboflow's CPU Docker image does."""
    from inference.core.env import MAX_ACTIVE_MODELS
    from inference.core.interfaces.http.http_api import HttpInterface
    from inference.core.managers.base import ModelManager
    from inference.core.managers.decorators.fixed_size_cache import WithFixedSizeCache
    from inference.core.registries.roboflow import RoboflowModelRegistry
    from inference.models.utils import ROBOFLOW_MODEL_TYPES

    registry = RoboflowModelRegistry(ROBOFLOW_MODEL_TYPES)
    manager = WithFixedSizeCache(ModelManager(model_registry=registry), max_size=MAX_ACTIVE_MODELS)
    return HttpInterface(manager).app


def serve(
    host: str = "127.0.0.1",
    port: int = 9001,
    model_dir: Path | None = None,
    clip_version: str = "ViT-B-16",
    model_cache: Path | None = None,
    log_level: str = "warning",
    extra_models: dict[str, Path] | None = None,
) -> None:
    """Run the Inference server until interrupted.

    Raises:
        ServeError: when the extra is missing, the model dir is incomplete or the port is taken.
    """
    if not server_extra_installed():
        raise ServeError(
            "the Inference server is not installed: pip install 'clipvi-tui[server]' "
            "(or run an Inference server yourself and point --api-url at it)"
        )
    if model_dir is not None:
        check_model_dir(model_dir)
        model_dir = model_dir.resolve()  # before the chdir below
    extras = {v: d.resolve() for v, d in (extra_models or {}).items()}
    for folder in extras.values():
        check_model_dir(folder)
    if not port_free(host, port):
        raise ServeError(f"port {port} on {host} is already in use (try --port)")
    cache = Path(os.environ.get("MODEL_CACHE_DIR") or model_cache or default_model_cache())
    cache.mkdir(parents=True, exist_ok=True)
    configure_environment(cache, offline=model_dir is not None or bool(extras))

    # The server mounts static folders relative to the working directory and reads ./.env:
    # run it from a clean private folder so neither the user's folder nor a stray .env matters.
    workdir = Path(tempfile.mkdtemp(prefix="clipvi-serve-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    for d in ("inference/landing/out/static", "inference/landing/out/_next/static"):
        (workdir / d).mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    if model_dir is not None:
        place_model(model_dir, clip_version)
    for version, folder in extras.items():
        place_model(folder, version)

    # The server's dependencies warn about their own deprecations at import; none is ours to fix.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    app = build_app()
    import uvicorn

    print(
        f"clipvi-tui serve: Inference server on http://{host}:{port} "
        f"(clip/{clip_version}{', offline' if model_dir else ''})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)  # type: ignore[arg-type]
