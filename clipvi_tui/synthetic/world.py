"""Synthetic videos of coloured shapes, with ground truth: an offline world with meaning.

There are no real CLIP weights on an offline machine, so the project brings its own world: short
clips of flat coloured shapes (``COLORS`` × ``SHAPES``) gliding over plain, low-saturation
backgrounds, cut into scenes. Every clip is a pure function of its seed and comes with a JSON
file that says, frame by frame, which object is visible. A toy model trained on the same world
(``models/shapes-demo``) turns prompts such as "a red circle" into curves that can be scored
against that truth.

Visibility rule: an object counts as *visible* in a frame when at least ``VISIBLE_FRACTION``
(40 %) of its full area is showing, i.e. lies inside the frame (or inside a given region) and is
not covered by an object drawn on top of it. Objects slide in across an edge and slide out again,
so each one has real stretches with and without it.

Headless: numpy and OpenCV only. Command line::

    python -m clipvi_tui.synthetic data/sample.mp4 --seed 2 --seconds 30 --include red:circle
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = ["SampledFrame", "main", "render_video", "sample_frame"]

from clipvi_tui.synthetic.shapes import (
    COLORS,
    SHAPE_EXTENT,
    SHAPES,
    VISIBLE_FRACTION,
    ObjectState,
    object_bgr,
    render_background,
    render_frame,
    visible_fractions,
)
from clipvi_tui.synthetic.truth import GroundTruth, ObjectTrack, Scene, mask_to_intervals


@dataclass
class SampledFrame:
    """A single random labelled frame, for training and evaluating models.

    Attributes:
        image: BGR uint8 frame.
        objects: Objects in drawing order.
        fractions: Visible fraction of each object (within the sampling region).
    """

    image: np.ndarray
    objects: list[ObjectState]
    fractions: list[float]

    def visible_labels(self, threshold: float = VISIBLE_FRACTION) -> list[tuple[str, str]]:
        """``(color, shape)`` of every object showing at least ``threshold`` of its area."""
        return [
            (o.color, o.shape)
            for o, f in zip(self.objects, self.fractions, strict=True)
            if f >= threshold
        ]


def sample_frame(
    rng: np.random.Generator,
    size: tuple[int, int] = (320, 240),
    *,
    max_objects: int = 3,
    region: tuple[int, int, int, int] | None = None,
    radius_range: tuple[float, float] = (0.09, 0.24),
    partial_p: float = 0.3,
) -> SampledFrame:
    """Draw one random scene: background plus 0..``max_objects`` distinct objects.

    Fewer objects are likelier than more (an empty frame 10 % of the time). Most objects lie
    wholly inside the region; a share ``partial_p`` is placed anywhere over it and a margin
    around it, so its edge cuts them and their visible fraction falls on either side of
    ``VISIBLE_FRACTION``.

    Args:
        rng: Random source.
        size: Frame ``(width, height)``.
        max_objects: Upper bound on the number of objects.
        region: Region whose visibility counts (see ``center_square``); whole frame if ``None``.
        radius_range: Object radius as a fraction of the frame's short side.
        partial_p: Probability that an object may straddle the region's edge.

    Returns:
        The frame, its objects and their visible fractions.
    """
    w, h = size
    x0, y0, x1, y1 = region if region is not None else (0, 0, w, h)
    background, _ = render_background(rng, size)
    pairs = [(c, s) for c in COLORS for s in SHAPES]
    # P(0) = 0.1; then 1, 2, ... objects with weights max_objects, max_objects - 1, ...
    ranks = np.arange(max_objects, 0, -1, dtype=float)
    weights = np.concatenate([[0.1], 0.9 * ranks / ranks.sum()]) if max_objects > 0 else np.ones(1)
    count = int(rng.choice(len(weights), p=weights))
    objects = []
    for k in rng.choice(len(pairs), size=count, replace=False):
        color, shape = pairs[int(k)]
        r = float(rng.uniform(*radius_range)) * min(w, h)
        # Inside: the whole shape fits in the region (when it can); otherwise anywhere near it.
        m = -0.6 * r if rng.random() < partial_p else min(SHAPE_EXTENT * r, (x1 - x0) / 2 - 1)
        mx, my = m, min(m, (y1 - y0) / 2 - 1)
        objects.append(
            ObjectState(
                color=color,
                shape=shape,
                x=float(rng.uniform(x0 + mx, x1 - mx)),
                y=float(rng.uniform(y0 + my, y1 - my)),
                radius=r,
                angle=float(rng.uniform(0, 360)),
                bgr=object_bgr(rng, color),
            )
        )
    fractions, _ = visible_fractions(objects, size, region)
    return SampledFrame(render_frame(background, objects), objects, fractions)


@dataclass
class _Plan:
    """Where and when one object of a video moves (internal)."""

    color: str
    shape: str
    scene: int
    first: int
    last: int  # inclusive
    path: list[tuple[float, float]]
    radius: tuple[float, float]  # at first and last frame
    angle: tuple[float, float]
    bgr: tuple[int, int, int]

    def state(self, frame: int) -> ObjectState | None:
        """Position at ``frame`` (constant speed along the path), or ``None`` if not on stage."""
        if not self.first <= frame <= self.last:
            return None
        t = (frame - self.first) / max(1, self.last - self.first)
        pts = np.array(self.path)
        seg = np.hypot(*np.diff(pts, axis=0).T)
        along = t * seg.sum()
        k = int(min(np.searchsorted(np.cumsum(seg), along), len(seg) - 1))
        local = (along - seg[:k].sum()) / seg[k] if seg[k] > 0 else 0.0
        x, y = pts[k] + local * (pts[k + 1] - pts[k])
        return ObjectState(
            color=self.color,
            shape=self.shape,
            x=float(x),
            y=float(y),
            radius=self.radius[0] + t * (self.radius[1] - self.radius[0]),
            angle=self.angle[0] + t * (self.angle[1] - self.angle[0]),
            bgr=self.bgr,
        )


def _offscreen(rng: np.random.Generator, size: tuple[int, int], r: float) -> tuple[float, float]:
    """A point just beyond a random edge, so an object there is entirely out of frame."""
    w, h = size
    out = SHAPE_EXTENT * r + 2
    edge = int(rng.integers(4))
    if edge in (0, 1):  # left / right
        return (-out if edge == 0 else w + out), float(rng.uniform(0.1 * h, 0.9 * h))
    return float(rng.uniform(0.1 * w, 0.9 * w)), (-out if edge == 2 else h + out)


def _plan_video(
    rng: np.random.Generator,
    frame_count: int,
    fps: float,
    size: tuple[int, int],
    include: Sequence[tuple[str, str]],
) -> tuple[list[tuple[int, int]], list[_Plan]]:
    """Cut the video into scenes and script every object's entrance, path and exit."""
    w, h = size
    scenes: list[tuple[int, int]] = []
    start = 0
    while start < frame_count:
        length = round(rng.uniform(5.0, 9.0) * fps)
        if frame_count - (start + length) < 3 * fps:  # no stub scene at the end
            length = frame_count - start
        scenes.append((start, start + length - 1))
        start += length
    pairs = [(c, s) for c in COLORS for s in SHAPES]
    plans: list[_Plan] = []
    min_dur = round(2.0 * fps)
    for index, (s0, s1) in enumerate(scenes):
        # Requested pairs are spread over the scenes, one each, round robin.
        wanted = [p for k, p in enumerate(include) if k % len(scenes) == index]
        count = max(len(wanted), int(rng.integers(1, 4)))
        others = [p for p in pairs if p not in wanted]
        picks = [others[int(k)] for k in rng.choice(len(others), count - len(wanted), False)]
        for color, shape in [*wanted, *picks]:
            r0 = float(rng.uniform(0.1, 0.2)) * min(w, h)
            r1 = r0 * float(rng.uniform(0.8, 1.25))
            # Every object enters or exits (or both) inside its scene, so its curve has a
            # stretch without it even in a one-scene video.
            enters, exits = rng.random() < 0.6, rng.random() < 0.6
            if not (enters or exits):
                enters, exits = (True, False) if rng.random() < 0.5 else (False, True)
            span = s1 - s0
            first = s0 + (int(rng.integers(0, max(1, span // 2))) if enters else 0)
            # An exit ends at least half a second before the cut, so it is seen to happen.
            earliest_exit = min(s1, max(first + min_dur, s0 + span // 2))
            latest_exit = max(earliest_exit, s1 - round(0.5 * fps))
            last = int(rng.integers(earliest_exit, latest_exit + 1)) if exits else s1

            def inside(r: float = r0) -> tuple[float, float]:
                return float(rng.uniform(r, w - r)), float(rng.uniform(r, h - r))

            path = [
                _offscreen(rng, size, r0) if enters else inside(),
                inside(),
                _offscreen(rng, size, r1) if exits else inside(r1),
            ]
            a0 = float(rng.uniform(0, 360))
            spin = 0.0 if shape == "circle" else float(rng.uniform(-60, 60))
            turn = spin * (last - first) / fps
            bgr = object_bgr(rng, color)
            plans.append(
                _Plan(color, shape, index, first, last, path, (r0, r1), (a0, a0 + turn), bgr)
            )
    return scenes, plans


def render_video(
    path: str | Path,
    *,
    seed: int,
    seconds: float = 20.0,
    fps: float = 10.0,
    size: tuple[int, int] = (320, 240),
    codec: str = "mp4v",
    include: Sequence[tuple[str, str]] = (),
) -> GroundTruth:
    """Render a synthetic video and its ground truth (``path.with_suffix(".json")``).

    The video is a sequence of scenes (5–9 s each, with cuts between them); each scene has its
    own background and 1–3 objects of distinct colour+shape that slide in from an edge and/or
    out over one. Identical arguments give identical frames and JSON.

    Args:
        path: Output video file, e.g. ``clip.mp4``.
        seed: Seed of everything random.
        seconds: Duration.
        fps: Frame rate.
        size: Frame ``(width, height)``.
        codec: FourCC handed to ``cv2.VideoWriter``.
        include: ``(color, shape)`` pairs guaranteed to appear (spread over scenes).

    Returns:
        The ground truth, also written as JSON.

    Raises:
        ValueError: On an unknown colour or shape in ``include``.
        RuntimeError: If OpenCV cannot open a writer for ``path`` and ``codec``.
    """
    for color, shape in include:
        if color not in COLORS or shape not in SHAPES:
            raise ValueError(f"cannot include {color} {shape}: unknown colour or shape")
    path = Path(path)
    rng = np.random.default_rng(seed)
    frame_count = max(1, round(seconds * fps))
    scenes, plans = _plan_video(rng, frame_count, fps, size, include)
    backgrounds = [render_background(rng, size) for _ in scenes]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV could not open a {codec!r} writer for {path}")
    flags = np.zeros((len(plans), frame_count), dtype=bool)
    boxes: list[list[list[float]]] = [[] for _ in plans]
    try:
        for frame in range(frame_count):
            scene = next(k for k, (s0, s1) in enumerate(scenes) if s0 <= frame <= s1)
            ids = [k for k, p in enumerate(plans) if p.scene == scene]
            live = [(k, s) for k in ids if (s := plans[k].state(frame)) is not None]
            states = [s for _, s in live]
            writer.write(render_frame(backgrounds[scene][0], states))
            fractions, masks = visible_fractions(states, size)
            for (k, _), frac, mask in zip(live, fractions, masks, strict=True):
                flags[k, frame] = frac >= VISIBLE_FRACTION
                if frac > 0:
                    ys, xs = np.nonzero(mask)
                    box = [frame, int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
                    boxes[k].append([*box, round(frac, 3)])
    finally:
        writer.release()
    truth = GroundTruth(
        fps=fps,
        frame_count=frame_count,
        width=size[0],
        height=size[1],
        seed=seed,
        objects=[
            ObjectTrack(k, p.color, p.shape, p.scene, mask_to_intervals(flags[k]), boxes[k])
            for k, p in enumerate(plans)
        ],
        scenes=[Scene(s0, s1, bg[1]) for (s0, s1), bg in zip(scenes, backgrounds, strict=True)],
    )
    truth.to_json(path.with_suffix(".json"))
    return truth


def _pair(text: str) -> tuple[str, str]:
    """Parse ``color:shape`` for ``--include``."""
    color, _, shape = text.partition(":")
    if color not in COLORS or shape not in SHAPES:
        raise argparse.ArgumentTypeError(f"expected color:shape from {list(COLORS)} × {SHAPES}")
    return color, shape


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render one synthetic video and its ground-truth JSON.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    parser = argparse.ArgumentParser(
        prog="python -m clipvi_tui.synthetic", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("path", type=Path, help="output video, e.g. data/sample.mp4")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--size", default="320x240", help="WIDTHxHEIGHT")
    parser.add_argument("--codec", default="mp4v", help="OpenCV FourCC")
    parser.add_argument(
        "--include", type=_pair, action="append", default=[], help="color:shape, repeatable"
    )
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    truth = render_video(
        args.path,
        seed=args.seed,
        seconds=args.seconds,
        fps=args.fps,
        size=(int(width), int(height)),
        codec=args.codec,
        include=args.include,
    )
    print(f"{args.path}: {truth.frame_count} frames, {len(truth.scenes)} scenes")
    for obj in truth.objects:
        spans = ", ".join(f"{a}-{b}" for a, b in obj.intervals) or "never visible"
        print(f"  #{obj.id} {obj.color} {obj.shape} (scene {obj.scene}): frames {spans}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
