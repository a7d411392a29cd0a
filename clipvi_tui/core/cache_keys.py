"""How the cache addresses what it stores: the key of every entry, and frame indices read back.

Keys
    frames: ``<fingerprint>|<model id>|<preprocess tag>|`` + 8-byte big-endian frame index, so
            one video's vectors sit together in key order and a prefix scan reads them all.
    texts:  ``<model id>|<prompt>``.
    frame_index: ``file:<content hash>`` → a video's frame index (timestamps, keyframes; see
            :mod:`clipvi_tui.core.frameindex`), so a video is demuxed once, not on every start.
    thumbnails: ``<fingerprint>|`` + 8-byte frame index → a small JPEG of that sampled frame
            (:mod:`clipvi_tui.core.thumbnails`): a seek shows it at once, before the exact frame.

The sampling rate is deliberately *not* part of a frame key: frame indices are raw indices of the
video, so a vector for frame k is the same whether 5 fps or every frame asked for it, and moving
from ``--sample-fps 5`` to ``all`` reuses everything already embedded. What does change a frame's
vector — the model and how the frame was shrunk before upload — is in the key.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import lmdb
import numpy as np

# A frame index at the end of a key: big-endian, so key order is frame order.
INDEX = struct.Struct(">Q")
# LMDB refuses keys longer than this (511 bytes by default).
MAX_KEY = 511


def frame_prefix(fingerprint: str, model_id: str, tag: str) -> bytes:
    """Key prefix shared by every frame vector of one video, model and preprocessing."""
    return f"{fingerprint}|{model_id}|{tag}|".encode()


def text_key(model_id: str, prompt: str) -> bytes:
    """Key of one prompt's vector; long prompts are hashed to fit LMDB's key limit."""
    key = f"{model_id}|{prompt}".encode()
    if len(key) > MAX_KEY:
        key = f"{model_id}|#sha256:{hashlib.sha256(prompt.encode()).hexdigest()}".encode()
    return key


def thumbnail_prefix(fingerprint: str) -> bytes:
    """Key prefix shared by every thumbnail of one video."""
    return f"{fingerprint}|".encode()


def indexed(prefix: bytes, index: int) -> bytes:
    """The key of frame ``index`` under ``prefix``."""
    return prefix + INDEX.pack(int(index))


def indices_of(keys: list[bytes], prefix: bytes) -> np.ndarray:
    """The frame indices encoded at the end of keys under ``prefix``."""
    return np.asarray([INDEX.unpack(k[len(prefix) :])[0] for k in keys], dtype=np.int64)


def indices_under(txn: lmdb.Transaction, db: Any, prefix: bytes) -> np.ndarray:
    """The frame indices that follow ``prefix`` in ``db``'s keys, ascending."""
    cur = txn.cursor(db=db)
    out: list[int] = []
    if cur.set_range(prefix):
        for raw in cur.iternext(keys=True, values=False):
            key = bytes(raw)
            if not key.startswith(prefix):
                break
            out.append(INDEX.unpack(key[len(prefix) :])[0])
    return np.asarray(out, dtype=np.int64)
