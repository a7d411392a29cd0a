"""Ground truth of a synthetic video: which object is visible in which frames, as JSON.

Written next to every video by ``world.render_video``; read by the tests and the demo model's
evaluation to score curves and segments against what was really on screen.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clipvi_tui.synthetic.shapes import COLORS, SHAPES, VISIBLE_FRACTION

_JSON_VERSION = 1


def mask_to_intervals(mask: np.ndarray) -> list[list[int]]:
    """Runs of ``True`` in a 1-D boolean array as ``[[start, end_inclusive], ...]``."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [[int(a), int(b) - 1] for a, b in zip(edges[::2], edges[1::2], strict=True)]


@dataclass
class ObjectTrack:
    """Ground truth for one object of a video.

    Attributes:
        id: Index of the object in the video.
        color: Colour name.
        shape: Shape name.
        scene: Index of the scene the object belongs to.
        intervals: Frames where the object is visible, ``[[start, end_inclusive], ...]``.
        boxes: ``[frame, x0, y0, x1, y1, fraction]`` for every frame where any part shows:
            bounding box (inclusive) of the visible pixels and the visible fraction.
    """

    id: int
    color: str
    shape: str
    scene: int
    intervals: list[list[int]] = field(default_factory=list)
    boxes: list[list[float]] = field(default_factory=list)


@dataclass
class Scene:
    """One shot of a video: a fixed background between two cuts (``end`` inclusive)."""

    start: int
    end: int
    background: dict[str, Any]


@dataclass
class GroundTruth:
    """What a synthetic video shows, frame by frame. Stored as JSON next to the video.

    Attributes:
        fps: Frames per second.
        frame_count: Number of frames written.
        width: Frame width in pixels.
        height: Frame height in pixels.
        seed: Seed the video was rendered from.
        objects: One track per object.
        scenes: The video's shots, in order.
        visible_fraction: The visibility threshold used for ``intervals``.
    """

    fps: float
    frame_count: int
    width: int
    height: int
    seed: int
    objects: list[ObjectTrack]
    scenes: list[Scene]
    visible_fraction: float = VISIBLE_FRACTION

    def visible(self, color: str | None, shape: str | None = None) -> np.ndarray:
        """Per-frame flag: is any object of this colour (and shape, if given) visible?

        Args:
            color: A key of ``COLORS``, or ``None`` to match any colour.
            shape: One of ``SHAPES``, or ``None`` to match any shape.

        Returns:
            Boolean array of length ``frame_count``.

        Raises:
            ValueError: On an unknown colour or shape name (a typo would otherwise read as
                "never visible").
        """
        if color is not None and color not in COLORS:
            raise ValueError(f"unknown colour {color!r}; expected one of {list(COLORS)}")
        if shape is not None and shape not in SHAPES:
            raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")
        out = np.zeros(self.frame_count, dtype=bool)
        for obj in self.objects:
            if color in (None, obj.color) and shape in (None, obj.shape):
                for start, end in obj.intervals:
                    out[start : end + 1] = True
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, with a schema version."""
        return {"version": _JSON_VERSION, **asdict(self)}

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON text, also writing it to ``path`` if given."""
        text = json.dumps(self.to_dict(), separators=(",", ":"))
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundTruth:
        """Inverse of ``to_dict``."""
        fields = {k: v for k, v in data.items() if k != "version"}
        fields["objects"] = [ObjectTrack(**o) for o in data["objects"]]
        fields["scenes"] = [Scene(**s) for s in data["scenes"]]
        return cls(**fields)

    @classmethod
    def from_json(cls, path: str | Path) -> GroundTruth:
        """Read a ground-truth file written by ``render_video``."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
