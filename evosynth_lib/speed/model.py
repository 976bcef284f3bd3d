"""Inference-speed harness (a measurement, not a test): frames per second of a model, and what
half-precision arithmetic does on a device.

Protocol of :func:`measure_fps`: the model is copied and put in ``eval`` mode in the requested dtype on
the requested device; its forward pass on a fixed batch is timed by :func:`~.protocol.time_passes` (``warmup``
untimed passes, ``repetitions`` timed alone; CUDA is synchronised at the end of each pass) under
``torch.inference_mode`` with ``threads`` torch threads (:func:`~evosynth_lib.tasks.hardware.torch_threads`).
The reported latency is the **median** per-batch time, its spread the inter-quartile range, and
``fps = batch_size / median``.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
import torch.nn.functional as F

from ..tasks.hardware import torch_threads
from .protocol import REPETITIONS, WARMUP, time_passes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _batch(example_input: torch.Tensor, batch_size: int) -> torch.Tensor:
    """``example_input`` with its batch dimension made ``batch_size`` (first example repeated if needed)."""
    if example_input.shape[0] == batch_size:
        return example_input
    return example_input[:1].expand(batch_size, *example_input.shape[1:]).contiguous()


def measure_fps(model: nn.Module, example_input: torch.Tensor, batch_size: int = 1, warmup: int = WARMUP,
                repetitions: int = REPETITIONS, threads: int | None = None, dtype: torch.dtype = torch.float32,
                device: str | torch.device = "cpu") -> dict:
    """Median inference latency and throughput of ``model`` on batches shaped like ``example_input``.

    ``threads``: CPU intra-op threads for the measurement (restored after); ``None`` keeps the current setting
    (reported). The caller's model is not modified.

    Returns ``{"fps_median", "ms_median", "ms_iqr", "ms_q1", "ms_q3", "ms_all", "batch_size", "threads",
    "warmup", "repetitions", "dtype", "device"}`` (``ms_all``: every timed pass, in order).
    """
    if batch_size < 1 or repetitions < 1 or warmup < 0:
        raise ValueError(f"need batch_size >= 1, repetitions >= 1, warmup >= 0; got {batch_size}, "
                         f"{repetitions}, {warmup}")
    device = torch.device(device)
    with torch_threads(threads) as used_threads:
        net = copy.deepcopy(model).to(device=device, dtype=dtype).eval()
        x = _batch(example_input, batch_size).to(device=device, dtype=dtype)

        def forward():
            net(x)
            _sync(device)

        _sync(device)
        with torch.inference_mode():
            t = time_passes(forward, warmup, repetitions)
    return {
        "fps_median": batch_size / (t["ms_median"] / 1e3),
        "ms_median": t["ms_median"],
        "ms_iqr": t["ms_iqr"],
        "ms_q1": t["ms_q1"],
        "ms_q3": t["ms_q3"],
        "ms_all": t["ms_all"],
        "batch_size": batch_size,
        "threads": used_threads,
        "warmup": warmup,
        "repetitions": repetitions,
        "dtype": str(dtype).replace("torch.", ""),
        "device": str(device),
    }


def half_precision_support(device: str | torch.device = "cpu", shape=(1, 32, 64, 64), channels_out: int = 32,
                           repetitions: int = 20) -> dict:
    """Try a 3x3 convolution in float16 and bfloat16 on ``device`` and time it against float32.

    For each dtype: ``{"runs": bool, "error": str | None, "ms_median": float | None,
    "speedup_vs_fp32": float | None, "max_abs_diff_vs_fp32": float | None}`` (speed-up > 1 means faster
    than float32; the difference is against the float32 result on the same inputs). Measured, not
    assumed: on many CPUs float16 convolution runs but is far *slower* than float32.
    """
    device = torch.device(device)
    g = torch.Generator().manual_seed(0)
    x32 = torch.randn(*shape, generator=g).to(device)
    w32 = (torch.randn(channels_out, shape[1], 3, 3, generator=g) * 0.1).to(device)

    def timed(x, w):
        def conv():
            F.conv2d(x, w, padding=1)
            _sync(device)

        return time_passes(conv, 3, repetitions)["ms_median"]  # 3 warm-ups: the probe's own policy

    with torch.inference_mode():
        ref = F.conv2d(x32, w32, padding=1)
        ms32 = timed(x32, w32)
        report = {"device": str(device), "float32_ms_median": ms32, "conv_input_shape": list(shape),
                  "conv_out_channels": channels_out}
        for name, dt in (("float16", torch.float16), ("bfloat16", torch.bfloat16)):
            entry = {"runs": False, "error": None, "ms_median": None, "speedup_vs_fp32": None,
                     "max_abs_diff_vs_fp32": None}
            try:
                x, w = x32.to(dt), w32.to(dt)
                out = F.conv2d(x, w, padding=1)
                entry["max_abs_diff_vs_fp32"] = float((out.float() - ref).abs().max())
                entry["ms_median"] = timed(x, w)
                entry["speedup_vs_fp32"] = ms32 / entry["ms_median"]
                entry["runs"] = True
            except (RuntimeError, NotImplementedError, TypeError) as e:
                entry["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            report[name] = entry
    return report


def generation_speed(model: nn.Module, compact_model: nn.Module, example_input: torch.Tensor,
                     device: str | torch.device = "cpu", threads: int | None = 1, repetitions: int = REPETITIONS,
                     half_repetitions: int = 5) -> dict:
    """Per-generation inference speed at batch 1 (medians), for the evolution's metrics row.

    ``fps_masked_b1``: the masked network as trained (dense tensors with zeros, fp32); ``fps_compact_b1``:
    the compacted, physically smaller network (``core.compaction.compact``), fp32; ``fps_compact_fp16_b1``
    and ``fps_compact_bf16_b1``: the compacted network in float16 / bfloat16, or NaN where the device cannot
    run them. (The same column names as :func:`evosynth_lib.run.measure.measure_run_speed`.) Protocol:
    :func:`measure_fps` (:data:`~.protocol.WARMUP` warm-up passes, ``repetitions`` timed; 1 and
    ``half_repetitions`` for the half-precision variants, which are slow on CPUs).
    """
    row = {"fps_threads": threads if threads is not None else torch.get_num_threads(), "fps_batch_size": 1}
    for key, net, dtype, warm, reps in (
        ("fps_masked_b1", model, torch.float32, WARMUP, repetitions),
        ("fps_compact_b1", compact_model, torch.float32, WARMUP, repetitions),
        ("fps_compact_fp16_b1", compact_model, torch.float16, 1, half_repetitions),
        ("fps_compact_bf16_b1", compact_model, torch.bfloat16, 1, half_repetitions),
    ):
        try:
            row[key] = measure_fps(net, example_input, 1, warm, reps, threads, dtype, device)["fps_median"]
        except (RuntimeError, NotImplementedError, TypeError):
            row[key] = float("nan")
    return row
