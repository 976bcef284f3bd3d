"""The evolution loop and its run store (open_lth style).

A run lives in ``<runs_dir>/<config.run_id()>/``::

    config.yaml          the configuration (the folder name is a hash of it)
    manifest.json        finished generations: checkpoint file, its sha256, its metrics row
    generations.csv      one row per finished generation (rewritten atomically after each one)
    gen_001.pt ...       checkpoint per generation: weights, masks, optimizer and RNG state, metrics

Generation 1 is the ancestor, trained dense. Generation g >= 2 is synthesised from generation g-1's checkpoint
(``synthesis.synthesize_offspring``), trained, optionally restricted to fp16 (paper 2), evaluated and saved.
Every random draw of generation g is seeded from ``(seed, g)``, so relaunching an interrupted run resumes
after its last finished generation and ends with exactly the metrics and masks of an uninterrupted run (on
CPU; timing columns differ, of course). Relaunching a finished run does nothing. A checkpoint whose sha256
does not match the manifest (truncated, corrupt) raises :class:`CorruptCheckpointError`; it is never used.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from .compaction import compact, count_flops, dense_weights
from .config import EvolutionConfig
from .masking import Masks, full_masks
from .metrics import architecture_metrics
from .precision import HalfPrecisionInference, restrict_to_fp16, supports_half
from .provenance import commit_label, environment_info
from .seeding import rng_state, seed_everything
from .synthesis import synthesize_offspring
from .tasks import make_task
from .training import resolve_device

MANIFEST = "manifest.json"
CSV = "generations.csv"


class CorruptCheckpointError(RuntimeError):
    """A checkpoint of the run store is missing, truncated or altered."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_dir_for(config: EvolutionConfig, runs_dir: str | Path = "runs") -> Path:
    return Path(runs_dir) / config.run_id()


def read_manifest(run_dir: Path) -> dict:
    path = Path(run_dir) / MANIFEST
    if not path.exists():
        return {"generations": []}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise CorruptCheckpointError(f"run manifest {path} is corrupt ({e}); delete the run folder to start over") from e


def load_generations(run_dir: str | Path) -> pd.DataFrame:
    """The metrics of every finished generation of a run, one row each."""
    rows = [g["metrics"] for g in read_manifest(Path(run_dir))["generations"]]
    return pd.DataFrame(rows)


def load_checkpoint(run_dir: Path, generation: int) -> dict:
    """Generation ``generation``'s checkpoint, verified against the manifest's sha256."""
    entries = {g["generation"]: g for g in read_manifest(run_dir)["generations"]}
    if generation not in entries:
        raise KeyError(f"generation {generation} is not finished in {run_dir}")
    entry = entries[generation]
    path = Path(run_dir) / entry["checkpoint"]
    if not path.exists():
        raise CorruptCheckpointError(f"checkpoint {path} of generation {generation} is missing")
    digest = _sha256(path)
    if digest != entry["sha256"]:
        raise CorruptCheckpointError(
            f"checkpoint {path} of generation {generation} is corrupt or truncated (sha256 {digest[:12]}... "
            f"!= {entry['sha256'][:12]}... recorded in {MANIFEST}); it was not used. Delete the run folder "
            f"{run_dir} (or this generation's entry and the later ones in {MANIFEST}) to recompute it."
        )
    return torch.load(path, map_location="cpu", weights_only=False)


def _save_generation(run_dir: Path, generation: int, payload: dict, metrics: dict) -> None:
    name = f"gen_{generation:03d}.pt"
    tmp = run_dir / (name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, run_dir / name)
    manifest = read_manifest(run_dir)
    manifest["generations"] = [g for g in manifest["generations"] if g["generation"] < generation]
    manifest["generations"].append({"generation": generation, "checkpoint": name,
                                    "sha256": _sha256(run_dir / name), "metrics": metrics})
    _atomic_write_text(run_dir / MANIFEST, json.dumps(manifest, indent=1))
    _atomic_write_text(run_dir / CSV, pd.DataFrame([g["metrics"] for g in manifest["generations"]]).to_csv(index=False))


def evolve(config: EvolutionConfig, runs_dir: str | Path = "runs", stop_after: int | None = None,
           progress: bool = True) -> Path:
    """Run (or resume, or skip) the evolution described by ``config``; returns its run folder.

    ``stop_after``: finish at most this many new generations in this call (run in chunks; tests use it to
    simulate an interruption).
    """
    config.validate()
    run_dir = run_dir_for(config, runs_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not (run_dir / "config.yaml").exists():
        config.to_yaml(run_dir / "config.yaml")
    done = len(read_manifest(run_dir)["generations"])
    if done >= config.generations:
        return run_dir

    device = resolve_device(config.device)
    task = make_task(config, device)
    seed_everything(config.seed, 1, "init")
    model = task.build_model()
    ancestor_synapses = dense_weights(model)
    if done == 0:
        masks: Masks = full_masks(model)
    else:
        ckpt = load_checkpoint(run_dir, done)
        model.load_state_dict(ckpt["model"])
        masks = {k: v.to(device) for k, v in ckpt["masks"].items()}
    _atomic_write_text(run_dir / "environment.json", json.dumps(environment_info(device), indent=1))

    example = task.example_input(1)
    bar = tqdm(range(done + 1, config.generations + 1), desc=f"evolve {config.run_id()}", disable=not progress,
               initial=done, total=config.generations)
    for finished, g in enumerate(bar, start=1):
        start = time.perf_counter()
        synthesis = {}
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
        if config.extra.get("half_inference") and supports_half(device):  # paper 2: inference in fp16
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
        if hasattr(task, "speed_metrics"):
            row.update(task.speed_metrics(model, small))
        row.update({"train_time_s": train_time, "wall_time_s": time.perf_counter() - start, "commit": commit_label()})
        payload = {"generation": g, "model": model.state_dict(), "masks": {k: v.cpu() for k, v in masks.items()},
                   "optimizer": train_info.get("optimizer_state"), "rng": rng_state(), "config": config.to_dict(),
                   "metrics": row}
        _save_generation(run_dir, g, payload, row)
        bar.set_postfix(synapses=row["synapses"], ae=f"{row['architectural_efficiency']:.2f}")
        if stop_after is not None and finished >= stop_after:
            break
    bar.close()
    return run_dir


def _flat(out) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out.reshape(-1)
    if isinstance(out, dict):
        out = list(out.values())
    return torch.cat([o.reshape(-1) for o in out])
