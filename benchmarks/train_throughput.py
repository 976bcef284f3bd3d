"""Benchmark: training images/s per model, today's fp32 loop vs the tensor pipeline in fp32 and bf16.

Three variants, each a real training step (forward, backward, SGD with momentum and weight decay, masks kept) on
the real training set, input pipeline included:

* ``legacy fp32``: the loop before the tensor pipeline: ``DataLoader`` over the in-memory ``TensorDataset`` (one
  ``__getitem__`` per image, then collate) and a per-image crop/flip loop, fp32 NCHW;
* ``tensor fp32``: batches sliced from the tensors (``TensorBatches``), one-gather batched crop/flip, fp32 NCHW;
* ``tensor bf16``: the same with ``precision: bf16`` (bfloat16 autocast, channels-last, fp32 master weights).

The variants are interleaved (``--rounds`` rounds of ``--steps`` steps each) and the median images/s per
variant is printed with its ratio to the legacy loop. ``--epoch`` also times one full CIFAR-10 training epoch
(50,000 images, bf16, pipeline included) the way an evolution trains it.

    python benchmarks/train_throughput.py [--models lenet5 alexnet] [--steps 20] [--rounds 5] [--threads 2] [--epoch]
                                          [--out results/quick/train_throughput.json]

``--out`` also writes what was printed as JSON (with the machine and the commit), which the book's Table 1
page shows.

Needs the data (EVOSYNTH_DATA). A measurement: run it on an otherwise idle machine.
"""
from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # this tree's library, not an install elsewhere

import argparse
import json
import os

os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars between the printed lines (read when tqdm is imported)
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.core.masks import full_masks
from evosynth_lib.tasks import make_task
from evosynth_lib.tasks.classification.data import TensorBatches, crop_flip
from evosynth_lib.run.provenance import commit_label
from evosynth_lib.tasks.hardware import cpu_name
from evosynth_lib.tasks.training import bf16_training_support, train_epochs

DATASET = {"lenet5": "mnist", "alexnet": "cifar10"}


def legacy_crop_flip(x: torch.Tensor, pad: int = 4) -> torch.Tensor:
    """The per-image augmentation loop used before the tensor pipeline (global RNG)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dx = torch.randint(0, 2 * pad + 1, (n,)).tolist()
    dy = torch.randint(0, 2 * pad + 1, (n,)).tolist()
    out = torch.stack([padded[i, :, dy[i]: dy[i] + h, dx[i]: dx[i] + w] for i in range(n)])
    flip = torch.rand(n) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


class Steps:
    """The first ``n`` batches of a fresh pass over ``loader`` (``train_epochs`` reads ``len``)."""

    def __init__(self, loader, n):
        self.loader, self.n = loader, n

    def __len__(self):
        return self.n

    def __iter__(self):
        for i, b in enumerate(self.loader):
            if i == self.n:
                return
            yield b


def images_per_second(task, model, masks, variant: str, steps: int, batch: int) -> float:
    augment = task.spec.augment == "crop_flip"
    g = torch.Generator().manual_seed(0)
    if variant == "legacy fp32":
        loader = DataLoader(task.train_set, batch_size=batch, shuffle=True, generator=g)
        transform = (lambda b: (legacy_crop_flip(b[0]), b[1])) if augment else None
    else:
        loader = TensorBatches(task.train_set, batch, g)
        transform = (lambda b: (crop_flip(b[0], g), b[1])) if augment else None
    precision = "bf16" if variant.endswith("bf16") else "fp32"
    start = time.perf_counter()
    train_epochs(model, masks, Steps(loader, steps), lambda m, b: F.cross_entropy(m(b[0]), b[1]), 1.0, 0.01,
                 0.9, 5e-4, "constant", batch_transform=transform, precision=precision)
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["lenet5", "alexnet"], choices=list(DATASET))
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epoch", action="store_true", help="also time one full CIFAR-10 epoch in bf16")
    p.add_argument("--out", help="also write the results as JSON to this file")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    fast, why = bf16_training_support("cpu")
    print(f"threads {a.threads}, batch {a.batch}, {a.rounds} rounds x {a.steps} steps; bf16: {fast} ({why})")
    variants = ["legacy fp32", "tensor fp32"] + (["tensor bf16"] if fast else [])
    report = {"threads": a.threads, "batch_size": a.batch, "rounds": a.rounds, "steps": a.steps, "bf16": why,
              "cpu": cpu_name(), "commit": commit_label(), "rows": []}
    for name in a.models:
        config = EvolutionConfig(dataset=DATASET[name], model=name).validate()
        task = make_task(config, "cpu")
        models = {}
        for v in variants:
            torch.manual_seed(0)
            models[v] = task.build_model()
        masks = full_masks(models[variants[0]])
        for v in variants:  # warm-up (oneDNN kernels, allocator)
            images_per_second(task, models[v], masks, v, 3, a.batch)
        rates = {v: [] for v in variants}
        for _ in range(a.rounds):
            for v in variants:
                rates[v].append(images_per_second(task, models[v], masks, v, a.steps, a.batch))
        base = statistics.median(rates["legacy fp32"])
        for v in variants:
            med = statistics.median(rates[v])
            print(f"{name:8s} {v:12s} {med:8.0f} images/s   x{med / base:.2f} vs legacy fp32")
            report["rows"].append({"model": name, "variant": v, "images_per_s": round(med, 1),
                                   "ratio_vs_legacy_fp32": round(med / base, 3)})
    if a.epoch:
        config = EvolutionConfig(dataset="cifar10", model="alexnet", precision="bf16" if fast else "fp32",
                                 threads=a.threads).validate()
        task = make_task(config, "cpu")
        torch.manual_seed(0)
        model = task.build_model()
        start = time.perf_counter()
        task.train(model, full_masks(model), 1.0, 1)
        seconds = time.perf_counter() - start
        print(f"one full CIFAR-10 epoch ({len(task.train_set)} images, {config.precision}, pipeline included): "
              f"{seconds:.0f} s")
        report["cifar10_epoch"] = {"images": len(task.train_set), "precision": config.precision,
                                   "seconds": round(seconds, 1)}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
