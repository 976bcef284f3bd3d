"""The runs a profile's pages lack, trained at once before the pages execute: one sweep on Ray (``run/sweep.py``).

A run is lacking when its published results are not current and the run store does not hold it finished; the
pages then find it finished and show it (or publish it, with ``--publish``). Nothing lacking: Ray is not imported.
"""
from __future__ import annotations

import os

import torch

from ..config import EvolutionConfig
from ..run import store
from ..run.sweep import outcome_table, sweep
from .paths import RESULTS, RUNS, resolve
from .profiles import profile_evolutions
from .results import forget, is_current, load_published


def train_missing(profile: str, pages: list[str], runs_dir: str | os.PathLike = RUNS,
                  results_dir: str | os.PathLike = RESULTS, retrain: bool = False, jobs: int | None = None) -> list:
    """Train at once, on Ray (``run/sweep.py``), the evolutions of ``pages`` that have no current published results.

    Their runs go to ``runs_dir``, where the pages' :func:`ensure_results` then finds them finished and publishes
    them without training. ``jobs`` runs at a time (default: one per core, or one per GPU if there are GPUs; each
    with cores // jobs threads); ``retrain`` first deletes the published results and run folders. Nothing
    missing: Ray is not imported.
    Returns the sweep's outcomes (a failed run is left to its page, which reports it or records it as not run).
    """
    evolutions = profile_evolutions(profile, pages)
    if retrain:
        for ev in evolutions:
            forget(ev.config, runs_dir)
    missing = [ev for ev in evolutions if not is_current(load_published(profile, ev.name, results_dir), ev.config)
               and not _finished(ev.config, runs_dir)]
    if not missing:
        return []
    cores, gpus = os.cpu_count() or 1, torch.cuda.device_count()  # with GPUs: one run per GPU by default
    jobs = max(1, min(jobs or gpus or cores, cores, len(missing)))
    print(f"training {len(missing)} evolution(s), {jobs} at a time: {', '.join(ev.name for ev in missing)}")
    outcomes = sweep(missing, resolve(runs_dir), cpus_per_run=max(1, cores // jobs), gpus_per_run=gpus / jobs)
    print(outcome_table(outcomes))
    return outcomes


def _finished(config: EvolutionConfig, runs_dir: str | os.PathLike) -> bool:
    """Whether the run store already holds every generation of ``config`` (a local run the pages can show)."""
    path = store.run_dir_for(config, resolve(runs_dir))
    try:
        return (path / store.MANIFEST).is_file() and store.open_run(path).done >= config.generations
    except Exception:  # noqa: BLE001 - a run the store refuses is trained (and reported) by the sweep
        return False
