"""The run store: one folder per run, crash-consistent, never trusting a byte it has not checked.

A run lives in ``<runs_dir>/<config.run_id()>/`` (every file name is defined here and nowhere else)::

    config.yaml          the configuration (the folder name is a hash of it)
    manifest.json        THE record: settings that change the bits (threads, ...) and, per finished
                         generation, its checkpoint file, the checkpoint's sha256 and its metrics row
    generations.csv      derived from the manifest (rebuilt whenever it disagrees with it)
    environment.json     the machine and library versions of the last process that worked on the run
    gen_001.pt ...       one checkpoint per generation: weights, masks, optimizer and RNG state, metrics

Write order for generation g, chosen so that a kill at any point leaves the old state or the new one:

1. ``gen_g.pt.tmp`` is written and flushed to disk, then renamed to ``gen_g.pt`` (atomic);
2. ``manifest.json.tmp`` with g's entry (and the checkpoint's sha256) is written, flushed and renamed:
   **this rename is the commit point** - before it, g does not exist (a ``gen_g.pt`` not in the manifest is
   an orphan, overwritten when g is computed again); after it, g is finished;
3. ``generations.csv`` is rewritten from the manifest (a kill here leaves it short; :func:`open_run`
   rebuilds it).

Opening a run (:func:`open_run`, finished or not) verifies the sha256 of every checkpoint the manifest lists;
a missing, truncated or altered one raises :class:`CorruptCheckpointError` and is never used. A folder that has
checkpoints but no (readable) manifest is refused, never overwritten.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..config import OFFSPRING_ONLY, EvolutionConfig

CONFIG = "config.yaml"
MANIFEST = "manifest.json"
CSV = "generations.csv"
ENVIRONMENT = "environment.json"
CHECKPOINT_GLOB = "gen_*.pt"


def checkpoint_name(generation: int) -> str:
    return f"gen_{generation:03d}.pt"


class CorruptCheckpointError(RuntimeError):
    """A file of the run store is missing, truncated or altered; it was not used."""


class RunStoreError(RuntimeError):
    """A run folder is in a state the store refuses to touch (it says what to do)."""


def run_dir_for(config: EvolutionConfig, runs_dir: str | os.PathLike = "runs") -> Path:
    return Path(runs_dir) / config.run_id()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` so that it holds either its old content or ``data``, whatever happens."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


@dataclass
class Run:
    """An opened, verified run folder: its manifest (settings and finished generations)."""

    path: Path
    manifest: dict[str, Any]

    @property
    def finished(self) -> list[dict[str, Any]]:
        return self.manifest["generations"]

    @property
    def done(self) -> int:
        return len(self.finished)

    @property
    def settings(self) -> dict[str, Any]:
        return self.manifest.setdefault("settings", {})

    def rows(self) -> list[dict[str, Any]]:
        return [g["metrics"] for g in self.finished]


def _read_manifest(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
        gens = manifest["generations"]
        assert isinstance(gens, list) and [g["generation"] for g in gens] == list(range(1, len(gens) + 1))
        return manifest
    except (json.JSONDecodeError, KeyError, TypeError, AssertionError) as e:
        raise CorruptCheckpointError(
            f"run manifest {path} is unreadable ({type(e).__name__}: {e}); nothing was changed. Move the folder "
            f"{run_dir} away (or delete it) to compute the run again.") from e


def open_run(run_dir: str | os.PathLike, create: bool = False) -> Run:
    """Open ``run_dir``, verify every finished generation's checkpoint and repair the derived CSV.

    ``create``: an absent or empty folder gives an empty run (nothing is written yet). A folder holding
    checkpoints without a manifest raises :class:`RunStoreError`; it is never overwritten.
    """
    run_dir = Path(run_dir)
    manifest = _read_manifest(run_dir) if run_dir.is_dir() else None
    if manifest is None:
        if run_dir.is_dir() and any(run_dir.glob(CHECKPOINT_GLOB)):
            raise RunStoreError(
                f"run folder {run_dir} holds checkpoints but no {MANIFEST}, so none of them can be trusted; "
                f"nothing was changed. Move the folder away (or delete it) to compute the run again.")
        if not create:
            raise FileNotFoundError(f"no run in {run_dir} (no {MANIFEST})")
        return Run(run_dir, {"settings": {}, "generations": []})
    for entry in manifest["generations"]:
        verify_checkpoint(run_dir, entry)
    run = Run(run_dir, manifest)
    _repair_csv(run)
    return run


def verify_checkpoint(run_dir: Path, entry: dict[str, Any]) -> Path:
    g, path = entry["generation"], run_dir / entry["checkpoint"]
    if not path.exists():
        raise CorruptCheckpointError(f"checkpoint {path} of generation {g} is missing; {_how_to_recover(run_dir, g)}")
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise CorruptCheckpointError(
            f"checkpoint {path} of generation {g} is corrupt or truncated (sha256 {digest[:12]}... != "
            f"{entry['sha256'][:12]}... recorded in {MANIFEST}); it was not used. {_how_to_recover(run_dir, g)}")
    return path


def _how_to_recover(run_dir: Path, generation: int) -> str:
    return (f"To recompute generation {generation} and the later ones: "
            f"python -m evosynth_lib.cli --rewind {generation - 1} {run_dir}")


def _repair_csv(run: Run) -> None:
    csv = run.path / CSV
    expected = pd.DataFrame(run.rows()).to_csv(index=False) if run.finished else ""
    if run.finished and (not csv.exists() or csv.read_text() != expected):
        atomic_write_text(csv, expected)


def start(run: Run, config: EvolutionConfig, settings: dict[str, Any]) -> None:
    """Create the folder of a new run and record its configuration and settings (the manifest last)."""
    run.path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run.path / CONFIG, config.to_yaml_text())
    run.manifest["settings"] = dict(settings)
    atomic_write_text(run.path / MANIFEST, json.dumps(run.manifest, indent=1))


def save_generation(run: Run, generation: int, payload: dict[str, Any], metrics: dict[str, Any],
                    note: dict[str, Any] | None = None) -> None:
    """Commit generation ``generation`` (the module docstring gives the write order); ``note``: extra keys of
    its manifest entry (``ancestor_from``)."""
    if generation != run.done + 1:
        raise RunStoreError(f"generation {generation} cannot follow generation {run.done} in {run.path}")
    name = checkpoint_name(generation)
    tmp = run.path / (name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, run.path / name)
    _fsync_dir(run.path)
    entry = {"generation": generation, "checkpoint": name, "sha256": sha256(run.path / name), **(note or {}),
             "metrics": metrics}
    manifest = {**run.manifest, "generations": [*run.finished, entry]}
    atomic_write_text(run.path / MANIFEST, json.dumps(manifest, indent=1))
    run.manifest = manifest
    atomic_write_text(run.path / CSV, pd.DataFrame(run.rows()).to_csv(index=False))


def rewind(run_dir: str | os.PathLike, generation: int) -> Run:
    """Forget the generations after ``generation`` (their checkpoints are deleted): the next launch recomputes them."""
    run_dir = Path(run_dir)
    manifest = _read_manifest(run_dir)
    if manifest is None:
        raise FileNotFoundError(f"no run in {run_dir} (no {MANIFEST})")
    kept = [g for g in manifest["generations"] if g["generation"] <= generation]
    dropped = [g for g in manifest["generations"] if g["generation"] > generation]
    atomic_write_text(run_dir / MANIFEST, json.dumps({**manifest, "generations": kept}, indent=1))
    for g in dropped:
        (run_dir / g["checkpoint"]).unlink(missing_ok=True)
    return open_run(run_dir)


def load_checkpoint(run_dir: str | os.PathLike, generation: int, run: Run | None = None) -> dict[str, Any]:
    """Generation ``generation``'s checkpoint, verified against the manifest's sha256 just before loading."""
    run = run or open_run(run_dir)
    entries = {g["generation"]: g for g in run.finished}
    if generation not in entries:
        raise KeyError(f"generation {generation} is not finished in {run.path}")
    path = verify_checkpoint(run.path, entries[generation])
    return torch.load(path, map_location="cpu", weights_only=False)


def load_generations(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The metrics of every finished generation of a run, one row each (from the verified manifest)."""
    return pd.DataFrame(open_run(run_dir).rows())


def discard_if_unstarted(run_dir: Path) -> None:
    """Remove a run folder that a failed start left without a finished generation nor a checkpoint."""
    if run_dir.is_dir() and not any(run_dir.glob(CHECKPOINT_GLOB)) and not any(run_dir.glob(CHECKPOINT_GLOB + ".tmp")):
        manifest = _read_manifest(run_dir) if (run_dir / MANIFEST).exists() else {"generations": []}
        if not manifest["generations"]:
            shutil.rmtree(run_dir)


def ancestor_id(config: EvolutionConfig) -> str:
    """A hash of what makes generation 1, the ancestor: the run id without the fields that act only on
    offspring (:data:`~evosynth_lib.config.OFFSPRING_ONLY`), the ancestor's epochs resolved. Two runs with the
    same ancestor id (and the same recorded settings) train bit-identical ancestors, so one may adopt the
    other's; tests/run/test_shared_ancestor.py holds every field of the list to that."""
    defaults = {k: EvolutionConfig.__dataclass_fields__[k].default for k in OFFSPRING_ONLY}
    first = config.first_epochs if config.first_epochs is not None else config.epochs
    return config.replace(**defaults, epochs=first, first_epochs=None).run_id()


def find_ancestor(config: EvolutionConfig, settings: dict[str, Any], runs_dir: str | os.PathLike,
                  exclude: Path) -> tuple[Path, dict[str, Any]] | None:
    """A run in ``runs_dir`` whose finished, verified generation 1 is the ancestor ``config`` would train: the
    same :func:`ancestor_id` and the same recorded settings (threads, device, ...). Returns its
    folder and manifest entry, or ``None``. Unreadable or corrupt candidates are passed over."""
    key = ancestor_id(config)
    for folder in sorted(Path(runs_dir).glob(f"{config.dataset}-{config.model}-*")):
        if folder.resolve() == Path(exclude).resolve() or not (folder / CONFIG).exists():
            continue
        try:
            manifest = _read_manifest(folder)
            if (manifest is None or not manifest["generations"] or manifest.get("settings") != settings
                    or ancestor_id(EvolutionConfig.from_yaml(folder / CONFIG)) != key):
                continue
            entry = manifest["generations"][0]
            verify_checkpoint(folder, entry)
        except Exception:  # noqa: BLE001 - a candidate we cannot trust is simply not used
            continue
        return folder, entry
    return None


def adopt_ancestor(run: Run, config: EvolutionConfig, donor: Path, entry: dict[str, Any]) -> None:
    """Commit ``donor``'s generation 1 as this run's (its weights, masks and metrics row unchanged; the
    checkpoint's configuration is this run's; the manifest entry names the donor under ``ancestor_from``)."""
    payload = torch.load(verify_checkpoint(donor, entry), map_location="cpu", weights_only=False)
    payload["config"] = config.to_dict()
    save_generation(run, 1, payload, entry["metrics"], note={"ancestor_from": entry.get("ancestor_from", donor.name)})
