"""ONNX export of a (compacted) network: the file an engine or a reader's machine runs.

:func:`export_onnx` writes opset 17 through the TorchScript exporter (``dynamo=False``; no onnxscript needed)
with a dynamic batch and, for fully convolutional networks, dynamic height and width.
:func:`store_weights_fp16` halves a file's size by storing its weights as float16 (computing stays float32):
lossless for the fp16-restricted evolutions of paper 2, whose weights are float16 values already.
:func:`write_exports` and :func:`read_exports`: the one record of a folder of exported networks
(``manifest.json``: the run, the task and, per file, its generation, input shape, FLOPs and channels), which
``evosynth deploy`` writes and the benchmarks and the book read.
"""
from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn


def export_onnx(model: nn.Module, example: torch.Tensor, path: str | Path, dynamic_hw: bool = False) -> Path:
    """``model`` (float32, eval) as an ONNX file (opset 17) with input ``input`` and output ``output``; the
    batch dimension is dynamic, and height and width too with ``dynamic_hw`` (fully convolutional nets)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = copy.deepcopy(model).float().eval().cpu()
    axes = {0: "batch", **({2: "height", 3: "width"} if dynamic_hw else {})}
    out_axes = axes if dynamic_hw else {0: "batch"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(net, (example[:1].float().cpu(),), str(path), dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": axes, "output": out_axes})
    return path


def store_weights_fp16(path: str | Path) -> bool:
    """Rewrite an ONNX file with its float32 weights stored as float16 (a Cast back to float32 at load; the
    arithmetic stays float32): half the size. Returns whether that was lossless (weights already fp16 values)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(path))
    lossless, casts, keep = True, [], []
    for init in m.graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            keep.append(init)
            continue
        w = numpy_helper.to_array(init)
        h = w.astype(np.float16)
        lossless &= bool(np.array_equal(h.astype(np.float32), w))
        keep.append(numpy_helper.from_array(h, init.name + "_fp16"))
        casts.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name], to=TensorProto.FLOAT))
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    nodes = casts + list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return lossless


EXPORTS = "manifest.json"


def write_exports(folder: str | Path, manifest: dict) -> Path:
    """Write ``manifest`` (with its ``files`` list) as the record of the exported networks in ``folder``."""
    path = Path(folder) / EXPORTS
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def read_exports(folder: str | Path) -> dict:
    """The record of the exported networks in ``folder`` (a published run's ``deploy/``), its ``files`` sorted by
    generation, each with ``path`` (its ONNX file) resolved. A folder without one is a clear error."""
    folder = Path(folder)
    path = folder / EXPORTS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: no exported networks in {folder} "
                                "(run 'evosynth deploy' for this run first)")
    manifest = json.loads(path.read_text())
    files = sorted(manifest.get("files", []), key=lambda f: int(f["generation"]))
    manifest["files"] = [{**f, "path": folder / f["onnx"]} for f in files]
    return manifest
