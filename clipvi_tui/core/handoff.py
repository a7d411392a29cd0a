"""Frame vectors in and out of the cache as ``.npz`` files: the hand-off to other engines.

Vectors computed here can go to a vector database or a notebook; vectors computed elsewhere (a
clip-retrieval run on a cluster, a Roboflow batch job) can come in, so the app and ``export``
show them without embedding a frame. The file is a plain NumPy archive, no pickles:

=============  ===================  =============================================================
key            type                 meaning
=============  ===================  =============================================================
vectors        float32 ``[N, D]``   one embedding per frame (stored unit-length in the cache)
frames         int64 ``[N]``        raw frame index of each row, 0-based (or give ``times``)
times          float64 ``[N]``      seconds at which each frame is shown
model_id       str                  the model, as clipvi-tui names it: ``clip/ViT-B-16``
preprocess     str                  how frames were shrunk before embedding (``area224``)
video          str                  the video's file name (informative)
fingerprint    str                  the video's content key (import refuses another video's)
fps            float64              the video's frame rate (informative)
frame_count    int64                frames in the video
format         int64                :data:`FORMAT_VERSION`
=============  ===================  =============================================================

Only ``vectors``, ``model_id`` and one of ``frames``/``times`` are required on import. Vectors
exported here are the cache's own unit-length float16 values widened to float32, so export →
import → export gives back the same bytes and the same scores.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipvi_tui.core.cache import VECTOR_DTYPE, EmbeddingCache
from clipvi_tui.core.video import VideoInfo

FORMAT_VERSION = 1


class HandoffError(Exception):
    """A vector file cannot be written, read or accepted; ``str()`` says why in one line."""


@dataclass
class VectorFile:
    """The contents of one vector file (see the module docstring for the keys)."""

    vectors: np.ndarray
    frames: np.ndarray
    times: np.ndarray
    model_id: str
    preprocess: str = ""
    video: str = ""
    fingerprint: str = ""
    fps: float = 0.0
    frame_count: int = 0


def export_vectors(
    cache: EmbeddingCache,
    info: VideoInfo,
    fingerprint: str,
    model_id: str,
    preprocess: str,
    frames: np.ndarray,
) -> VectorFile:
    """The cached vectors of ``frames`` (raw indices) of one video, with their times.

    Raises:
        HandoffError: if some of the frames have no vector yet.
    """
    frames = np.asarray(frames, dtype=np.int64)
    found, vectors = cache.get_frames(fingerprint, model_id, preprocess, frames)
    if not found.all():
        raise HandoffError(
            f"{int((~found).sum())} of {len(frames)} frames of {info.path.name} are not embedded "
            "yet; index the video first"
        )
    return VectorFile(
        vectors=vectors.astype(np.float32),
        frames=frames,
        times=info.times_of(frames),
        model_id=model_id,
        preprocess=preprocess,
        video=info.path.name,
        fingerprint=fingerprint,
        fps=info.fps,
        frame_count=info.frame_count,
    )


def write_vectors(path: str | os.PathLike[str], data: VectorFile) -> None:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file).

    Raises:
        HandoffError: if the file cannot be written.
    """
    target = Path(path)
    arrays = {
        "vectors": np.asarray(data.vectors, dtype=np.float32),
        "frames": np.asarray(data.frames, dtype=np.int64),
        "times": np.asarray(data.times, dtype=np.float64),
        "model_id": np.array(data.model_id),
        "preprocess": np.array(data.preprocess),
        "video": np.array(data.video),
        "fingerprint": np.array(data.fingerprint),
        "fps": np.array(float(data.fps)),
        "frame_count": np.array(int(data.frame_count), dtype=np.int64),
        "format": np.array(FORMAT_VERSION, dtype=np.int64),
    }
    try:
        fd, tmp = tempfile.mkstemp(prefix=".vectors-", suffix=".npz", dir=target.parent or ".")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, target)
    except OSError as exc:
        raise HandoffError(f"cannot write {target}: {exc.strerror or exc}") from None


def read_vectors(path: str | os.PathLike[str], info: VideoInfo) -> VectorFile:
    """Read and check a vector file for the video ``info`` describes.

    Rows given by ``times`` only are placed on the frame shown at that time.

    Raises:
        HandoffError: naming what is missing or wrong (not an npz, no vectors, no model id,
            NaN rows, frames outside the video, repeated frames, lengths that differ).
    """
    source = Path(path)
    try:
        with np.load(source, allow_pickle=False) as npz:
            fields = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise HandoffError(f"vector file not found: {source}") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise HandoffError(f"{source} is not a readable .npz file ({exc})") from None
    name = source.name

    if "vectors" not in fields:
        raise HandoffError(f"{name} has no 'vectors' array (keys: {', '.join(fields) or 'none'})")
    vectors = fields["vectors"]
    if vectors.ndim != 2 or vectors.shape[0] == 0 or not np.issubdtype(vectors.dtype, np.number):
        raise HandoffError(f"{name}: 'vectors' must be a non-empty [N, D] number array")
    vectors = vectors.astype(np.float32)
    n = len(vectors)
    norms = np.linalg.norm(vectors, axis=1)
    bad = ~np.isfinite(norms) | (norms == 0)
    if bad.any():
        raise HandoffError(f"{name}: {int(bad.sum())} vectors are zero, NaN or infinite")

    model_id = _text(fields, "model_id")
    if not model_id:
        raise HandoffError(
            f"{name} does not say which model made its vectors: add model_id (e.g. 'clip/ViT-B-16')"
        )
    frames = _frames(fields, name, n, info)
    times = fields.get("times")
    if times is None or len(times) != n:
        times = info.times_of(frames)
    if len(np.unique(frames)) != n:
        raise HandoffError(f"{name}: some frames appear more than once")
    outside = (frames < 0) | (frames >= info.frame_count)
    if outside.any():
        raise HandoffError(
            f"{name}: frame {int(frames[outside][0])} is outside {info.path.name} "
            f"(frames 0..{info.frame_count - 1})"
        )
    return VectorFile(
        vectors=vectors,
        frames=frames,
        times=np.asarray(times, dtype=np.float64),
        model_id=model_id,
        preprocess=_text(fields, "preprocess"),
        video=_text(fields, "video"),
        fingerprint=_text(fields, "fingerprint"),
        fps=float(fields["fps"]) if "fps" in fields else 0.0,
        frame_count=int(fields["frame_count"]) if "frame_count" in fields else 0,
    )


def import_vectors(
    cache: EmbeddingCache,
    data: VectorFile,
    info: VideoInfo,
    fingerprint: str,
    model_id: str,
    preprocess: str,
    *,
    expected_dim: int | None = None,
    force: bool = False,
) -> list[str]:
    """Store ``data``'s vectors as this video's, under ``model_id`` and ``preprocess``.

    Args:
        cache: where they go.
        data: a checked vector file (:func:`read_vectors`).
        info: the video.
        fingerprint: the video's content key.
        model_id: the model the cache entries are for (the run's client).
        preprocess: the preprocessing tag they are filed under (the run's client).
        expected_dim: the model's vector length if known (e.g. from the server).
        force: accept a file exported from a different video file.

    Returns:
        Notes for the user (e.g. the vectors were made with another preprocessing).

    Raises:
        HandoffError: on a model or dimension mismatch, or another video's file.
    """
    name = info.path.name
    if data.model_id != model_id:
        version = data.model_id.removeprefix("clip/")
        raise HandoffError(
            f"the file holds {data.model_id} vectors, but this run uses {model_id}: mixing "
            f"them would compare unrelated numbers (use --clip-version {version} to import "
            "them for that model)"
        )
    dim = data.vectors.shape[1]
    known = (
        expected_dim
        or cache.text_dim(model_id)
        or _frame_dim(cache, fingerprint, model_id, preprocess)
    )
    if known and known != dim:
        raise HandoffError(
            f"the file holds {dim}-dim vectors, but {model_id} makes {known}-dim ones"
        )
    if data.fingerprint and data.fingerprint != fingerprint and not force:
        counts = f" ({data.frame_count} frames)" if data.frame_count else ""
        raise HandoffError(
            f"the file was exported from another video{counts}, not {name} "
            f"({info.frame_count} frames); pass --force to import it anyway"
        )
    _store(cache, fingerprint, model_id, preprocess, data)
    notes = []
    if data.preprocess and data.preprocess != preprocess:
        notes.append(
            f"the vectors were made with preprocessing {data.preprocess!r}, not {preprocess!r}; "
            "they are used as they are, and scores may differ slightly from vectors computed here"
        )
    return notes


def _store(
    cache: EmbeddingCache, fingerprint: str, model_id: str, preprocess: str, data: VectorFile
) -> None:
    """Put the vectors in the cache; unit float16 values (an export of ours) go in unchanged."""
    frames = data.frames.tolist()
    half = data.vectors.astype(VECTOR_DTYPE)
    norms = np.linalg.norm(data.vectors, axis=1)
    if np.array_equal(half.astype(np.float32), data.vectors) and np.allclose(norms, 1, atol=1e-2):
        cache.put_stored_frames(fingerprint, model_id, preprocess, frames, half)
    else:
        cache.put_frames(fingerprint, model_id, preprocess, frames, data.vectors)


def _frame_dim(
    cache: EmbeddingCache, fingerprint: str, model_id: str, preprocess: str
) -> int | None:
    """The length of this video's vectors already cached for the model, if there are any."""
    indices, vecs = cache.frame_matrix(fingerprint, model_id, preprocess)
    return int(vecs.shape[1]) if len(indices) else None


def _text(fields: dict[str, np.ndarray], key: str) -> str:
    value = fields.get(key)
    return "" if value is None else str(value.item() if value.ndim == 0 else value).strip()


def _frames(fields: dict[str, np.ndarray], name: str, n: int, info: VideoInfo) -> np.ndarray:
    """Row frame indices from ``frames``, else from ``times`` via the video's clock."""
    if "frames" in fields:
        frames = fields["frames"]
        if frames.shape != (n,) or not np.issubdtype(frames.dtype, np.integer):
            raise HandoffError(f"{name}: 'frames' must be {n} whole numbers, one per vector")
        return frames.astype(np.int64)
    if "times" in fields:
        times = fields["times"].astype(np.float64)
        if times.shape != (n,) or not np.isfinite(times).all():
            raise HandoffError(f"{name}: 'times' must be {n} finite numbers, one per vector")
        return np.asarray([info.frame_at(float(t)) for t in times], dtype=np.int64)
    raise HandoffError(f"{name} has neither 'frames' nor 'times' to place its vectors")
