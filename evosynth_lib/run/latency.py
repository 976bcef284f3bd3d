"""Latency side by side: several exported networks timed in one process, in interleaved rounds.

Speed-ups between networks that were timed at different moments on a shared machine mix the networks'
difference with the machine's load. Here every network of a comparison is prepared once in the same engine,
dtype and layout, on one fixed input of the same shape, and timed round-robin: each round times every network
for ``repetitions`` passes (``speed.protocol.time_passes``; the first round also warms each up), so a busy
moment slows all of them alike. A network's latency is the median of all its timed passes, with the
quartiles; the ratios of these medians are the speed-ups the book reports.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..speed.protocol import WARMUP, quartiles, time_passes
from .engines import Variant, prepare


def side_by_side(files: dict[str, Path], variant: Variant, shape: tuple[int, ...], rounds: int = 10,
                 repetitions: int = 10, threads: int = 1) -> dict[str, dict[str, float]]:
    """``{key: {"ms_median", "ms_q1", "ms_q3", "ms_iqr", "passes"}}`` for each ONNX file of ``files``.

    ``shape``: the NCHW input (batch included) every network is fed; ``variant``: an ONNX engine
    (``onnxruntime`` or ``openvino``) with its dtype.
    """
    if not variant.uses_onnx:
        raise ValueError(f"side_by_side times exported files: {variant.key} is not an ONNX engine")
    if rounds < 1 or repetitions < 1:
        raise ValueError(f"need rounds >= 1 and repetitions >= 1; got {rounds}, {repetitions}")
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    calls = {k: prepare(variant, None, Path(p), tuple(shape), threads).timed(x) for k, p in files.items()}
    times: dict[str, list[float]] = {k: [] for k in calls}
    for r in range(rounds):
        for k, call in calls.items():
            times[k] += time_passes(call, warmup=WARMUP if r == 0 else 1, repetitions=repetitions)["ms_all"]
    out = {}
    for k, ms in times.items():
        q1, median, q3 = quartiles(ms)
        out[k] = {"ms_median": median, "ms_q1": q1, "ms_q3": q3, "ms_iqr": q3 - q1, "passes": len(ms)}
    return out
