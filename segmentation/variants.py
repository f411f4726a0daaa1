"""Reduced-cost variants of a verified model, made here from it instead of downloaded.

A variant is a recipe over a pinned source model (today: the default ISNet): drop the outputs
the draft never reads, fix a smaller input size, quantise to int8 with ranges calibrated on
seeded product shots (segmentation.calibration). ``produce`` checks the source against its
pin, builds the variant beside the model dir, and pins the result in models.json under the
variant's name, so workers verify it like any added model (model_store.model_spec).

Why pin what we build: the recipe is deterministic (same source bytes, same calibration
pixels, same onnxruntime -> same file), but onnxruntime's quantiser and optimiser change
between releases, so the bytes are only promised per onnxruntime version. ``Variant.pins``
holds the SHA-256 measured for each version we built with; on such a version a different
result is refused (a broken recipe, a changed library), on another one the new hash is
recorded and printed, and the same guarantees hold from then on (the worker verifies it).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort

from segmentation import calibration
from segmentation.model_store import (
    DEFAULT_MODEL,
    ModelError,
    ModelSpec,
    _check_sha_arg,
    _pin,
    _staging,
    file_sha256,
    model_spec,
    verify_model_file,
)

# Bump when a recipe changes what it writes: part of every variant's provenance line.
RECIPE_VERSION = 2  # 2: int8 with 7-bit weights


class Variant:
    """One way of deriving a cheaper model from ``source``; subclasses say how in ``transform``."""

    kind: ClassVar[str] = ""

    def __init__(self, name: str, source: str = DEFAULT_MODEL, input_size: int | None = None,
                 pins: dict[str, str] | None = None, note: str = "") -> None:
        self.name = name
        self.source = source
        self.input_size = input_size
        self.pins = dict(pins or {})  # onnxruntime version -> SHA-256 of the file built with it
        self.note = note

    def describe(self) -> str:
        size = f", {self.input_size}²" if self.input_size else ""
        return f"{self.kind}{size} of {self.source}"

    def provenance(self, source_sha256: str) -> str:
        """Everything the output bytes depend on, recorded beside the pin."""
        return (f"{self.describe()} (SHA-256 {source_sha256}), recipe v{RECIPE_VERSION}, "
                f"onnxruntime {ort.__version__}, onnx {onnx.__version__}")

    def build(self, source: Path, dest: Path, family: str) -> None:
        model = onnx.load(str(source))
        model = keep_first_output(float32_graph(model))
        if self.input_size:
            model = with_input_size(model, self.input_size)
        self.transform(model, dest, family)

    def transform(self, model: onnx.ModelProto, dest: Path, family: str) -> None:
        save(model, dest)


class Lean(Variant):
    """fp32 graph without ISNet's five side outputs and feature maps (only the mask is read)."""

    kind = "lean"


class Int8Static(Variant):
    """Static int8 (QDQ, uint8 activations, int8 per-channel weights) calibrated on product shots.

    QDQ with uint8 activations / int8 weights is what onnxruntime's CPU kernels fuse into
    QLinearConv (VNNI / AMX where the CPU has them). ``exclude`` names op types kept in float:
    the Sigmoid outputs (a probability's tails, where the mask edge sits, do not survive 8 bits).
    """

    kind = "int8"

    def __init__(self, name: str, source: str = DEFAULT_MODEL, input_size: int | None = None,
                 pins: dict[str, str] | None = None, note: str = "", calibration_images: int = 8,
                 calibration_seed: int = 20240614, per_channel: bool = True,
                 keep_float: Sequence[str] = ("Sigmoid",), last_convs_float: int = 0,
                 op_types: Sequence[str] | None = None, float_scopes: Sequence[str] = (),
                 reduce_range: bool = True) -> None:
        super().__init__(name, source, input_size, pins, note)
        # 7-bit weights: on x86 CPUs without VNNI (AVX2 only) onnxruntime multiplies uint8 by
        # int8 with an instruction that saturates at 16 bits, and full-range weights gave a
        # tiny model's int8 masks of nothing there while a VNNI machine drew them right.
        self.reduce_range = reduce_range
        self.calibration_images = calibration_images
        self.calibration_seed = calibration_seed
        self.per_channel = per_channel
        self.keep_float = tuple(keep_float)
        self.last_convs_float = last_convs_float
        self.op_types = tuple(op_types) if op_types else None
        self.float_scopes = tuple(float_scopes)

    def describe(self) -> str:
        return (f"{super().describe()}, calibrated on {self.calibration_images} product shots "
                f"(seed {self.calibration_seed}), per-channel {self.per_channel}, float {self.keep_float}"
                f"{f' + last {self.last_convs_float} convs' if self.last_convs_float else ''}"
                f"{f', quantising {self.op_types} only' if self.op_types else ''}"
                f"{f', float in {self.float_scopes}' if self.float_scopes else ''}"
                f"{', 7-bit weights' if self.reduce_range else ''}")

    def transform(self, model: onnx.ModelProto, dest: Path, family: str) -> None:
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process

        from segmentation.sessions import get_family

        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".variant-") as tmp:
            plain, prepared = Path(tmp) / "plain.onnx", Path(tmp) / "prepared.onnx"
            save(model, plain)
            # Folds the fp16 weights' Cast nodes and fuses what it can, so the quantiser sees
            # fp32 Conv weights, and infers the shapes it needs.
            quant_pre_process(str(plain), str(prepared), skip_symbolic_shape=True)
            prepared_model = onnx.load(str(prepared))
            excluded = [n.name for n in prepared_model.graph.node if n.op_type in self.keep_float]
            if self.last_convs_float:
                convs = [n.name for n in prepared_model.graph.node if n.op_type == "Conv"]
                excluded += convs[-self.last_convs_float:]
            excluded += [n.name for n in prepared_model.graph.node if n.name.startswith(self.float_scopes)]
            size = static_input_size(prepared_model)
            reader = ShotReader(get_family(family), prepared_model.graph.input[0].name, size,
                                self.calibration_images, self.calibration_seed)
            quantize_static(
                str(prepared), str(dest), reader, quant_format=QuantFormat.QDQ,
                per_channel=self.per_channel, op_types_to_quantize=list(self.op_types) if self.op_types else None,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8, nodes_to_exclude=excluded, reduce_range=self.reduce_range,
                calibrate_method=CalibrationMethod.MinMax, calibration_providers=["CPUExecutionProvider"],
            )


class ShotReader:
    """A CalibrationDataReader (duck-typed: get_next) over seeded product shots, prepared as a worker would."""

    def __init__(self, family_cls, input_name: str, size: int, count: int, seed: int) -> None:
        self.family_cls = family_cls
        self.input_name = input_name
        self.size = size
        self._shots: Iterator = calibration.product_shots(count, seed=seed)

    def get_next(self) -> dict[str, np.ndarray] | None:
        shot = next(self._shots, None)
        if shot is None:
            return None
        return {self.input_name: normalize_for(self.family_cls, shot, self.size)}


def normalize_for(family_cls, rgb, size: int) -> np.ndarray:
    """The family's normalisation at ``size`` without a session (the family's own code)."""
    fam = family_cls.__new__(family_cls)
    fam.input_size = size
    return fam.normalize(rgb)


# The variants the registry knows, measured by bench/segment.py (README, *Model variants*).
# Pins: SHA-256 of the file each onnxruntime version built from isnet-general-use b6e8497b….
_ORT_1_31_1 = "1.31.1"
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Lean("isnet-lean", pins={_ORT_1_31_1: "f683aba4fe1b7029eed8986b1f70fc1ba8e95179960d3848dd3b36e8e0b0a571"},
             note="same masks as the default (max difference 3e-4), fp32 weights, side outputs dropped"),
        Lean("isnet-768", input_size=768,
             pins={_ORT_1_31_1: "78772cd2551ba9f56870d750e9d98a8377c289f073e64b8286ec7de1ca1859b6"}),
        Lean("isnet-640", input_size=640,
             pins={_ORT_1_31_1: "6b5298be7f532f3f193cd6c64d35846b71427bafe517d0e1e6221f3d862eb4e1"}),
        Lean("isnet-512", input_size=512,
             pins={_ORT_1_31_1: "2db1a80ad429132a50df9a0247b05137dd70320620237df6098bf46cea1d7a2d"}),
        # Kept to reproduce the finding, not for use: ISNet's decoder concatenates features of
        # ranges 0..27 with ones reaching ±1000, and one uint8 scale per tensor wipes out the
        # small ones (mean IoU 0.15); keeping the three finest decoder stages float only gets 0.81.
        Int8Static("isnet-int8", pins={_ORT_1_31_1: "84fd6a72cf9678ff31eaec150f36bceeb6cbdf310f2909ea49a14edde52cc805"},
                   note="3x faster, but unusable masks"),
    )
}


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ModelError(f"unknown variant {name!r}; known: {', '.join(sorted(VARIANTS))}") from None


def produce(name: str, model_dir: Path, sha256: str | None = None,
            variants: dict[str, Variant] | None = None) -> Path:
    """Build the variant ``name`` from its verified source model and pin it in models.json.

    ``sha256`` (or the variant's pin for this onnxruntime version) is what the result must hash
    to; anything else is refused and nothing is written. A verified copy is not built again.
    """
    variant = (variants or VARIANTS).get(name) or get_variant(name)
    source_spec = model_spec(variant.source, model_dir)
    source = model_dir / source_spec.filename
    verify_model_file(source, source_spec.sha256)
    expected = _check_sha_arg(sha256) if sha256 else variant.pins.get(ort.__version__)
    spec = ModelSpec(name=variant.name, family=source_spec.family, filename=f"{variant.name}.onnx",
                     sha256=expected or "", derived_from=variant.provenance(source_spec.sha256))
    dest = model_dir / spec.filename
    if expected and dest.is_file() and file_sha256(dest) == expected:
        _pin(spec, model_dir)
        return dest
    with _staging(dest) as tmp:
        variant.build(source, tmp, source_spec.family)
        got = file_sha256(tmp)
        if expected and got != expected:
            raise ModelError(
                f"variant {name} built from {source.name} has SHA-256 {got[:12]}…, expected {expected[:12]}… "
                f"(onnxruntime {ort.__version__}): refused"
            )
        spec = ModelSpec(**{**spec.__dict__, "sha256": got})
    _pin(spec, model_dir)
    return dest


# --- graph edits ------------------------------------------------------------------


def keep_first_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph computing only its first output: nodes and weights nothing else needs are dropped.

    ISNet exports five side outputs and six feature maps for training losses; onnxruntime
    computes every node of the graph whatever run() asks for, so they cost time per draft.
    """
    graph = model.graph
    keep = graph.output[0].name
    # Walk back from the output through producers (the fp16 export appends its Cast nodes
    # at the end, so node order alone is not enough); keep the survivors in their order.
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output}
    needed, todo, kept = {keep}, [keep], set()
    while todo:
        index = producer.get(todo.pop())
        if index is None or index in kept:
            continue
        kept.add(index)
        for name in graph.node[index].input:
            if name and name not in needed:
                needed.add(name)
                todo.append(name)
    live = [node for i, node in enumerate(graph.node) if i in kept]
    del graph.node[:]
    graph.node.extend(live)
    kept_outputs = [graph.output[0]]
    del graph.output[:]
    graph.output.extend(kept_outputs)
    used_inits = [init for init in graph.initializer if init.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(used_inits)
    info = [v for v in graph.value_info if v.name in needed]
    del graph.value_info[:]
    graph.value_info.extend(info)
    return model


def float32_graph(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same network computed in fp32 throughout, its weights fp32 initializers.

    The default ISNet file is an fp16 graph (input cast to fp16, fp16 weights, fp16 Conv,
    Cast nodes around Resize and at the output). onnxruntime's CPU has no fp16 Conv, so it
    wraps each in casts to fp32 at load: numerically this is what already runs. Done here
    once, the quantiser sees plain fp32 Conv weights (it only quantises initializers).
    """
    graph = model.graph
    for init in graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT16:
            data = onnx.numpy_helper.to_array(init).astype(np.float32)
            init.CopyFrom(onnx.numpy_helper.from_array(data, init.name))
    outputs = {o.name for o in graph.output}
    float_types = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
    def float_cast(node: onnx.NodeProto) -> bool:
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        return node.op_type == "Cast" and to in float_types

    # Casts sit anywhere in the node list (the fp16 export appended them), so collect every
    # float-to-float cast first, then point their consumers at what they cast.
    renamed = {n.output[0]: n.input[0] for n in graph.node if float_cast(n) and n.output[0] not in outputs}

    def origin(name: str) -> str:
        while name in renamed:
            name = renamed[name]
        return name

    nodes = []
    for node in graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = origin(name)
        if float_cast(node):
            if node.output[0] in outputs:  # a graph output keeps its name
                nodes.append(onnx.helper.make_node("Identity", [node.input[0]], [node.output[0]], node.name))
            continue
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    for value in [*graph.input, *graph.output]:
        if value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    del graph.value_info[:]  # fp16 types inside: onnxruntime infers them again
    return model


def with_input_size(model: onnx.ModelProto, size: int) -> onnx.ModelProto:
    """The same graph taking ``size``² input, its traced upsampling sizes scaled to match.

    ISNet's export traced each upsample target as Resize(sizes=Concat(Shape(x)[:2], [H, W]))
    with H, W constants of the 1024² graph; they are scaled by size/1024, which must divide
    every one of them (768 and 512 do: ISNet halves 1024 six times), or the size is refused.
    """
    graph = model.graph
    original = static_input_size(model)
    producer = {out: node for node in graph.node for out in node.output}
    for resize in (n for n in graph.node if n.op_type == "Resize" and len(n.input) > 3 and n.input[3]):
        concat = producer.get(resize.input[3])
        is_concat = concat is not None and concat.op_type == "Concat"
        parts = [producer.get(name) for name in concat.input] if is_concat else []
        constants = [p for p in parts if p is not None and p.op_type == "Constant"]
        if not constants:
            raise ModelError(f"{resize.name} has sizes this recipe cannot rescale; cannot change the input size")
        for constant in constants:
            tensor = constant.attribute[0].t
            values = onnx.numpy_helper.to_array(tensor)
            scaled = values * size // original
            if np.any(scaled * original != values * size):
                raise ModelError(f"input size {size} does not divide {resize.name}'s sizes {values.tolist()}")
            tensor.CopyFrom(onnx.numpy_helper.from_array(scaled.astype(values.dtype), tensor.name))
    for value in (graph.input[0], graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            raise ModelError(f"{value.name} is not NCHW; cannot change the input size")
        dims[2].dim_value = size
        dims[3].dim_value = size
    del graph.value_info[:]  # shapes inside change; onnxruntime infers them again
    return model


def static_input_size(model: onnx.ModelProto) -> int:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return int(dims[2].dim_value)


def save(model: onnx.ModelProto, dest: Path) -> None:
    with open(dest, "wb") as out:
        out.write(model.SerializeToString(deterministic=True))
        out.flush()
        os.fsync(out.fileno())

