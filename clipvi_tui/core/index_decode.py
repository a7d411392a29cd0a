"""The indexer's decode stage: claim the next batch, decode it, hand it on for embedding.

One :class:`Decoder` thread drives FFmpeg's decoder. Only the sampled frames are converted to
what is uploaded (on the :class:`~clipvi_tui.core.conversion.FrameConverter`'s threads, while
this one decodes on); the frames between them are decoded only as far as other frames need
them. What it hands on is a :class:`Batch`, whose conversions the embedders collect.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from clipvi_tui.core.conversion import FrameConverter
from clipvi_tui.core.embeddings import EmbeddingClient
from clipvi_tui.core.index_schedule import IndexSchedule
from clipvi_tui.core.process import lower_thread_priority, name_os_thread
from clipvi_tui.core.video import VideoInfo, VideoReader


def _raw(frame: Any, rotation: int) -> Any:
    """Keep a decoded frame as it is (the :class:`FrameConverter` converts it)."""
    return frame


class Batch:
    """Frames on their way through the pipeline."""

    __slots__ = ("frames", "indices", "playhead_moves", "positions", "prepared", "thumbs")

    def __init__(
        self,
        positions: list[int],
        indices: list[int],
        frames: list[Any],
        playhead_moves: int,
    ):
        """A claimed batch: its schedule positions, raw frame indices and pending conversions."""
        self.positions = positions
        self.indices = indices
        self.frames = frames  # conversions of the decoded frames (futures), until collected
        self.prepared: list[np.ndarray] | None = None  # what is uploaded
        self.thumbs: list[bytes] = []  # JPEG thumbnails, when the indexer makes them
        self.playhead_moves = playhead_moves  # how many seeks had happened when it was picked

    def uploads(self) -> list[np.ndarray]:
        """The frames as uploaded (waiting for their conversions); keeps the thumbnails."""
        if self.prepared is None:
            done = [f.result() for f in self.frames]
            self.prepared = [upload for upload, _ in done]
            self.thumbs = [t for _, t in done if t is not None]
            self.frames = []
        return self.prepared


class Decoder:
    """The decode stage of one indexing run (its :meth:`run` is the thread's body)."""

    def __init__(
        self,
        video_path: Path,
        info: VideoInfo,
        client: EmbeddingClient,
        schedule: IndexSchedule,
        *,
        thumbnails: bool,
        nice: int,
        cancel: threading.Event,
        on_error: Callable[[Exception], None],
    ) -> None:
        """Decode ``info``'s video for ``client``, claiming from ``schedule``.

        Args:
            video_path: the video file.
            info: the probed video, with its frame index.
            client: the embedding client: its batch size and its ``prepare`` (the upload
                conversion), if it has one.
            schedule: where batches are claimed (and given back when the run stops).
            thumbnails: also make a thumbnail of every converted frame.
            nice: lower this thread's CPU priority by this much.
            cancel: set when the run stops.
            on_error: told what ended decoding (the video could not be opened or decoded).
        """
        self.video_path = video_path
        self.info = info
        self.client = client
        self.schedule = schedule
        self.thumbnails = thumbnails
        self.nice = nice
        self.cancel = cancel
        self.on_error = on_error

    def run(self, out: queue.Queue[Batch | None], fatal: threading.Event) -> None:
        """Put decoded batches on ``out`` until nothing is left, the run stops or decoding fails.

        Args:
            out: the embedders' queue.
            fatal: set (here too, on a decoding failure) when the run has failed.
        """
        name_os_thread("clipvi-idx-dec")
        lower_thread_priority(self.nice)
        try:
            reader = VideoReader(self.video_path, self.info)
        except Exception as exc:
            self.on_error(exc)
            fatal.set()
            return
        converter = FrameConverter(
            self.info.rotation, getattr(self.client, "prepare", None), thumbnails=self.thumbnails
        )
        with reader:
            try:
                self._batches(reader, converter, out, fatal)
            finally:
                converter.close()

    def _batches(
        self,
        reader: VideoReader,
        converter: FrameConverter,
        out: queue.Queue[Batch | None],
        fatal: threading.Event,
    ) -> None:
        """Claim batches from the playhead on, decode them, hand them on for conversion."""
        schedule = self.schedule
        while not self.cancel.is_set() and not fatal.is_set():
            positions = schedule.claim(self.client.max_batch)
            if not positions:
                # Nothing unclaimed; failed batches may still come back for a retry.
                if schedule.settled():
                    return
                time.sleep(0.05)
                continue
            indices = [int(schedule.sampled[p]) for p in positions]
            try:
                # Only the sampled frames are converted (on the converter threads, while this
                # thread decodes on); the ones between are decoded only as far as needed.
                futures = [converter.submit(f) for _, f in reader.iter_frames(indices, _raw)]
            except Exception as exc:
                self.on_error(exc)
                fatal.set()
                return
            batch = Batch(positions, indices, futures, schedule.playhead_moves)
            while not self.cancel.is_set():
                try:
                    out.put(batch, timeout=0.1)
                    break
                except queue.Full:
                    continue
            else:
                schedule.release(positions)
