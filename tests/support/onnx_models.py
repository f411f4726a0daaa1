"""Tiny ONNX models with a known answer, built with the onnx package for the tests.

Each takes ``input`` float32 [1, 3, S, S] and returns ``output`` [1, 1, S, S],
the same interface as ISNet, so the real pipeline runs on them in milliseconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # what opset 17 needs; keeps the files loadable by older onnxruntime too
SIZE = 64
BOX = (16, 8, 48, 40)  # (x0, y0, x1, y1) in model pixels: where box_model puts the subject
# bright_model's cut on the mean of RGB/255 - 0.5: pixels brighter than 0.75 * 255 ≈ 191.
BRIGHT_THRESHOLD = 0.25


def box_model(path: Path, size: int = SIZE, box: tuple[int, int, int, int] = BOX) -> Path:
    """Output 1 inside ``box`` = (x0, y0, x1, y1) in model pixels, 0 elsewhere, whatever the input."""
    x0, y0, x1, y1 = box
    mask = np.zeros((1, 1, size, size), np.float32)
    mask[..., y0:y1, x0:x1] = 1.0
    return _constant_mask_model(path, size, mask, "box")


def soft_model(path: Path, size: int = SIZE) -> Path:
    """A left-to-right ramp 0..1: every column a different, mostly undecided value."""
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    mask = np.broadcast_to(ramp, (1, 1, size, size)).copy()
    return _constant_mask_model(path, size, mask, "soft")


def bright_model(path: Path, size: int = SIZE, threshold: float = BRIGHT_THRESHOLD) -> Path:
    """Subject = pixels whose mean normalised RGB exceeds ``threshold`` (bright pixels)."""
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["grey"], axes=[1], keepdims=1),
        helper.make_node("Greater", ["grey", "threshold"], ["is_bright"]),
        helper.make_node("Cast", ["is_bright"], ["output"], to=TensorProto.FLOAT),
    ]
    inits = [numpy_helper.from_array(np.array(threshold, np.float32), "threshold")]
    return _save(path, _graph("bright", size, nodes, inits))


def _constant_mask_model(path: Path, size: int, mask: np.ndarray, name: str) -> Path:
    # output = mask + 0 * mean(input): the input is really consumed, as in a real model.
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["grey"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["grey", "zero"], ["nothing"]),
        helper.make_node("Add", ["nothing", "mask"], ["output"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(mask, "mask"),
    ]
    return _save(path, _graph(name, size, nodes, inits))


def _graph(name: str, size: int, nodes: list, inits: list) -> onnx.GraphProto:
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, size, size])
    return helper.make_graph(nodes, name, [x], [y], initializer=inits)


def _save(path: Path, graph: onnx.GraphProto) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path


def conv_model(path: Path, size: int = SIZE, threshold: float = BRIGHT_THRESHOLD, gain: float = 30.0) -> Path:
    """bright_model as a real network: a 1x1 Conv (the weights int8 quantisation acts on) and a Sigmoid.

    output = sigmoid(gain * (mean normalised RGB - threshold)): near 1 on bright pixels, near 0 on
    dark ones. Its input size is free (nothing in it depends on the size but the declared shape).
    """
    weight = np.full((1, 3, 1, 1), gain / 3.0, np.float32)
    bias = np.array([-gain * threshold], np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "weight", "bias"], ["logit"], name="conv"),
        helper.make_node("Sigmoid", ["logit"], ["output"], name="sigmoid"),
    ]
    inits = [numpy_helper.from_array(weight, "weight"), numpy_helper.from_array(bias, "bias")]
    return _save(path, _graph("conv", size, nodes, inits))
