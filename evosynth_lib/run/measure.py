"""Inference speed of every finished generation of a run, re-measured from its checkpoints (a measurement)."""
from __future__ import annotations

import pandas as pd
import torch

from ..config import EvolutionConfig
from ..core.compaction import compact
from ..tasks import build_model_for
from ..speed.model import measure_fps
from ..speed.protocol import REPETITIONS
from . import store


def measure_run_speed(run_dir, batch_sizes=(1, 64), threads: int | None = 1, repetitions: int = REPETITIONS,
                      half_repetitions: int = 3, device: str | torch.device = "cpu", warmup: int = 3):
    """Measured inference speed of every finished generation of a run, from its checkpoints.

    For each generation: fps of the masked network and of its compacted version (fp32) at each batch size,
    of the compacted one in float16 / bfloat16 at batch 1 (NaN where the device cannot), and the speed-up of
    the compacted network over generation 1's - the *real* counterpart of the paper's "potential speed-up"
    (cluster efficiency). Run it on an otherwise idle machine: it is a measurement. Protocol:
    :func:`~evosynth_lib.speed.model.measure_fps` (medians; ``warmup`` passes, 3 by default: the protocol the
    published ``speed.csv`` was measured with; ``repetitions`` timed at batch 1 and a third as many at larger
    batches; 1 warm-up and ``half_repetitions`` timed in half precision). Returns a DataFrame, one row per
    generation.
    """
    run = store.open_run(run_dir)
    config = EvolutionConfig.from_yaml(run.path / store.CONFIG)
    rows = []
    for entry in run.finished:
        ckpt = store.load_checkpoint(run.path, entry["generation"], run)
        model, shape = build_model_for(config)
        model.load_state_dict(ckpt["model"])
        small = compact(model, ckpt["masks"])
        row = {"generation": entry["generation"]}
        for b in batch_sizes:
            x = torch.randn(b, *shape, generator=torch.Generator().manual_seed(0))
            reps = repetitions if b == 1 else max(3, repetitions // 3)  # large batches: fewer, longer passes
            row[f"fps_masked_b{b}"] = measure_fps(model, x, b, warmup, reps, threads, device=device)["fps_median"]
            row[f"fps_compact_b{b}"] = measure_fps(small, x, b, warmup, reps, threads, device=device)["fps_median"]
        x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(0))
        for name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
            try:
                row[f"fps_compact_{name}_b1"] = measure_fps(small, x, 1, 1, half_repetitions, threads, dtype,
                                                            device)["fps_median"]
            except (RuntimeError, NotImplementedError, TypeError):
                row[f"fps_compact_{name}_b1"] = float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    for b in batch_sizes:
        df[f"speedup_compact_b{b}"] = df[f"fps_compact_b{b}"] / df[f"fps_masked_b{b}"].iloc[0]
    df["threads"] = threads if threads is not None else torch.get_num_threads()
    df["device"] = str(device)
    df["repetitions"] = repetitions
    return df
