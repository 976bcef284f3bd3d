"""Deployment engines (a measurement tool): a compacted network exported and run as users deploy it.

A :class:`Variant` is one way to run a network: ``engine`` x ``dtype`` x ``layout``.

* ``pytorch``: PyTorch eager on the CPU, ``nchw`` or ``channels_last``, float32 / bfloat16 / float16;
* ``onnxruntime``: the exported ONNX file in ONNX Runtime (the portable engine), float32;
* ``openvino``: the same file in OpenVINO (Intel's engine for its CPUs), float32, and bfloat16 / float16 as
  its ``INFERENCE_PRECISION_HINT`` where the CPU plugin lists them among its capabilities;
* on CUDA, where present: ``pytorch-cuda`` (channels-last, float32 / float16 / bfloat16) and ``tensorrt``
  (ONNX Runtime's TensorRT provider, float32 / float16) where installed.

Half precision is measured only where the device runs it fast (:func:`plan_variants`, ``half="auto"``), and
:func:`device_features` records what decided it: the CPU's flags (``avx512_bf16``/``amx_bf16`` for bfloat16,
``avx512_fp16``/``amx_fp16`` for float16), oneDNN's own checks (``torch.ops.mkldnn._is_mkldnn_bf16_supported``
/ ``_is_mkldnn_fp16_supported``), OpenVINO's ``OPTIMIZATION_CAPABILITIES``, the CUDA compute capability.

:func:`prepare` gives a :class:`Runner`: ``runner(x)`` maps a float32 NCHW batch to float32 outputs (for
checks and evaluation); ``runner.timed(x)`` a zero-argument call that runs only the engine on an input
already in the engine's format (what ``speed.protocol.time_passes`` times). The ONNX files come from ``run/export.py``.
"""
from __future__ import annotations

import copy
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ..tasks.hardware import cpu_flags, cpu_name, mkldnn_check

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
HALF_FLAGS = {"bfloat16": ("avx512_bf16", "amx_bf16"), "float16": ("avx512_fp16", "amx_fp16")}
FLAGS_OF_INTEREST = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni", "amx_tile", "amx_bf16",
                     "amx_fp16", "amx_int8", "f16c", "fma")
OV_PRECISION = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}
OV_NAMES = {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}


@dataclass(frozen=True)
class Variant:
    engine: str
    dtype: str = "float32"
    layout: str = "nchw"

    @property
    def key(self) -> str:
        return f"{self.engine}/{self.dtype}/{self.layout}"

    @property
    def uses_onnx(self) -> bool:
        return self.engine in ("onnxruntime", "openvino", "tensorrt")


# ------------------------------------------------------------------------------------------- the device
def device_features() -> dict[str, Any]:
    """What the machine offers the engines (recorded beside every deploy measurement)."""
    flags = cpu_flags()
    f: dict[str, Any] = {
        "cpu": cpu_name(), "cpu_flags": sorted(flags & set(FLAGS_OF_INTEREST)), "torch": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "mkldnn_bf16": mkldnn_check("_is_mkldnn_bf16_supported"),
        "mkldnn_fp16": mkldnn_check("_is_mkldnn_fp16_supported"),
        "onnxruntime": None, "onnxruntime_providers": [], "openvino": None, "openvino_capabilities": [],
        "cuda": None,
    }
    if importlib.util.find_spec("onnxruntime"):
        import onnxruntime as ort

        f["onnxruntime"], f["onnxruntime_providers"] = ort.__version__, list(ort.get_available_providers())
    if importlib.util.find_spec("openvino"):
        import openvino as ov

        f["openvino"] = ov.get_version()
        try:
            f["openvino_capabilities"] = list(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
        except RuntimeError:
            pass
    if torch.cuda.is_available():
        f["cuda"] = {"name": torch.cuda.get_device_name(0), "capability": list(torch.cuda.get_device_capability(0))}
    return f


def half_decisions(features: dict[str, Any]) -> dict[str, dict[str, str | bool]]:
    """For each engine family and half dtype: ``{"fast": bool, "why": the features that decided}``."""
    flags = set(features.get("cpu_flags", []))
    out: dict[str, dict] = {}
    for dt, need in HALF_FLAGS.items():
        have = sorted(flags & set(need))
        onednn = features.get("mkldnn_bf16" if dt == "bfloat16" else "mkldnn_fp16")
        fast = bool(have) and bool(onednn)
        why = (f"CPU flags {', '.join(have) or 'none of ' + '/'.join(need)}; oneDNN {dt} check {onednn}")
        out[f"pytorch/{dt}"] = {"fast": fast, "why": why}
        cap = "BF16" if dt == "bfloat16" else "FP16"
        caps = features.get("openvino_capabilities", [])
        out[f"openvino/{dt}"] = {"fast": cap in caps, "why": f"OpenVINO CPU capabilities {caps}"}
    cuda = features.get("cuda")
    for dt, cc in (("float16", 7), ("bfloat16", 8)):
        fast = bool(cuda) and cuda["capability"][0] >= cc
        why = f"CUDA capability {cuda['capability'] if cuda else 'none'} (tensor cores for {dt}: >= {cc}.0)"
        out[f"pytorch-cuda/{dt}"] = {"fast": fast, "why": why}
        out[f"tensorrt/{dt}"] = {"fast": fast and dt == "float16", "why": why}
    return out


def plan_variants(features: dict[str, Any], engines=None, half: str = "auto") -> tuple[list[Variant], dict]:
    """The variants to measure here, and why each half-precision one is in or out.

    ``engines``: engine names to consider (``None``: every one installed). ``half``: ``auto`` (half precision
    only where :func:`half_decisions` says the device runs it fast), ``all`` (measure it anyway, to show a
    slow path) or ``none``. Returns ``(variants, {variant key: reason})``.
    """
    if half not in ("auto", "all", "none"):
        raise ValueError(f"half must be auto | all | none, got {half!r}")
    providers = features.get("onnxruntime_providers", [])
    candidates = [Variant("pytorch", "float32", "nchw"), Variant("pytorch", "float32", "channels_last"),
                  Variant("pytorch", "bfloat16", "channels_last"), Variant("pytorch", "float16", "channels_last")]
    if features.get("onnxruntime"):
        candidates.append(Variant("onnxruntime"))
    if features.get("openvino"):
        candidates += [Variant("openvino"), Variant("openvino", "bfloat16"), Variant("openvino", "float16")]
    if features.get("cuda"):
        candidates += [Variant("pytorch-cuda", dt, "channels_last") for dt in DTYPES]
        if "TensorrtExecutionProvider" in providers:
            candidates += [Variant("tensorrt"), Variant("tensorrt", "float16")]
    decisions, chosen, reasons = half_decisions(features), [], {}
    for v in candidates:
        if engines is not None and v.engine not in engines:
            continue
        if v.dtype != "float32":
            d = decisions[f"{v.engine}/{v.dtype}"]
            reasons[v.key] = ("fast: " if d["fast"] else "not fast: ") + d["why"]
            if half == "none" or (half == "auto" and not d["fast"]):
                continue
        chosen.append(v)
    return chosen, reasons


# ------------------------------------------------------------------------------------------- runners
@dataclass
class Runner:
    """One prepared variant: ``runner(x)`` float32 NCHW in -> float32 torch out; ``timed(x)`` engine only."""

    variant: Variant
    to_native: Callable
    run: Callable
    to_torch: Callable
    dtype_used: str  # what the engine says it computes in (OpenVINO may map a hint to another type)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_torch(self.run(self.to_native(x)))

    def timed(self, x: torch.Tensor) -> Callable[[], Any]:
        native = self.to_native(x)
        return lambda: self.run(native)


def _pytorch(model: nn.Module, v: Variant, device: str) -> Runner:
    dt = DTYPES[v.dtype]
    fmt = torch.channels_last if v.layout == "channels_last" else torch.contiguous_format
    dev = torch.device(device)
    net = copy.deepcopy(model).eval().to(device=dev, dtype=dt, memory_format=fmt)

    def run(x):
        with torch.inference_mode():
            y = net(x)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return y

    def native(x):
        x = x.to(device=dev, dtype=dt)
        return x.contiguous(memory_format=fmt) if x.dim() == 4 else x

    return Runner(v, native, run, lambda y: y.float().cpu(), v.dtype)


def _onnxruntime(onnx_path: Path, v: Variant, threads: int) -> Runner:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if v.engine == "tensorrt":
        providers = [("TensorrtExecutionProvider", {"trt_fp16_enable": v.dtype == "float16"}),
                     "CUDAExecutionProvider", "CPUExecutionProvider"]
    else:
        providers = ["CPUExecutionProvider"]
    sess = ort.InferenceSession(str(onnx_path), so, providers=providers)
    name = sess.get_inputs()[0].name
    return Runner(v, lambda x: np.ascontiguousarray(x.detach().cpu().float().numpy()),
                  lambda a: sess.run(None, {name: a})[0], lambda y: torch.from_numpy(np.array(y)), v.dtype)


def _openvino(onnx_path: Path, v: Variant, threads: int, shape: tuple[int, ...]) -> Runner:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(onnx_path))
    model.reshape(list(shape))  # static shapes: what a deployed camera pipeline compiles for
    compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1,
                                                 "PERFORMANCE_HINT": "LATENCY",
                                                 "INFERENCE_PRECISION_HINT": OV_PRECISION[v.dtype]})
    request = compiled.create_infer_request()
    hint = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
    used = OV_NAMES.get(hint, hint)
    return Runner(v, lambda x: np.ascontiguousarray(x.detach().cpu().float().numpy()),
                  lambda a: request.infer({0: a}, share_inputs=True, share_outputs=True)[0],
                  lambda y: torch.from_numpy(np.array(y, dtype=np.float32)), used)


def prepare(v: Variant, model: nn.Module | None, onnx_path: Path | None, shape: tuple[int, ...],
            threads: int = 1) -> Runner:
    """A :class:`Runner` for ``v``: eager variants run ``model``, the others ``onnx_path``; ``shape`` is the
    NCHW input it will be fed (OpenVINO compiles for it)."""
    if v.engine == "pytorch":
        return _pytorch(model, v, "cpu")
    if v.engine == "pytorch-cuda":
        return _pytorch(model, v, "cuda")
    if v.engine in ("onnxruntime", "tensorrt"):
        return _onnxruntime(onnx_path, v, threads)
    if v.engine == "openvino":
        return _openvino(onnx_path, v, threads, shape)
    raise ValueError(f"unknown engine {v.engine!r}")

