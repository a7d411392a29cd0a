"""Thresholds of a score curve: a fixed value, or ``auto`` — derived from the curve, able to say
"no segment" (pure numpy).

The ``auto`` threshold (:func:`auto_threshold`) must be able to say "no segment", which plain
two-means cannot (it splits every curve, noise included). It accepts a split only when

1. there are enough embedded frames (:data:`MIN_AUTO_FRAMES`) to tell two states apart;
2. the two states are **separated**: the high state's median stands at least
   :data:`SEPARATION` noise units above the low state's, where the noise unit is the robust
   frame-to-frame jitter of the unsmoothed curve (:func:`noise_scale`). This standardisation is
   not inflated by the states themselves (a curve's own MAD is, when its object is on screen a
   third of the time), and pure noise never passes it: Otsu's halves of white noise sit ≈1.4
   noise units apart (beyond 8 in 1 of 20 000 draws of 15 frames, none of 20 000 from 20 up);
3. the high state is **present**: its median reaches the view's presence floor
   (:func:`clipvi_tui.core.views.presence_floors`). Separation alone is not enough on real
   curves: a prompt whose object never appears still steps up when something like it enters
   (the demo model's "a red circle" rises from −0.25 to +0.05 while a purple circle is on
   screen), and so do all prompts at a scene cut. States under the floor are peeled off and
   the split is searched again above them, so a partial-match plateau is never a segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clipvi_tui.core.moments import MIN_NOISE, changes
from clipvi_tui.core.views import MAD_TO_SD

# Fewest embedded frames from which ``auto`` tries to find two states.
MIN_AUTO_FRAMES = 15
# How far apart (in noise units) the state medians must be for ``auto`` to accept a split.
SEPARATION = 8.0


def noise_scale(values: np.ndarray) -> float:
    """The frame-to-frame jitter of a curve, as a standard deviation of one value.

    From the changes between embedded neighbours: ``max(1.4826·MAD, ½·SD) / √2``. The MAD
    ignores the few large changes where a state begins or ends; the SD term keeps a short curve
    whose changes happen to nearly agree from looking noise-free. Never below :data:`MIN_NOISE`.
    """
    d = changes(values)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return MIN_NOISE
    robust = MAD_TO_SD * float(np.median(np.abs(d - np.median(d))))
    classic = float(d.std())
    return max(max(robust, 0.5 * classic) / np.sqrt(2.0), MIN_NOISE)


def otsu_split(values: np.ndarray) -> float | None:
    """Otsu's threshold of the finite values: the cut that maximises between-class variance.

    Returns:
        The midpoint between the two values either side of the best cut; None when fewer than
        two distinct finite values exist.
    """
    v = np.asarray(values, dtype=np.float64)
    s = np.sort(v[np.isfinite(v)])
    n = s.size
    if n < 2 or s[0] == s[-1]:
        return None
    c = np.cumsum(s)
    k = np.arange(1, n)
    m_low = c[:-1] / k
    m_high = (c[-1] - c[:-1]) / (n - k)
    between = k * (n - k) * (m_high - m_low) ** 2
    between[s[1:] == s[:-1]] = -1.0  # a cut must fall between two different values
    i = int(np.argmax(between))
    return float((s[i] + s[i + 1]) / 2)


@dataclass(frozen=True)
class Threshold:
    """The threshold of one curve and where it came from.

    Attributes:
        value: frames at or above it are "on"; None = no segment.
        rule: ``auto`` or ``fixed``.
        reason: why ``value`` is None (empty otherwise), in words for the user.
    """

    value: float | None
    rule: str
    reason: str = ""


def _medians(v: np.ndarray, t: float) -> tuple[float, float]:
    return float(np.median(v[v <= t])), float(np.median(v[v > t]))


def auto_threshold(
    values: np.ndarray, *, floor: float, noise_ref: np.ndarray | None = None
) -> Threshold:
    """A threshold derived from the curve itself, or None when it has no separated high state.

    See the module docstring for the rule. The returned value is Otsu's cut between the
    present high state and the states below it, never above ``floor`` when the low state is
    itself present (then every frame above the floor counts).

    Args:
        values: the curve to threshold (possibly smoothed), NaN where not embedded.
        floor: the presence floor in the curve's units; ``-inf`` for none (separation alone).
        noise_ref: the curve before smoothing, to measure the noise on (smoothing hides white
            noise's jitter, which would make noise look separated); defaults to ``values``.

    Returns:
        A :class:`Threshold` with rule ``auto``.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < MIN_AUTO_FRAMES:
        return Threshold(None, "auto", f"fewer than {MIN_AUTO_FRAMES} frames embedded")
    sigma = noise_scale(values if noise_ref is None else noise_ref)
    cut = otsu_split(v)
    if cut is None:
        return Threshold(None, "auto", "the curve is flat")
    low, high = _medians(v, cut)
    if high - low < SEPARATION * sigma:
        return Threshold(None, "auto", "no separated high state (the curve is noise or drift)")
    while True:
        upper = v[v > cut]
        sub = otsu_split(upper)
        sub_ok = sub is not None and np.ptp(_medians(upper, sub)) >= SEPARATION * sigma
        if high >= floor:
            # Peel off a partial-match plateau under the floor inside the high state.
            if sub is not None and sub_ok:
                sub_low, sub_high = _medians(upper, sub)
                if sub_low < floor <= sub_high:
                    cut, low, high = sub, sub_low, sub_high
                    continue
            # Both states present: every frame above the floor counts. (With no floor at all,
            # -inf, "present" means the separated high state, so the cut stands.)
            both_present = low >= floor and np.isfinite(floor)
            return Threshold(min(cut, floor) if both_present else cut, "auto")
        if sub is None or not sub_ok:
            return Threshold(
                None, "auto", f"the high state ({high:.3g}) stays below the presence floor"
            )
        cut = sub
        low, high = _medians(upper, sub)


def resolve_threshold(
    values: np.ndarray,
    fixed: float | None,
    *,
    floor: float,
    noise_ref: np.ndarray | None = None,
) -> Threshold:
    """``fixed`` as a :class:`Threshold`, or the :func:`auto_threshold` when it is None."""
    if fixed is not None:
        return Threshold(float(fixed), "fixed")
    return auto_threshold(values, floor=floor, noise_ref=noise_ref)
