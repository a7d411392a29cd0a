"""A tiny, deterministic, CLIP-shaped ONNX pair that knows three colours.

Not a trained model: its weights are set by hand so that tests can reason about its output.

visual.onnx  float32 [N,3,224,224] (already CLIP-normalised by the server)
             → [N,512]: the first 3 dims are 4 × the mean of each RGB channel, the other 509 a
             fixed random projection of an 8×8 average-pooled image.
textual.onnx int32 [N,77] CLIP token ids → [N,512]: a sum of token rows (ids mod 1024); the
             rows of "red", "green" and "blue" point along dims 0, 1 and 2, all other rows
             are small random vectors, padding adds nothing.

So a red frame scores higher against "red" than "blue", and the same frame with its channels
swapped (the original app's BGR/RGB bug) scores the other way round.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DIM = 512
VOCAB = 1024
RES = 224
# CLIP BPE ids (clip.tokenize) of the colour words: red 736, green 1901, blue 1746.
COLOUR_TOKENS = {"red": 736, "green": 1901, "blue": 1746}


def write_tiny_clip(out_dir: Path, seed: int = 0) -> Path:
    """Write ``visual.onnx`` and ``textual.onnx`` into ``out_dir`` and return it.

    ``seed`` draws the random projections: another seed gives a model of the same shape and
    colour sense whose vectors differ (an imposter for the servers-disagree tests).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    k = RES // 8
    w = (rng.standard_normal((192, DIM - 3)) * 0.3 / np.sqrt(192)).astype(np.float32)
    visual = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["image"], ["means"], axes=[2, 3], keepdims=0),
            helper.make_node("Mul", ["means", "colour_gain"], ["colour"]),
            helper.make_node(
                "AveragePool", ["image"], ["pooled"], kernel_shape=[k, k], strides=[k, k]
            ),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "W"], ["texture"]),
            helper.make_node("Concat", ["colour", "texture"], ["embeddings"], axis=1),
        ],
        "tiny_colour_clip_visual",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, RES, RES])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", DIM])],
        initializer=[
            numpy_helper.from_array(w, "W"),
            numpy_helper.from_array(np.array(4.0, dtype=np.float32), "colour_gain"),
        ],
    )
    e = (rng.standard_normal((VOCAB, DIM)) * 0.05).astype(np.float32)
    e[0] = 0.0
    for axis, token in enumerate(COLOUR_TOKENS.values()):
        e[token % VOCAB] = 0.0
        e[token % VOCAB, axis] = 1.0
    textual = helper.make_graph(
        [
            helper.make_node("Mod", ["text", "V"], ["ids"]),
            helper.make_node("Gather", ["E", "ids"], ["tokens"], axis=0),
            helper.make_node("ReduceSum", ["tokens", "axes"], ["embeddings"], keepdims=0),
        ],
        "tiny_colour_clip_textual",
        [helper.make_tensor_value_info("text", TensorProto.INT32, ["batch", 77])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", DIM])],
        initializer=[
            numpy_helper.from_array(e, "E"),
            numpy_helper.from_array(np.array(VOCAB, dtype=np.int32), "V"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        ],
    )
    for name, graph in (("visual.onnx", visual), ("textual.onnx", textual)):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, str(out_dir / name))
    return out_dir
