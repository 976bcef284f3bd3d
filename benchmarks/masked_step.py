"""Benchmark: time of one masked training step vs one dense step (a masked step should cost at most ~10% more).

A masked step is a dense step plus zeroing dead gradients before ``optimizer.step()`` and re-applying the masks
after it (``training.train_epochs``). Interleaves the two variants, reports medians.

    python benchmarks/masked_step.py [--model lenet5|alexnet] [--batch 64] [--steps 60] [--threads N]
"""
from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # this tree's library, not an install elsewhere

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.core.masks import apply_masks, full_masks, mask_gradients
from evosynth_lib.tasks.classification.models import AlexNetCIFAR, LeNet5
from evosynth_lib.core.synthesis import synthesize_offspring


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="lenet5", choices=["lenet5", "alexnet"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = LeNet5() if a.model == "lenet5" else AlexNetCIFAR()
    shape = (1, 28, 28) if a.model == "lenet5" else (3, 32, 32)
    masks = full_masks(model)
    for g in range(2, 5):  # a realistically sparse offspring
        model, masks, _ = synthesize_offspring(model, masks, EvolutionConfig(normaliser="quantile"), g)
    x, y = torch.randn(a.batch, *shape), torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step(masked: bool) -> float:
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        if masked:
            mask_gradients(model, masks)
        opt.step()
        if masked:
            apply_masks(model, masks)
        return time.perf_counter() - t

    for _ in range(5):
        step(True), step(False)
    dense, masked = [], []
    for _ in range(a.steps):
        dense.append(step(False))
        masked.append(step(True))
    md, mm = statistics.median(dense), statistics.median(masked)
    print(f"model={a.model} batch={a.batch} steps={a.steps} threads={torch.get_num_threads()}")
    print(f"dense step  median {md * 1e3:.2f} ms")
    print(f"masked step median {mm * 1e3:.2f} ms")
    print(f"masked/dense ratio {mm / md:.3f}")


if __name__ == "__main__":
    main()
