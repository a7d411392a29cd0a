"""What keeps one model id to one vector size, and the record of damaged entries.

Used by :class:`~clipvi_tui.core.cache.EmbeddingCache` inside its LMDB transactions:

* :class:`ModelRegistry` reads and writes the ``models`` db (dimension and probe vector per model
  id, see :mod:`clipvi_tui.core.cache_format`) and, for caches written before that db existed,
  finds the dimension the model's stored vectors already have;
* :class:`DamageLog` remembers entries that failed their checksum so each is reported once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import lmdb
import numpy as np

from clipvi_tui.core.cache_format import ModelRecord, payload_dim
from clipvi_tui.core.cache_keys import INDEX
from clipvi_tui.core.validation import dimension_conflict


class ModelRegistry:
    """The ``models`` db: one record (dimension, probe) per model id."""

    def __init__(self, frames: Any, texts: Any, models: Any) -> None:
        """Work on the cache's three databases (LMDB handles)."""
        self.frames, self.texts, self.models = frames, texts, models

    def record(self, txn: lmdb.Transaction, model_id: str) -> ModelRecord | None:
        """The stored record of ``model_id`` (None if absent or unreadable)."""
        raw = txn.get(model_id.encode(), db=self.models)
        return ModelRecord.from_bytes(bytes(raw)) if raw is not None else None

    def check(self, txn: lmdb.Transaction, model_id: str, dim: int) -> bool:
        """Raise if ``model_id`` is known with another dimension; True if it has a record.

        Raises:
            ModelMismatch: the cache holds vectors of another size under this model id.
        """
        record = self.record(txn, model_id)
        known = record.dim if record is not None else self.legacy_dim(txn, model_id)
        if known is not None and known != dim:
            raise dimension_conflict(model_id, known, dim, "the embedding backend")
        return record is not None

    def claim(
        self,
        txn: lmdb.Transaction,
        model_id: str,
        blobs: np.ndarray,
        known: ModelRecord | None,
    ) -> None:
        """Inside a write of ``blobs``: refuse another size, record a new model's size.

        Args:
            txn: the write transaction.
            model_id: the model the vectors are from.
            blobs: ``[N, D]`` vectors about to be written.
            known: the record already held in memory, if any (saves a lookup).

        Raises:
            ModelMismatch: ``D`` is not the model's dimension.
        """
        if len(blobs) == 0:
            return
        dim = int(blobs.shape[1])
        if known is not None:
            if known.dim != dim:
                raise dimension_conflict(model_id, known.dim, dim, "the embedding backend")
            return
        if not self.check(txn, model_id, dim):
            txn.put(model_id.encode(), ModelRecord(dim).to_bytes(), db=self.models)

    def legacy_dim(self, txn: lmdb.Transaction, model_id: str) -> int | None:
        """The size of any stored vector of ``model_id`` (texts first, then frame prefixes)."""
        text_prefix = f"{model_id}|".encode()
        cur = txn.cursor(db=self.texts)
        if cur.set_range(text_prefix) and bytes(cur.key()).startswith(text_prefix):
            return payload_dim(bytes(cur.value())) or None
        cur = txn.cursor(db=self.frames)
        wanted = model_id.encode()
        ok = cur.first()
        while ok:
            key = bytes(cur.key())
            parts = key[: -INDEX.size].split(b"|")
            if len(parts) >= 3 and parts[1] == wanted:
                return payload_dim(bytes(cur.value())) or None
            # Jump past every key of this video/model/preprocessing prefix.
            ok = cur.set_range(key[: -INDEX.size] + b"\xff" * (INDEX.size + 1))
        return None


class DamageLog:
    """Keys of entries that failed their checksum; each is reported once (thread-safe)."""

    def __init__(self) -> None:
        """Start with no damage seen."""
        self._lock = threading.Lock()
        self._keys: set[bytes] = set()
        self._reported = 0

    def add(self, keys: Iterable[bytes]) -> None:
        """Remember damaged ``keys``."""
        keys = list(keys)
        if keys:
            with self._lock:
                self._keys.update(keys)

    def forget(self, keys: Iterable[bytes]) -> None:
        """``keys`` were rewritten: they are whole again."""
        if self._keys:
            with self._lock:
                self._keys.difference_update(keys)
                self._reported = min(self._reported, len(self._keys))

    def take_report(self) -> int:
        """How many damaged entries were found since the last call."""
        with self._lock:
            new = len(self._keys) - self._reported
            self._reported = len(self._keys)
        return max(0, new)


def common_dim(blobs: Sequence[bytes | None]) -> int | None:
    """The dimension most stored values have (for caches without a model record)."""
    dims = Counter(payload_dim(b) for b in blobs if b is not None)
    return dims.most_common(1)[0][0] if dims else None
