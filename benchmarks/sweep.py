"""Benchmark: N smoke evolutions one after another vs the same N through the sweep (Ray), on this machine.

Both write fresh run stores in a temporary folder and use the same thread count per run (``--threads``,
default 1), so their results are identical (the script checks it); only the wall time differs. The sweep's
time includes starting the local Ray instance (also shown alone). Prints both times and their ratio.

    python benchmarks/sweep.py [--runs 4] [--cpus N] [--threads 1] [--generations 2]
"""
from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # this tree's library, not an install elsewhere

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import ray
import torch

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.store import load_generations
from evosynth_lib.run.sweep import Evolution, outcome_table, sweep


def smoke(seed: int, generations: int, threads: int) -> EvolutionConfig:
    """profiles/smoke/evolve-synthetic.yaml's evolution (synthetic images, LeNet-5), one seed."""
    return EvolutionConfig(dataset="synthetic", model="lenet5", generations=generations, epochs=1.0, batch_size=64,
                           normaliser="quantile", quantile=0.75, seed=seed, device="cpu", threads=threads)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--cpus", type=int, default=os.cpu_count(), help="CPUs of the local Ray instance")
    p.add_argument("--threads", type=int, default=1, help="torch threads of each run (both ways)")
    p.add_argument("--generations", type=int, default=2, help="as profiles/smoke/evolve-synthetic.yaml")
    a = p.parse_args()
    configs = [smoke(seed, a.generations, a.threads) for seed in range(a.runs)]
    with tempfile.TemporaryDirectory(prefix="evosynth-sweep-bench-") as tmp:
        t = time.perf_counter()
        sequential = [evolve(c, Path(tmp) / "sequential", progress=False) for c in configs]
        t_seq = time.perf_counter() - t
        t = time.perf_counter()
        ray.init(num_cpus=a.cpus, include_dashboard=False, logging_level=logging.WARNING)  # what sweep() does
        t_ray = time.perf_counter() - t
        outcomes = sweep([Evolution(f"seed{c.seed}", c) for c in configs], Path(tmp) / "sweep",
                         cpus_per_run=a.threads, progress=False)
        t_sweep = time.perf_counter() - t
        ray.shutdown()
        print(outcome_table(outcomes))
        timing = ["train_time_s", "wall_time_s", "commit"]
        same = all(load_generations(s).drop(columns=timing).equals(load_generations(o.run_dir).drop(columns=timing))
                   for s, o in zip(sequential, outcomes))
    print(f"{a.runs} smoke evolutions ({a.generations} generations, {a.threads} thread(s) each) on "
          f"{os.cpu_count()} cores (torch {torch.__version__}), Ray instance with {a.cpus} CPUs")
    print(f"sequential: {t_seq:.1f} s")
    print(f"sweep:      {t_sweep:.1f} s (of which {t_ray:.1f} s starting the local Ray instance)")
    print(f"ratio sequential / sweep: {t_seq / t_sweep:.2f}x (without the Ray start: "
          f"{t_seq / (t_sweep - t_ray):.2f}x); identical metrics: {same}")


if __name__ == "__main__":
    main()
