"""Drawing the synthetic world: colours, shapes, backgrounds, and how much of a shape shows.

The primitives behind ``clipvi_tui.synthetic``: each colour is a hue with a little jitter, each
shape a polygon drawn with sub-pixel precision, each background a low-saturation texture that can
never be mistaken for an object colour. Headless: numpy and OpenCV only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

# Hue (degrees) of each colour. Rainbow order; the narrowest gap (red/orange/yellow, ~28°) is far
# wider than the per-object hue jitter below, so a name never becomes ambiguous.
_HUES: dict[str, float] = {
    "red": 0.0,
    "orange": 28.0,
    "yellow": 55.0,
    "green": 125.0,
    "blue": 225.0,
    "purple": 285.0,
}
_HUE_JITTER = 5.0
# Objects are always vivid (high saturation and value); backgrounds never exceed _BG_MAX_SAT, so
# a background can never be mistaken for an object colour.
_OBJ_SAT = (0.75, 1.0)
_OBJ_VAL = (0.85, 1.0)
_BG_MAX_SAT = 0.12

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
VISIBLE_FRACTION = 0.4
BACKGROUND_KINDS: tuple[str, ...] = ("solid", "gradient", "noise", "stripes", "checker")

# Geometry relative to an object's nominal radius r, chosen so the four shapes have similar areas.
_SQUARE_HALF = 0.85
_TRIANGLE_R = 1.25
_STAR_R, _STAR_INNER = 1.3, 0.55
SHAPE_EXTENT = 1.35  # every shape fits in a circle of SHAPE_EXTENT * r
_SHIFT = 4  # OpenCV sub-pixel bits: smooth motion instead of 1-pixel jumps


def _hsv_to_bgr(hue_deg: float, sat: float, val: float) -> tuple[int, int, int]:
    """Convert one HSV colour (degrees, 0–1, 0–1) to an OpenCV BGR triple."""
    hsv = np.array([[[(hue_deg % 360.0) / 2.0, sat * 255.0, val * 255.0]]], dtype=np.float32)
    hsv = np.clip(np.round(hsv), 0, [179, 255, 255]).astype(np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


COLORS: dict[str, tuple[int, int, int]] = {
    name: _hsv_to_bgr(hue, 0.9, 0.95) for name, hue in _HUES.items()
}
"""Canonical colour of each name, BGR. Rendered objects vary a little around it."""


@dataclass(frozen=True)
class ObjectState:
    """One shape as drawn in one frame.

    Attributes:
        color: Colour name, a key of ``COLORS``.
        shape: Shape name, one of ``SHAPES``.
        x: Centre x in pixels (may lie outside the frame).
        y: Centre y in pixels.
        radius: Nominal radius in pixels (see the geometry constants).
        angle: Rotation in degrees (ignored for circles).
        bgr: The exact fill colour, a jittered version of ``COLORS[color]``.
    """

    color: str
    shape: str
    x: float
    y: float
    radius: float
    angle: float
    bgr: tuple[int, int, int]


def _polygon(state: ObjectState) -> np.ndarray:
    """Vertices of a square, triangle or star as fixed-point int32 points for OpenCV."""
    a0 = math.radians(state.angle)
    if state.shape == "square":
        radii = [_SQUARE_HALF * math.sqrt(2.0) * state.radius] * 4
        angles = [a0 + math.pi / 4 + k * math.pi / 2 for k in range(4)]
    elif state.shape == "triangle":
        radii = [_TRIANGLE_R * state.radius] * 3
        angles = [a0 - math.pi / 2 + k * 2 * math.pi / 3 for k in range(3)]
    elif state.shape == "star":
        outer = _STAR_R * state.radius
        radii = [outer if k % 2 == 0 else outer * _STAR_INNER for k in range(10)]
        angles = [a0 - math.pi / 2 + k * math.pi / 5 for k in range(10)]
    else:
        raise ValueError(f"unknown shape {state.shape!r}; expected one of {SHAPES}")
    pts = [
        (state.x + r * math.cos(t), state.y + r * math.sin(t))
        for r, t in zip(radii, angles, strict=True)
    ]
    return np.round(np.array(pts) * (1 << _SHIFT)).astype(np.int32)


def _draw(img: np.ndarray, state: ObjectState, color: Any, line_type: int) -> None:
    """Fill ``state``'s shape into ``img`` in place (OpenCV clips anything off-canvas)."""
    if state.shape == "circle":
        center = (round(state.x * (1 << _SHIFT)), round(state.y * (1 << _SHIFT)))
        radius = round(state.radius * (1 << _SHIFT))
        cv2.circle(img, center, radius, color, -1, line_type, _SHIFT)
    else:
        cv2.fillPoly(img, [_polygon(state)], color, line_type, _SHIFT)


def _mask(state: ObjectState, size: tuple[int, int]) -> np.ndarray:
    """Binary mask of a shape on a ``size`` (width, height) canvas, clipped to it."""
    w, h = size
    canvas = np.zeros((h, w), dtype=np.uint8)
    _draw(canvas, state, 1, cv2.LINE_8)
    return canvas.astype(bool)


def _full_area(state: ObjectState) -> int:
    """Pixel count of the whole shape, as if the frame were infinite."""
    pad = math.ceil(SHAPE_EXTENT * state.radius) + 2
    # Same sub-pixel phase as in the frame, so the count matches what the frame would hold.
    local = replace(state, x=pad + state.x % 1.0, y=pad + state.y % 1.0)
    return int(_mask(local, (2 * pad + 2, 2 * pad + 2)).sum())


def center_square(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The central square of a frame, ``(x0, y0, x1, y1)`` with exclusive ends.

    CLIP-style preprocessing (resize the short side, centre crop) shows the model only this
    square, so training labels use it as the region in which visibility is judged.

    Args:
        size: Frame ``(width, height)``.

    Returns:
        The square's corners in frame pixels.
    """
    w, h = size
    side = min(w, h)
    x0, y0 = (w - side) // 2, (h - side) // 2
    return x0, y0, x0 + side, y0 + side


def visible_fractions(
    objects: Sequence[ObjectState],
    size: tuple[int, int],
    region: tuple[int, int, int, int] | None = None,
) -> tuple[list[float], list[np.ndarray]]:
    """Fraction of each object's full area that shows, and the mask of what shows.

    Objects are drawn in order, so a later object hides earlier ones where they overlap.

    Args:
        objects: Objects in drawing order.
        size: Frame ``(width, height)``.
        region: Only count pixels inside ``(x0, y0, x1, y1)``; the whole frame if ``None``.

    Returns:
        ``(fractions, masks)``: per object, the visible fraction in [0, 1] and a frame-sized
        boolean mask of its visible pixels.
    """
    w, h = size
    in_frame = [_mask(o, size) for o in objects]
    covered = np.zeros((h, w), dtype=bool)
    fractions: list[float] = [0.0] * len(objects)
    masks: list[np.ndarray] = [np.zeros((h, w), dtype=bool)] * len(objects)
    # Topmost first, accumulating what is already covered: later objects hide earlier ones.
    for i in range(len(objects) - 1, -1, -1):
        full = _full_area(objects[i])
        shown = in_frame[i] & ~covered
        if region is not None:
            x0, y0, x1, y1 = region
            clipped = np.zeros_like(shown)
            clipped[y0:y1, x0:x1] = shown[y0:y1, x0:x1]
            shown = clipped
        covered |= in_frame[i]
        fractions[i] = float(shown.sum()) / full if full else 0.0
        masks[i] = shown
    return fractions, masks


def render_background(
    rng: np.random.Generator, size: tuple[int, int], kind: str | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Draw a random near-grey background (dark, mid, light; plain or textured).

    Saturation never exceeds ``_BG_MAX_SAT`` so no background reads as an object colour.

    Args:
        rng: Random source.
        size: ``(width, height)``.
        kind: One of ``BACKGROUND_KINDS``; random if ``None``.

    Returns:
        ``(image, spec)``: a BGR uint8 image and a JSON-friendly description of it.
    """
    w, h = size
    kind = kind if kind is not None else str(rng.choice(BACKGROUND_KINDS))
    band = str(rng.choice(["dark", "mid", "light"]))
    lo, hi = {"dark": (0.04, 0.25), "mid": (0.35, 0.65), "light": (0.75, 0.97)}[band]
    level = float(rng.uniform(lo, hi))
    # Open grids broadcast to (h, w) only where needed: backgrounds dominate sampling time.
    yy, xx = np.ogrid[0:h, 0:w]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)
    lum: np.ndarray
    if kind == "solid":
        lum = np.full((h, w), level, dtype=np.float32)
    elif kind == "gradient":
        theta = rng.uniform(0, 2 * math.pi)
        ramp = (xx - w / 2) * math.cos(theta) + (yy - h / 2) * math.sin(theta)
        lum = level + float(rng.uniform(0.08, 0.2) / max(w, h)) * ramp
    elif kind == "noise":
        cells = rng.normal(0.0, 1.0, (int(rng.integers(4, 12)), int(rng.integers(4, 12))))
        blobs = cv2.resize(cells.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        grain = rng.random((h, w), dtype=np.float32) - np.float32(0.5)
        lum = level + 0.06 * blobs + 0.08 * grain
    elif kind == "stripes":
        theta = rng.uniform(0, math.pi)
        period = rng.uniform(12, 40)
        phase = (xx * math.cos(theta) + yy * math.sin(theta)) / period
        lum = level + float(rng.uniform(0.04, 0.1)) * np.sign(
            np.sin(np.float32(2 * math.pi) * phase)
        )
    elif kind == "checker":
        cell = int(rng.integers(10, 36))
        parity = ((xx // cell + yy // cell) % 2) * 2 - 1
        lum = level + float(rng.uniform(0.03, 0.08)) * parity
    else:
        raise ValueError(f"unknown background kind {kind!r}; expected one of {BACKGROUND_KINDS}")
    hue = float(rng.uniform(0, 360))
    sat = float(rng.uniform(0, _BG_MAX_SAT))
    tint = _hsv_to_bgr(hue, sat, 1.0)
    lum = np.clip(np.broadcast_to(lum, (h, w)), 0.0, 1.0).astype(np.float32)
    # One scaled, rounded, saturated uint8 plane per channel: far faster than numpy float maths.
    img = cv2.merge([cv2.convertScaleAbs(lum, alpha=float(t)) for t in tint])
    spec = {"kind": kind, "band": band, "level": round(level, 3), "tint_hue": round(hue, 1)}
    return img, spec


def render_frame(background: np.ndarray, objects: Sequence[ObjectState]) -> np.ndarray:
    """Composite objects, in order, over a copy of ``background``.

    Args:
        background: BGR uint8 image; not modified.
        objects: Objects in drawing order (later ones on top).

    Returns:
        The BGR uint8 frame.
    """
    frame = background.copy()
    for obj in objects:
        _draw(frame, obj, obj.bgr, cv2.LINE_AA)
    return frame


def object_bgr(rng: np.random.Generator, color: str) -> tuple[int, int, int]:
    """A slightly varied, still unmistakable, shade of ``color``."""
    hue = _HUES[color] + rng.uniform(-_HUE_JITTER, _HUE_JITTER)
    return _hsv_to_bgr(hue, rng.uniform(*_OBJ_SAT), rng.uniform(*_OBJ_VAL))
