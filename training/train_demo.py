"""Train ``shapes-demo``: a tiny CLIP-shaped model of the synthetic shapes world, as ONNX.

This is a toy, not CLIP. It knows six colours and four shapes (see ``clipvi_tui.synthetic``) and
nothing else; it exists so that the app, its tests and its demo have a model whose curves mean
something on a machine with no internet and no CLIP weights.

Pipeline, kept identical to serving so that training frames look like what the Roboflow
Inference server feeds ``visual.onnx``: a BGR frame from OpenCV → (optionally letterboxed to a
square by the client) → JPEG (the SDK's ``cv2.imencode``) → decode → RGB → PIL → the server's own
``clip.clip._transform(224)`` (bicubic resize of the short side, centre crop, CLIP mean/std).
The exported image encoder takes that [N,3,224,224] float32 tensor and first halves it with a
2×2 average pool; training stores the pooled frames directly to save memory and time.

Text goes through ``clip.tokenize`` (the server's tokenizer): int32 [N,77]. The text encoder maps
the 49,408 BPE ids to a compact vocabulary with a lookup table (unknown words share one UNK
embedding, SOT/EOT/padding are ignored), averages the embeddings and runs a small MLP.

Losses, on the cosine matrix between a batch of frames and a batch of captions:

* CLIP's symmetric InfoNCE, with several positives per row and column (a frame with a red
  circle and a blue square is a positive for "a red circle", "something blue", "a square" ...);
* a SigLIP-style sigmoid term, which pins one cosine threshold for "present" across prompts;
* a binary cross-entropy on the image tower's concept read-outs (see ``ImageEncoder``), without
  which the tower learns colour at once and then never shape (or the reverse) within the budget.

Run (about 8–10 minutes on 2 CPU cores)::

    .venv/bin/python training/train_demo.py --out models/shapes-demo

Needs torch, rf-clip (``clip``), onnx, onnxruntime, opencv-python and Pillow; the package never
imports this file.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import clip
import cv2
import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clipvi_tui.synthetic import shapes, world

RESOLUTION = 224
POOLED = RESOLUTION // 2
EMBED_DIM = 128
MAX_OBJECTS = 3
COLOR_NAMES = list(shapes.COLORS)
SHAPE_NAMES = list(shapes.SHAPES)
N_PAIRS = len(COLOR_NAMES) * len(SHAPE_NAMES)
# Concept ids: colour+shape pairs first (c * n_shapes + s), then colours, then shapes.
N_CONCEPTS = N_PAIRS + len(COLOR_NAMES) + len(SHAPE_NAMES)

PAIR_TEMPLATES = (
    "a {c} {s}",
    "{c} {s}",
    "the {c} {s}",
    "a photo of a {c} {s}",
    "an image of a {c} {s}",
    "a {s} that is {c}",
    "a {c} {s} in the video",
    "{c} {s}s",
    "a {c} colored {s}",
    "a {c} coloured {s}",
)
COLOR_TEMPLATES = (
    "something {c}",
    "{c}",
    "a {c} object",
    "a {c} shape",
    "the color {c}",
    "{c} things",
    "anything {c}",
)
SHAPE_TEMPLATES = (
    "a {s}",
    "{s}",
    "a {s} shape",
    "the {s}",
    "{s}s",
    "a photo of a {s}",
    "any {s}",
)
# The phrasing used for evaluation and for calibrating the presence threshold.
EVAL_PAIR, EVAL_COLOR, EVAL_SHAPE = "a {c} {s}", "something {c}", "a {s}"

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # the server's normalisation
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
SOT, EOT = 49406, 49407
PAD_ID, UNK_ID = 0, 1
# Source frame sizes seen in training (weights): mostly the sample's 4:3, some 16:9 and larger.
SOURCE_SIZES = (((320, 240), 0.6), ((426, 240), 0.2), ((640, 480), 0.1), ((480, 270), 0.1))
LETTERBOX_P = 0.35  # share of frames padded to a square by the client (whole frame in view)
RADIUS_RANGE = (0.08, 0.25)  # covers render_video's 0.1–0.2 radius times its 0.8–1.25 zoom
# Objects showing between IGNORE_FROM and VISIBLE_FRACTION of their area are neither positives
# nor negatives: "is 30 % of a star a star?" has no good answer, and forcing one slows learning.
IGNORE_FROM = 0.15


# ----------------------------------------------------------------------------- text side


def concept_texts(concept: int) -> list[str]:
    """Every training phrasing of one concept id."""
    n_s = len(SHAPE_NAMES)
    if concept < N_PAIRS:
        c, s = COLOR_NAMES[concept // n_s], SHAPE_NAMES[concept % n_s]
        return [t.format(c=c, s=s) for t in PAIR_TEMPLATES]
    if concept < N_PAIRS + len(COLOR_NAMES):
        c = COLOR_NAMES[concept - N_PAIRS]
        return [t.format(c=c) for t in COLOR_TEMPLATES]
    s = SHAPE_NAMES[concept - N_PAIRS - len(COLOR_NAMES)]
    return [t.format(s=s) for t in SHAPE_TEMPLATES]


def build_remap() -> tuple[np.ndarray, int]:
    """Lookup table from CLIP BPE id to compact id, built from every training phrasing.

    Returns:
        ``(remap, vocab_size)``: int32 [49408] (0 = ignored, 1 = unknown) and the table size.
    """
    texts = [t for k in range(N_CONCEPTS) for t in concept_texts(k)]
    ids = sorted(set(clip.tokenize(texts).numpy().ravel().tolist()) - {0, SOT, EOT})
    remap = np.full(SOT + 2, UNK_ID, dtype=np.int32)
    remap[[PAD_ID, SOT, EOT]] = PAD_ID
    remap[ids] = np.arange(2, len(ids) + 2, dtype=np.int32)
    return remap, len(ids) + 2


class TextEncoder(nn.Module):
    """int32 [N,77] CLIP token ids → float32 [N,D]: lookup, mean of embeddings, MLP.

    A bag of words: order is ignored, which is fine for "a red circle" and means "a circle
    that is red" works too.
    """

    remap: torch.Tensor

    def __init__(self, remap: np.ndarray, vocab: int, width: int = 128, dim: int = EMBED_DIM):
        super().__init__()
        self.register_buffer("remap", torch.from_numpy(remap.astype(np.int32)))
        self.embed = nn.Embedding(vocab, width)
        self.mlp = nn.Sequential(nn.Linear(width, 256), nn.ReLU(), nn.Linear(256, dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Embed tokenised text (any integer dtype)."""
        return self.encode_compact(self.remap[tokens.long()].long())

    def encode_compact(self, ids: torch.Tensor) -> torch.Tensor:
        """Embed already-remapped compact ids (training feeds these directly)."""
        keep = (ids > PAD_ID).unsqueeze(-1).float()
        pooled = (self.embed(ids) * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        return self.mlp(pooled)


def caption_bank(remap: np.ndarray) -> list[np.ndarray]:
    """Per concept, the compact ids of every phrasing: int64 [n_phrasings, 77]."""
    return [
        remap[clip.tokenize(concept_texts(k)).numpy()].astype(np.int64) for k in range(N_CONCEPTS)
    ]


# ---------------------------------------------------------------------------- image side


def _block(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
    """3×3 conv (no bias: BatchNorm follows), BatchNorm, ReLU."""
    conv = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
    return [conv, nn.BatchNorm2d(c_out), nn.ReLU()]


class ImageEncoder(nn.Module):
    """Pooled frames [N,3,112,112] → float32 [N,D], through a concept bottleneck.

    Shape stream: seven 3×3 conv layers over a single channel, each pixel's saturation (max −
    min of the un-normalised RGB). Objects are vivid and backgrounds never are, so this is a
    clean silhouette, and a stream that cannot see colour spends all its gradient on shape. Its
    7×7 output cells see 87 of the 112 px, enough for the largest object.

    Colour stream: per-pixel 1×1 convs at 28×28, max-pooled to the same 7×7 cells.

    Fusion: 1×1 convs over both, per cell, then a max over cells (a detector that fires
    anywhere). Linear read-outs give logits for the 24 pairs (from the fused map: only channels
    where colour AND shape meet can serve them, which is what binds colour to shape), the 6
    colours and the 4 shapes (from their streams). The embedding is a learnt linear map of the
    34 presence probabilities. That bottleneck is what made binding work at this size: with an
    MLP head instead, a frame with a red square and a blue circle scored "a red circle" as high
    as the pairs really there.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, dim: int = EMBED_DIM):
        super().__init__()
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1))
        self.shape_stream = nn.Sequential(
            *_block(1, 16, 2),  # 56
            *_block(16, 32, 2),  # 28
            *_block(32, 32, 1),
            *_block(32, 64, 2),  # 14
            *_block(64, 64, 1),
            *_block(64, 96, 2),  # 7
            *_block(96, 128, 1),
        )
        self.color_stream = nn.Sequential(  # colour needs no detail: work at 28×28
            nn.AvgPool2d(4),
            nn.Conv2d(4, 32, 1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 32, 1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(4),
        )
        self.fuse = nn.Sequential(
            nn.Conv2d(128 + 32, 192, 1), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU()
        )
        self.pair_readout = nn.Linear(192, N_PAIRS)
        self.color_readout = nn.Linear(32, len(COLOR_NAMES))
        self.shape_readout = nn.Linear(128, len(SHAPE_NAMES))
        self.project = nn.Linear(N_CONCEPTS, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed pooled, normalised frames."""
        return self.forward_train(x)[0]

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings [N,D] and concept logits [N, N_CONCEPTS] (in concept-id order)."""
        rgb = x * self.std + self.mean
        saturation = (rgb.amax(1, keepdim=True) - rgb.amin(1, keepdim=True)) * 4.0 - 1.0
        shape = self.shape_stream(saturation)
        color = self.color_stream(torch.cat([x, saturation], dim=1))
        fused = self.fuse(torch.cat([shape, color], dim=1))
        logits = torch.cat(
            [
                self.pair_readout(fused.amax((2, 3))),
                self.color_readout(color.amax((2, 3))),
                self.shape_readout(shape.amax((2, 3))),
            ],
            dim=1,
        )
        return self.project(torch.sigmoid(logits)), logits


class VisualExport(nn.Module):
    """What ``visual.onnx`` computes: the server's [N,3,224,224] tensor → 2×2 pool → encoder."""

    def __init__(self, encoder: ImageEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Embed server-preprocessed frames."""
        return self.encoder(F.avg_pool2d(image, 2))


# ------------------------------------------------------------------------------- frames

_TRANSFORM = None


def server_tensor(bgr: np.ndarray, jpeg_quality: int | None = None) -> torch.Tensor:
    """A BGR frame as the server would feed it to ``visual.onnx``: float32 [3,224,224].

    Args:
        bgr: Frame exactly as the client hands it to the SDK.
        jpeg_quality: JPEG quality; ``None`` is ``cv2.imencode``'s default, as the SDK uses.

    Returns:
        The preprocessed tensor.
    """
    global _TRANSFORM
    if _TRANSFORM is None:  # the server's own transform, from the rf-clip package
        _TRANSFORM = clip.clip._transform(RESOLUTION)
    params = [] if jpeg_quality is None else [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    ok, buf = cv2.imencode(".jpg", bgr, params)
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    rgb = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    return _TRANSFORM(Image.fromarray(rgb))


def letterbox(image: np.ndarray) -> np.ndarray:
    """Pad a frame with black to a square, so the server's centre crop keeps all of it."""
    h, w = image.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    return cv2.copyMakeBorder(
        image, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT, value=0
    )


def _degrade(rng: np.random.Generator, bgr: np.ndarray) -> np.ndarray:
    """Blur and a lossy JPEG pass, standing in for video codecs before the SDK's own JPEG."""
    if rng.random() < 0.3:
        bgr = cv2.GaussianBlur(bgr, (0, 0), float(rng.uniform(0.4, 1.2)))
    if rng.random() < 0.5:
        quality = int(rng.integers(35, 90))
        _, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        bgr = np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR))
    return bgr


def make_chunk(args: tuple[int, int, int, bool, float]) -> dict[str, np.ndarray]:
    """Render ``n`` labelled frames through the serving pipeline (runs in a worker process).

    Args:
        args: ``(base_seed, chunk_index, n, degrade, letterbox_p)``.

    Returns:
        Arrays ``x`` float16 [n,3,112,112] (pooled model input), ``color``/``shape`` int8
        [n,3] (-1 = no object), ``frac`` float32 [n,3] (visible fraction in the model's view)
        and ``letterbox`` bool [n].
    """
    base, index, n, degrade, letterbox_p = args
    torch.set_num_threads(1)
    rng = np.random.default_rng([base, index])
    sizes = [s for s, _ in SOURCE_SIZES]
    weights = np.array([p for _, p in SOURCE_SIZES])
    out: dict[str, np.ndarray] = {
        "x": np.empty((n, 3, POOLED, POOLED), np.float16),
        "color": np.full((n, MAX_OBJECTS), -1, np.int8),
        "shape": np.full((n, MAX_OBJECTS), -1, np.int8),
        "frac": np.zeros((n, MAX_OBJECTS), np.float32),
        "letterbox": np.zeros(n, bool),
    }
    for i in range(n):
        size = sizes[int(rng.choice(len(sizes), p=weights / weights.sum()))]
        boxed = bool(rng.random() < letterbox_p)
        # Labels are judged in what the model will see: the centre square, or all of a
        # letterboxed frame.
        region = None if boxed else shapes.center_square(size)
        frame = world.sample_frame(
            rng, size, max_objects=MAX_OBJECTS, region=region, radius_range=RADIUS_RANGE
        )
        bgr = _degrade(rng, frame.image) if degrade else frame.image
        if boxed:
            bgr = letterbox(bgr)
        x = F.avg_pool2d(server_tensor(bgr).unsqueeze(0), 2)[0]
        out["x"][i] = x.numpy().astype(np.float16)
        out["letterbox"][i] = boxed
        for j, (obj, frac) in enumerate(zip(frame.objects, frame.fractions, strict=True)):
            out["color"][i, j] = COLOR_NAMES.index(obj.color)
            out["shape"][i, j] = SHAPE_NAMES.index(obj.shape)
            out["frac"][i, j] = frac
    return out


def generate(
    base: int, n: int, *, degrade: bool, letterbox_p: float, workers: int, chunk: int = 500
) -> dict[str, np.ndarray]:
    """Render ``n`` frames in deterministic chunks (same result for any worker count)."""
    jobs = [
        (base, k, min(chunk, n - k * chunk), degrade, letterbox_p) for k in range(-(-n // chunk))
    ]
    if workers > 1:
        # spawn, not fork: the parent's torch thread pool must not be inherited mid-flight.
        with mp.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(make_chunk, jobs)
    else:
        parts = [make_chunk(j) for j in jobs]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def positives(data: dict[str, np.ndarray], threshold: float) -> torch.Tensor:
    """Which concepts each frame shows at ``threshold`` visibility: bool [N, N_CONCEPTS]."""
    color, shape = torch.from_numpy(data["color"]), torch.from_numpy(data["shape"])
    return _positives(color, shape, torch.from_numpy(data["frac"]), threshold)


def _positives(
    color: torch.Tensor, shape: torch.Tensor, frac: torch.Tensor, threshold: float
) -> torch.Tensor:
    """``positives`` on tensors (training indexes batches out of them)."""
    n = color.shape[0]
    pos = torch.zeros(n, N_CONCEPTS, dtype=torch.bool)
    seen = (frac >= threshold) & (color >= 0)
    rows = torch.arange(n).unsqueeze(1).expand_as(color)[seen]
    c, s = color[seen].long(), shape[seen].long()
    pos[rows, c * len(SHAPE_NAMES) + s] = True
    pos[rows, N_PAIRS + c] = True
    pos[rows, N_PAIRS + len(COLOR_NAMES) + s] = True
    return pos


# ------------------------------------------------------------------------------ training


def _multi_positive_nce(logits: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """InfoNCE over rows where several columns may be right: -log(sum of their softmax)."""
    rows = pos.any(1)
    if not rows.any():
        return logits.sum() * 0.0
    logits, pos = logits[rows], pos[rows]
    return (logits.logsumexp(1) - logits.masked_fill(~pos, -1e4).logsumexp(1)).mean()


def _d4(x: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 flips/rotations of the last two axes; every shape is invariant under all."""
    if k & 1:
        x = x.flip(-1)
    if k & 2:
        x = x.flip(-2)
    if k & 4:
        x = x.transpose(-2, -1)
    return x


def train(
    data: dict[str, np.ndarray],
    image_enc: ImageEncoder,
    text_enc: TextEncoder,
    bank: list[np.ndarray],
    *,
    steps: int,
    batch: int,
    lr: float,
    seed: int,
) -> list[dict[str, float]]:
    """Optimise both encoders (AdamW, warm-up then cosine decay); returns a short loss log."""
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_all = torch.from_numpy(data["x"])
    color, shape = torch.from_numpy(data["color"]), torch.from_numpy(data["shape"])
    frac = torch.from_numpy(data["frac"])
    nce_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    sig_scale = nn.Parameter(torch.tensor(math.log(10.0)))
    sig_bias = nn.Parameter(torch.tensor(-5.0))
    params = [*image_enc.parameters(), *text_enc.parameters(), nce_scale, sig_scale, sig_bias]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda k: min(1.0, (k + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, k / steps))),
    )
    image_enc.train()
    text_enc.train()
    log: list[dict[str, float]] = []
    t0 = time.perf_counter()
    for step in range(steps):
        idx = torch.randint(0, len(x_all), (batch,), generator=gen)
        x = _d4(x_all[idx].float(), int(rng.integers(8))).contiguous(
            memory_format=torch.channels_last
        )
        pos_frames = _positives(color[idx], shape[idx], frac[idx], shapes.VISIBLE_FRACTION)
        ignore_frames = _positives(color[idx], shape[idx], frac[idx], IGNORE_FROM) & ~pos_frames
        # Texts: one caption per frame that shows something (a random object, a random kind of
        # caption), then one random phrasing of every concept so each gets negatives each step.
        concepts: list[int] = []
        for row in pos_frames.numpy():
            hits = np.flatnonzero(row[:N_PAIRS])
            if len(hits):
                pair = int(rng.choice(hits))
                kind = rng.choice(3, p=[0.6, 0.2, 0.2])
                c, s = divmod(pair, len(SHAPE_NAMES))
                concepts.append([pair, N_PAIRS + c, N_PAIRS + len(COLOR_NAMES) + s][kind])
        concepts += list(range(N_CONCEPTS))
        ids = np.stack([bank[k][rng.integers(len(bank[k]))] for k in concepts])
        # Sometimes an unknown word rides along ("a red circle on the left"): UNK in a free
        # slot. Slot n+1 is EOT's (mapped to padding), so the n words in slots 1..n stay intact.
        extra = rng.random(len(ids)) < 0.2
        ids[extra, (ids[extra] > 0).sum(1) + 1] = UNK_ID

        emb, concept_logits = image_enc.forward_train(x)
        img = F.normalize(emb, dim=-1)
        txt = F.normalize(text_enc.encode_compact(torch.from_numpy(ids)), dim=-1)
        cos = img @ txt.T
        pos, ignore = pos_frames[:, concepts], ignore_frames[:, concepts]
        logits = (nce_scale.exp().clamp(max=100.0) * cos).masked_fill(ignore, -1e4)
        nce = 0.5 * (_multi_positive_nce(logits, pos) + _multi_positive_nce(logits.T, pos.T))
        # Both BCE terms are scaled as if summed over one set of concepts per frame, which keeps
        # them on the order of the InfoNCE term.
        sig = N_CONCEPTS * F.binary_cross_entropy_with_logits(
            sig_scale.exp() * cos + sig_bias, pos.float(), weight=(~ignore).float()
        )
        concept = N_CONCEPTS * F.binary_cross_entropy_with_logits(
            concept_logits, pos_frames.float(), weight=(~ignore_frames).float()
        )
        loss = nce + sig + concept
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            entry = {
                "step": step,
                "loss": round(loss.item(), 4),
                "infonce": round(nce.item(), 4),
                "sigmoid": round(sig.item(), 4),
                "concepts": round(concept.item(), 4),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            log.append(entry)
            print(json.dumps(entry), flush=True)
    image_enc.eval()
    text_enc.eval()
    return log


# ---------------------------------------------------------------------------- evaluation


@torch.no_grad()
def embed_images(image_enc: ImageEncoder, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Unit-norm embeddings of pooled frames."""
    outs = [image_enc(x[k : k + batch].float()) for k in range(0, len(x), batch)]
    return F.normalize(torch.cat(outs), dim=-1)


@torch.no_grad()
def embed_texts(text_enc: TextEncoder, texts: Sequence[str]) -> torch.Tensor:
    """Unit-norm embeddings of texts, through the real tokenizer and the remap table."""
    return F.normalize(text_enc(clip.tokenize(list(texts))), dim=-1)


def eval_texts() -> dict[str, list[str]]:
    """The evaluation prompts: every pair, every colour, every shape, in one phrasing."""
    return {
        "pair": [EVAL_PAIR.format(c=c, s=s) for c in COLOR_NAMES for s in SHAPE_NAMES],
        "color": [EVAL_COLOR.format(c=c) for c in COLOR_NAMES],
        "shape": [EVAL_SHAPE.format(s=s) for s in SHAPE_NAMES],
    }


def best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Cosine threshold with the best micro F1 (scores and labels flattened)."""
    order = np.argsort(-scores.ravel())
    s, y = scores.ravel()[order], labels.ravel()[order].astype(np.float64)
    tp = np.cumsum(y)
    f1 = 2 * tp / (np.arange(1, len(y) + 1) + y.sum())
    k = int(np.argmax(f1))
    threshold = float((s[k] + s[k + 1]) / 2) if k + 1 < len(s) else float(s[k])
    return threshold, float(f1[k])


def _swapped(pos: np.ndarray) -> np.ndarray:
    """Bool [N, pairs]: colour and shape both present, but on different objects (a red square
    and a blue circle make "red circle" and "blue square"): binding's hard negatives."""
    n_c, n_s = len(COLOR_NAMES), len(SHAPE_NAMES)
    colors, shapes = pos[:, N_PAIRS : N_PAIRS + n_c], pos[:, N_PAIRS + n_c :]
    both = (colors[:, :, None] & shapes[:, None, :]).reshape(len(pos), n_c * n_s)
    return both & ~pos[:, :N_PAIRS]


def classification_metrics(
    data: dict[str, np.ndarray], image_enc: ImageEncoder, text_enc: TextEncoder, threshold: float
) -> dict[str, Any]:
    """Zero-shot accuracies, presence detection and binding on a held-out split."""
    img = embed_images(image_enc, torch.from_numpy(data["x"]))
    sims = {k: (img @ embed_texts(text_enc, v).T).numpy() for k, v in eval_texts().items()}
    pos = positives(data, shapes.VISIBLE_FRACTION).numpy()
    unsure = positives(data, IGNORE_FROM).numpy() & ~pos
    n_visible = pos[:, :N_PAIRS].sum(1)
    # "Clean" single-object frames: one object shows, and any other is essentially out of view.
    others_hidden = ((data["frac"] < 0.05) | (data["frac"] >= shapes.VISIBLE_FRACTION)).all(1)
    single = (n_visible == 1) & others_hidden
    truth = pos[single, :N_PAIRS].argmax(1)
    pred = sims["pair"][single].argmax(1)
    n_s = len(SHAPE_NAMES)
    multi = n_visible >= 2
    top = np.argsort(-sims["pair"][multi], axis=1)
    exact = [
        set(t[:k]) == set(np.flatnonzero(row))
        for t, k, row in zip(top, n_visible[multi], pos[multi, :N_PAIRS], strict=True)
    ]
    # Presence: every (frame, pair prompt), partly visible objects left out of the count.
    above = sims["pair"] >= threshold
    labels, counted = pos[:, :N_PAIRS], ~unsure[:, :N_PAIRS]
    tp = float((above & labels & counted).sum())
    n_pred, n_true = float((above & counted).sum()), float((labels & counted).sum())
    swapped = _swapped(pos) & counted
    return {
        "frames": len(img),
        "single_object_frames": int(single.sum()),
        "pair_accuracy": round(float((pred == truth).mean()), 4),
        "pair_chance": round(1 / N_PAIRS, 4),
        "color_accuracy": round(float((sims["color"][single].argmax(1) == truth // n_s).mean()), 4),
        "shape_accuracy": round(float((sims["shape"][single].argmax(1) == truth % n_s).mean()), 4),
        "color_of_best_pair_accuracy": round(float((pred // n_s == truth // n_s).mean()), 4),
        "multi_object_frames": int(multi.sum()),
        "multi_object_top_k_exact": round(float(np.mean(exact)), 4) if exact else None,
        "presence_precision": round(tp / max(1.0, n_pred), 4),
        "presence_recall": round(tp / max(1.0, n_true), 4),
        "presence_f1": round(2 * tp / max(1.0, n_pred + n_true), 4),
        "presence_recall_by_objects": {
            str(k): round(float(above[(n_visible == k)][labels[n_visible == k]].mean()), 4)
            for k in range(1, MAX_OBJECTS + 1)
            if (n_visible == k).any()
        },
        "swapped_pair_false_alarm_rate": round(float(above[swapped].mean()), 4)
        if swapped.any()
        else None,
    }


def otsu_midpoint(curve: np.ndarray) -> float:
    """Midpoint between the means of the curve's low and high clusters (1-D 2-means/Otsu).

    Uses only the curve itself, never the ground truth.
    """
    s = np.sort(curve)
    best, split = -1.0, len(s) // 2
    for k in range(1, len(s)):
        lo, hi = s[:k], s[k:]
        between = len(lo) * len(hi) * (lo.mean() - hi.mean()) ** 2
        if between > best:
            best, split = between, k
    return float((s[:split].mean() + s[split:].mean()) / 2)


def _pair_of(text: str) -> tuple[str, str]:
    """``(color, shape)`` back from an ``EVAL_PAIR`` prompt."""
    _, color, shape = text.split()
    return color, shape


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Frame-level intersection over union of two boolean masks (1.0 when both empty)."""
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def read_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a video, BGR, as OpenCV decodes it."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def video_metrics(
    image_enc: ImageEncoder,
    text_enc: TextEncoder,
    threshold: float,
    seeds: Sequence[int],
    workdir: Path,
) -> dict[str, Any]:
    """Curves on freshly rendered held-out videos, thresholded and scored against their truth.

    Frames go through the SDK's JPEG and the server's preprocessing, as served: both as they are
    (the server's centre crop hides the sides of a 4:3 frame) and letterboxed by the client.
    """
    texts = eval_texts()["pair"]
    txt = embed_texts(text_enc, texts)
    videos = []
    for seed in seeds:
        path = workdir / f"heldout-{seed}.mp4"
        videos.append((world.render_video(path, seed=seed, seconds=20.0), read_frames(path)))
    results: dict[str, Any] = {}
    for mode in ("as_is", "letterboxed"):
        fixed, mid, gaps, false_alarms = [], [], [], []
        for truth, frames in videos:
            prep = [letterbox(f) if mode == "letterboxed" else f for f in frames]
            x = torch.stack([F.avg_pool2d(server_tensor(f).unsqueeze(0), 2)[0] for f in prep])
            sims = (embed_images(image_enc, x) @ txt.T).numpy()
            for color, shape in sorted({(o.color, o.shape) for o in truth.objects}):
                gt = truth.visible(color, shape)
                curve = sims[:, texts.index(EVAL_PAIR.format(c=color, s=shape))]
                fixed.append(iou(curve >= threshold, gt))
                mid.append(iou(curve >= otsu_midpoint(curve), gt))
                if gt.any() and (~gt).any():
                    gaps.append(float(curve[gt].mean() - curve[~gt].mean()))
            # Prompts for pairs that no object in the video has: any frame above is an error.
            absent = [k for k, t in enumerate(texts) if not truth.visible(*_pair_of(t)).any()]
            false_alarms.append(float((sims[:, absent] >= threshold).mean()))
        results[mode] = {
            "curves": len(fixed),
            "iou_fixed_threshold_mean": round(float(np.mean(fixed)), 4),
            "iou_fixed_threshold_min": round(float(np.min(fixed)), 4),
            "iou_fixed_threshold_share_ge_0.8": round(float(np.mean(np.array(fixed) >= 0.8)), 4),
            "iou_midpoint_mean": round(float(np.mean(mid)), 4),
            "iou_midpoint_min": round(float(np.min(mid)), 4),
            "mean_cosine_gap_visible_minus_not": round(float(np.mean(gaps)), 4),
            "absent_pairs_frames_above_threshold": round(float(np.mean(false_alarms)), 4),
        }
    return results


# ----------------------------------------------------------------------------------- export


def export_onnx(image_enc: ImageEncoder, text_enc: TextEncoder, out: Path) -> dict[str, Any]:
    """Write ``visual.onnx`` and ``textual.onnx`` (opset 17, IR 8) and check them with ORT.

    Returns:
        File sizes, input signatures and the largest difference between torch and onnxruntime.

    Raises:
        RuntimeError: If onnxruntime's outputs disagree with torch's.
    """
    out.mkdir(parents=True, exist_ok=True)
    visual = VisualExport(image_enc.to(memory_format=torch.contiguous_format)).eval()
    image = torch.randn(4, 3, RESOLUTION, RESOLUTION)
    tokens = clip.tokenize(["a red circle", "something blue", "a dog on a skateboard", ""])
    assert tokens.dtype == torch.int32, "the legacy server loader needs int32 token ids"
    report: dict[str, Any] = {}
    for module, example, name, input_name in (
        (visual, image, "visual.onnx", "image"),
        (text_enc, tokens, "textual.onnx", "text"),
    ):
        path = out / name
        with warnings.catch_warnings():
            # The TorchScript exporter is deprecated but needs no onnxscript and keeps IR 8.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (example,),
                str(path),
                dynamo=False,
                opset_version=17,
                input_names=[input_name],
                output_names=["embeddings"],
                dynamic_axes={input_name: {0: "batch"}, "embeddings": {0: "batch"}},
            )
        model = onnx.load(str(path))
        model.ir_version = min(model.ir_version, 8)
        model.producer_name = "clipvi-tui shapes-demo"
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (got,) = session.run(None, {input_name: example.numpy()})
        with torch.no_grad():
            want = module(example).numpy()
        report[name] = {
            "bytes": path.stat().st_size,
            "input": [input_name, session.get_inputs()[0].type, session.get_inputs()[0].shape],
            "output_shape": list(got.shape),
            "ir_version": model.ir_version,
            "max_abs_diff_vs_torch": float(np.abs(got - want).max()),
        }
        if not np.allclose(got, want, atol=1e-4, rtol=1e-3):
            raise RuntimeError(f"{name}: onnxruntime disagrees with torch")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Render data, train, calibrate, evaluate on held-out seeds, export ONNX, write metrics.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("models/shapes-demo"))
    parser.add_argument("--train-frames", type=int, default=24000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=96)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-frames", type=int, default=3000, help="per held-out split")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering frames")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shapes-demo-work"))
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    # Disjoint seed families: training frames, calibration frames, test frames, test videos.
    train_base, calib_base, test_base = 1000 + args.seed, 2000 + args.seed, 3000 + args.seed
    video_seeds = [9001 + k for k in range(6)]

    print("rendering frames ...", flush=True)
    render = {"degrade": True, "workers": args.workers}
    data = generate(train_base, args.train_frames, letterbox_p=LETTERBOX_P, **render)
    calib = generate(calib_base, args.eval_frames, letterbox_p=0.5, **render)
    test_crop = generate(test_base, args.eval_frames, letterbox_p=0.0, **render)
    test_box = generate(test_base + 500, args.eval_frames, letterbox_p=1.0, **render)
    t_render = time.perf_counter() - t_start
    print(f"rendered in {t_render:.0f}s", flush=True)

    remap, vocab = build_remap()
    image_enc = ImageEncoder().to(memory_format=torch.channels_last)
    text_enc = TextEncoder(remap, vocab)
    t_train = time.perf_counter()
    log = train(
        data,
        image_enc,
        text_enc,
        caption_bank(remap),
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
    )
    t_train = time.perf_counter() - t_train
    del data

    # One threshold for every prompt, calibrated on frames the tests never see.
    img = embed_images(image_enc, torch.from_numpy(calib["x"]))
    scores = (img @ embed_texts(text_enc, eval_texts()["pair"]).T).numpy()
    labels = positives(calib, shapes.VISIBLE_FRACTION).numpy()[:, :N_PAIRS]
    threshold, calib_f1 = best_f1_threshold(scores, labels)

    args.workdir.mkdir(parents=True, exist_ok=True)
    argv_used = list(sys.argv[1:] if argv is None else argv)
    metrics: dict[str, Any] = {
        "model": "shapes-demo",
        "command": " ".join([".venv/bin/python training/train_demo.py", *argv_used]),
        "embedding_dim": EMBED_DIM,
        "colors": COLOR_NAMES,
        "shapes": SHAPE_NAMES,
        "visible_fraction": shapes.VISIBLE_FRACTION,
        "threshold": {
            "cosine": round(threshold, 4),
            "rule": f"present when cosine(frame, prompt) >= cosine; the best micro-F1 over "
            f"the {N_PAIRS} '{EVAL_PAIR}' prompts on {args.eval_frames} calibration frames "
            f"(seed family {calib_base}, half letterboxed), never test frames",
            "calibration_f1": round(calib_f1, 4),
        },
        "heldout_frames_center_crop": classification_metrics(
            test_crop, image_enc, text_enc, threshold
        ),
        "heldout_frames_letterboxed": classification_metrics(
            test_box, image_enc, text_enc, threshold
        ),
        "heldout_videos": {
            "seeds": video_seeds,
            **video_metrics(image_enc, text_enc, threshold, video_seeds, args.workdir),
        },
        "onnx": export_onnx(image_enc, text_enc, args.out),
        "training": {
            "train_frames": args.train_frames,
            "steps": args.steps,
            "batch": args.batch,
            "lr": args.lr,
            "seed": args.seed,
            "seed_families": {"train": train_base, "calibration": calib_base, "test": test_base},
            "parameters": {
                "image": sum(p.numel() for p in image_enc.parameters()),
                "text": sum(p.numel() for p in text_enc.parameters()),
            },
            "render_seconds": round(t_render, 1),
            "train_seconds": round(t_train, 1),
            "total_seconds": round(time.perf_counter() - t_start, 1),
            "torch": torch.__version__,
            "loss_log": log,
        },
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in metrics.items() if k != "training"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
