"""The evolution loop (seed paper, Section 2; paper 2 with ``fp16``): synthesise, train, restrict, measure, save.

Generation 1 is the ancestor, trained dense. Generation g >= 2 is synthesised from generation g-1
(``core.synthesis.synthesize_offspring``), trained, optionally restricted to fp16 (paper 2), evaluated and
committed to the run store (``store.py``). Every random draw of generation g is seeded from ``(seed, g)``, so
relaunching an interrupted run resumes after its last finished generation and ends with exactly the metrics
and masks of an uninterrupted one, provided it runs with the same settings: the thread count (which changes
the order of floating-point sums, so the last bits) and the device are recorded in the run when it starts, and
a resume runs at the recorded thread count or refuses. Relaunching a finished run does nothing.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..config import EvolutionConfig
from ..core.compaction import compact, count_flops, dense_weights
from ..core.masks import Masks, full_masks
from ..core.metrics import architecture_metrics
from ..core.restriction import HalfPrecisionInference, restrict_to_fp16, supports_half
from ..core.seeding import rng_state, seed_everything
from ..core.synthesis import synthesize_offspring
from ..speed.model import generation_speed
from ..tasks import make_task
from ..tasks.hardware import torch_threads
from ..tasks.training import resolve_device, training_arithmetic
from . import store
from .ancestor import adopt_ancestor, find_ancestor
from .lock import run_lock
from .provenance import commit_label, environment_info


def settings_for(config: EvolutionConfig, device: torch.device) -> dict[str, Any]:
    """What, beside the configuration, changes the bits of a result: recorded when a run starts. ``arithmetic``
    is what ``config.precision`` gives on this device (bf16 only where it runs fast: ``training_arithmetic``)."""
    return {"threads": config.settings.threads or torch.get_num_threads(), "device": device.type,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "arithmetic": training_arithmetic(config.precision, device)[0]}


def check_settings(run: store.Run, wanted: dict[str, Any], config: EvolutionConfig) -> dict[str, Any]:
    """The settings a resume must use: the recorded ones. Refuses an explicit request for others."""
    recorded = {**wanted, **run.settings}
    asked = config.settings.threads
    if asked is not None and asked != recorded["threads"]:
        raise store.RunStoreError(
            f"run {run.path} was computed with threads={recorded['threads']} and resuming it with "
            f"threads={asked} would change its bits; resume with threads={recorded['threads']} (or "
            f"without setting threads), or start another run folder (--runs-dir).")
    if wanted["arithmetic"] != recorded["arithmetic"]:
        print(f"{run.path.name}: resuming in {recorded['arithmetic']}, the arithmetic it started in "
              f"(this device would choose {wanted['arithmetic']})")
    if wanted["device"] != recorded["device"]:
        raise store.RunStoreError(
            f"run {run.path} was computed on device {recorded['device']!r}, not {wanted['device']!r}; resume it "
            f"with device={recorded['device']!r}, or start another run folder (--runs-dir).")
    return recorded


def evolve(config: EvolutionConfig, runs_dir: str | Path = "runs", stop_after: int | None = None,
           progress: bool = True, share_ancestor: bool = True, lock_timeout: float | None = None) -> Path:
    """Run (or resume, or skip) the evolution described by ``config``; returns its run folder.

    ``stop_after``: finish at most this many new generations in this call (run in chunks; tests use it to
    simulate an interruption). ``share_ancestor``: where another run in ``runs_dir`` has already trained this
    run's ancestor (same ``ancestor.ancestor_id``, same recorded settings: the baselines of an
    evolution, its other readings), adopt its generation 1 instead of training it again; the manifest names it.
    A run has one writer: while another process holds its lock (``lock.py``) this call waits, saying for whom,
    then resumes from what that process left (a run it finished is simply returned); ``lock_timeout``: seconds
    to wait before refusing with :class:`~evosynth_lib.run.store.RunStoreError` (``None``: forever).
    """
    config.validate()
    store.check_runs_dir(runs_dir)
    run_dir = store.run_dir_for(config, runs_dir)
    if store.open_run(run_dir, create=True, config=config).done >= config.generations:
        return run_dir  # finished: nothing to write, no lock to take (a read-only store serves it)
    with run_lock(run_dir, timeout=lock_timeout):
        run = store.open_run(run_dir, create=True, config=config)  # as the previous writer left it
        if run.done < config.generations:
            _evolve_locked(run, config, runs_dir, stop_after, progress, share_ancestor)
    return run_dir


def _evolve_locked(run: store.Run, config: EvolutionConfig, runs_dir: str | Path, stop_after: int | None,
                   progress: bool, share_ancestor: bool) -> None:
    device = resolve_device(config.settings.device)
    new = run.done == 0 and not (run.path / store.MANIFEST).exists()
    settings = settings_for(config, device) if new else check_settings(run, settings_for(config, device), config)
    with torch_threads(settings["threads"]):
        task = make_task(config, device, settings["arithmetic"])  # reads the data: a missing dataset fails before any folder exists
        if new:
            store.start(run, config, settings)
        if run.done == 0 and share_ancestor:
            found = find_ancestor(config, run.settings, Path(runs_dir), run.path)
            if found is not None:  # the same ancestor, already trained by another run: adopt it
                adopt_ancestor(run, config, *found)
                if run.done >= config.generations:
                    return
        try:
            _generations(run, config, task, device, stop_after, progress)
        except BaseException:
            if new:
                store.discard_if_unstarted(run.path)  # under this call's lock
            raise


def _generations(run: store.Run, config: EvolutionConfig, task, device: torch.device, stop_after: int | None,
                 progress: bool) -> None:
    seed_everything(config.seed, 1, "init")
    model = task.build_model()
    ancestor_synapses = dense_weights(model)
    if run.done == 0:
        masks: Masks = full_masks(model)
    else:
        ckpt = store.load_checkpoint(run.path, run.done, run)
        model.load_state_dict(ckpt["model"])
        masks = {k: v.to(device) for k, v in ckpt["masks"].items()}
    store.record_environment(run, json.dumps(environment_info(device), indent=1, default=str))
    example = task.example_input(1)
    bar = tqdm(range(run.done + 1, config.generations + 1), desc=f"evolve {config.run_id()}",
               disable=not progress, initial=run.done, total=config.generations)
    for finished, g in enumerate(bar, start=1):
        start = time.perf_counter()
        synthesis: dict[str, Any] = {}
        if g > 1:
            model, masks, synthesis = synthesize_offspring(model, masks, config, g)
        seed_everything(config.seed, g, "train")
        epochs = config.first_epochs if (g == 1 and config.first_epochs is not None) else config.epochs
        t_train = time.perf_counter()
        train_info = task.train(model, masks, epochs, g)
        train_time = time.perf_counter() - t_train
        if config.fp16:
            restrict_to_fp16(model)
        model.eval()
        row = {"generation": g, **architecture_metrics(model, masks, ancestor_synapses, config.granularity)}
        row.update(task.evaluate(model))
        if config.half_inference and supports_half(device):  # paper 2: inference in fp16
            half = task.evaluate(HalfPrecisionInference(model))
            row.update({f"{k}_fp16": v for k, v in half.items() if isinstance(v, float)})
        small = compact(model, masks)
        with torch.no_grad():
            x = task.example_input(4)
            row["compact_max_abs_diff"] = float((_flat(model(x)) - _flat(small(x))).abs().max())
        row.update({
            "kept_fraction": row["synapses"] / synthesis["parent_synapses"] if synthesis else 1.0,
            "environmental_factor": synthesis.get("environmental_factor", 1.0),
            "expected_synapses": synthesis.get("expected_synapses", float(row["synapses"])),
            "compact_weights": dense_weights(small),
            "flops_masked": count_flops(model, example),
            "flops_compact": count_flops(small, example),
            "train_loss": train_info.get("train_loss"),
            "epochs": epochs,
        })
        speed = task.speed_settings()
        if speed is not None:
            row.update(generation_speed(model, small, example, device, **speed))
        row.update({"train_time_s": train_time, "wall_time_s": time.perf_counter() - start, "commit": commit_label()})
        payload = {"generation": g, "model": model.state_dict(), "masks": {k: v.cpu() for k, v in masks.items()},
                   "optimizer": train_info.get("optimizer_state"), "rng": rng_state(), "config": config.to_dict(),
                   "metrics": row}
        store.save_generation(run, g, payload, row)
        bar.set_postfix(synapses=row["synapses"], ae=f"{row['architectural_efficiency']:.2f}")
        if stop_after is not None and finished >= stop_after:
            break
    bar.close()


def _flat(out) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out.reshape(-1)
    if isinstance(out, dict):
        out = list(out.values())
    return torch.cat([o.reshape(-1) for o in out])
