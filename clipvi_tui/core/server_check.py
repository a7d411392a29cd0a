"""Do several Inference servers compute the same vectors? A probe embedding answers that.

Vectors from two servers may only be mixed in one cache if both servers run the same model with
the same preprocessing. ``/info`` cannot tell: it names the Inference release, not the model
behind ``clip/<version>``, nor how it resizes. So each server embeds the same probe image and
probe text, and the vectors are compared. The probe image is built to expose the differences that
matter: it is not square (centre crop vs. squash), has fine detail (resize filter), and has
strong, asymmetric colours (a red/blue channel swap).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import numpy as np

from clipvi_tui.core.cache import normalise

PROBE_TEXT = "a photo of a red circle next to a blue square"
# Two runs of the same ONNX model agree to ~1e-6 on one machine and to ~1e-4 between CPU and GPU
# execution providers; a different model or preprocessing lands far below 0.999.
AGREEMENT = 0.999


def probe_image() -> np.ndarray:
    """A deterministic 320×240 BGR test card (colour ramps, a red disc, a blue block, stripes)."""
    h, w = 240, 320
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // (w - 1)).astype(np.uint8)  # blue ramps left to right
    img[..., 1] = (y * 255 // (h - 1)).astype(np.uint8)  # green ramps top to bottom
    img[..., 2] = 40
    disc = (x - 70) ** 2 + (y - 120) ** 2 < 45**2
    img[disc] = (0, 0, 255)  # red, left of centre: a swap of R and B moves it
    img[150:220, 200:300] = (255, 0, 0)  # blue block, bottom right
    img[:, 300:][(x[:, 300:] // 2) % 2 == 0] = 255  # stripes at the edge a centre crop removes
    return img


@dataclass(frozen=True)
class Probe:
    """One server's answer to the probe.

    Attributes:
        url: the server.
        image: unit vector of :func:`probe_image`.
        text: unit vector of :data:`PROBE_TEXT`.
        version: the Inference release ``/info`` reports ('' if unknown).
    """

    url: str
    image: np.ndarray
    text: np.ndarray
    version: str = ""


def make_probe(url: str, image_vec: np.ndarray, text_vec: np.ndarray, version: str = "") -> Probe:
    """Normalise raw probe vectors into a :class:`Probe`."""
    return Probe(
        url=url,
        image=normalise(np.asarray(image_vec, dtype=np.float32).reshape(1, -1))[0],
        text=normalise(np.asarray(text_vec, dtype=np.float32).reshape(1, -1))[0],
        version=version,
    )


def disagreement(reference: Probe, other: Probe, model_id: str) -> str | None:
    """Why ``other`` does not compute the same vectors as ``reference``, or None if it does.

    Returns:
        A one-line explanation naming both servers, fit to show a user.
    """
    if reference.image.shape != other.image.shape or reference.text.shape != other.text.shape:
        why = f"{other.image.shape[0]}-dim vectors, not {reference.image.shape[0]}"
    else:
        cos_image = float(reference.image @ other.image)
        cos_text = float(reference.text @ other.text)
        if cos_image >= AGREEMENT and cos_text >= AGREEMENT:
            return None
        why = f"probe image cosine {cos_image:.4f}, probe text cosine {cos_text:.4f}"
    versions = ""
    if reference.version and other.version and reference.version != other.version:
        versions = f"; Inference {other.version} vs {reference.version}"
    return (
        f"{other.url} does not compute the same {model_id} vectors as {reference.url} "
        f"({why}{versions}): serve the same model on every server, or drop one from api_url"
    )


def server_version(url: str, timeout: float = 2.0) -> str:
    """The Inference release a server reports at ``/info``, or '' when it does not say."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/info", timeout=timeout) as resp:
            doc = json.loads(resp.read().decode("utf-8", "replace"))
    except (OSError, ValueError, urllib.error.URLError):
        return ""
    return str(doc.get("version", "")) if isinstance(doc, dict) else ""
