"""The run store: one folder per run, crash-consistent, one writer at a time, never trusting a byte it has not checked.

A run lives in ``<runs_dir>/<config.run_id()>/`` (every file name is defined here, in ``manifest.py`` and in
``lock.py``, and nowhere else)::

    config.yaml          the configuration (the folder name is a hash of it)
    manifest.json        THE record: the run id, settings that change the bits (threads, ...) and, per finished
                         generation, its checkpoint file, the checkpoint's sha256 and its metrics row; sealed by
                         the sha256 of its own content (``manifest.py``)
    generations.csv      derived from the manifest (rebuilt whenever it disagrees with it and it can be written)
    environment.json     the machine and library versions of the last process that worked on the run
    gen_001.pt ...       one checkpoint per generation: weights, masks, optimizer and RNG state, metrics

and its lock is ``<runs_dir>/.locks/<run id>.lock`` (``lock.py``): every writer (``evolve``, :func:`rewind`,
:func:`delete_run`, :func:`discard_if_unstarted`) holds it, so a run has one writer at a time.

Write order for generation g, chosen so that a kill at any point leaves the old state or the new one:

1. ``gen_g.pt.tmp`` is written and flushed to disk, then renamed to ``gen_g.pt`` (atomic);
2. ``manifest.json.tmp`` with g's entry (and the checkpoint's sha256) is written, flushed and renamed:
   **this rename is the commit point** - before it, g does not exist (a ``gen_g.pt`` not in the manifest is
   an orphan, overwritten when g is computed again); after it, g is finished;
3. ``generations.csv`` is rewritten from the manifest (a kill here leaves it short; :func:`open_run`
   rebuilds it).

A disk that fills up during 1 or 2 raises :class:`RunStoreError` saying which generations are intact; the
temporary file is removed and nothing is committed, so freeing space and relaunching resumes exactly.

Opening a run (:func:`open_run`, finished or not) checks the manifest's checksum, that the folder holds the run
its name says (``config.yaml``'s run id, the manifest's) and the sha256 of every checkpoint the manifest lists;
a missing, truncated or altered file raises :class:`CorruptCheckpointError` and is never used. A folder that
has checkpoints but no (readable) manifest is refused, never overwritten. Opening needs no write: a finished run
in a read-only store opens (its rows come from the verified manifest).
"""
from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import torch

from ..config import EvolutionConfig
from . import files
from .files import CorruptCheckpointError, RunStoreError  # noqa: F401 (the store's errors)
from .files import atomic_write_text, no_space, remove_quietly, temp_path
from .lock import run_lock
from .manifest import CHECKPOINT_GLOB, CONFIG, MANIFEST, checkpoint_name, verify_checkpoint  # noqa: F401
from .manifest import check_identity, read_manifest, verify_unsealed, write_manifest

CSV = "generations.csv"
ENVIRONMENT = "environment.json"


def run_dir_for(config: EvolutionConfig, runs_dir: str | os.PathLike = "runs") -> Path:
    return Path(runs_dir) / config.run_id()


def check_runs_dir(runs_dir: str | os.PathLike) -> None:
    """Refuse a run store path that is, or lies under, a file."""
    path = Path(runs_dir)
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise RunStoreError(f"run store {path} is not a folder: {p} is a file")
            return


@dataclass
class Run:
    """An opened, verified run folder: its manifest (run id, settings and finished generations)."""

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


def read_verified(run_dir: Path, expected: EvolutionConfig | None = None,
                  entries: slice = slice(None)) -> dict[str, Any] | None:
    """The manifest of ``run_dir`` after every check: its checksum, the folder's identity, the checkpoints of
    ``entries`` (and, for a manifest without checksum, their metrics against those in the checkpoints)."""
    found = read_manifest(run_dir)
    if found is None:
        return None
    manifest, sealed = found
    check_identity(run_dir, manifest, expected)
    checked = manifest["generations"][entries]
    if sealed:
        for entry in checked:
            verify_checkpoint(run_dir, entry)
    else:
        verify_unsealed(run_dir, checked)
    return manifest


def open_run(run_dir: str | os.PathLike, create: bool = False, config: EvolutionConfig | None = None) -> Run:
    """Open ``run_dir``, verify its manifest, identity and every finished generation's checkpoint, and repair
    the derived CSV where the folder can be written.

    ``create``: an absent or empty folder gives an empty run (nothing is written yet). A folder holding
    checkpoints without a manifest raises :class:`RunStoreError`; it is never overwritten. ``config``: the
    configuration the caller expects there (named in the error about a folder holding another run).
    """
    run_dir = Path(run_dir)
    manifest = read_verified(run_dir, config) if run_dir.is_dir() else None
    if manifest is None:
        if run_dir.is_dir() and any(run_dir.glob(CHECKPOINT_GLOB)):
            raise RunStoreError(
                f"run folder {run_dir} holds checkpoints but no {MANIFEST}, so none of them can be trusted; "
                f"nothing was changed. Move the folder away (or delete it) to compute the run again.")
        if not create:
            raise FileNotFoundError(f"no run in {run_dir} (no {MANIFEST})")
        return Run(run_dir, {"settings": {}, "generations": []})
    run = Run(run_dir, manifest)
    _repair_csv(run)
    return run


def _csv_text(run: Run) -> str:
    return pd.DataFrame(run.rows()).to_csv(index=False) if run.finished else ""


def _repair_csv(run: Run) -> None:
    """Rewrite a short or altered CSV from the manifest, if this process may: not while another process writes
    the run (it rewrites the CSV itself), not in a store that cannot be written (the manifest holds the rows)."""
    csv, expected = run.path / CSV, _csv_text(run)
    with contextlib.suppress(OSError):
        if not run.finished or csv.read_text() == expected:
            return
    try:
        with run_lock(run.path, timeout=0):
            atomic_write_text(csv, expected)
    except RunStoreError:
        pass  # locked by a writer, or no lock file can be created here
    except OSError as e:
        if not files.unwritable(e):
            raise


@contextlib.contextmanager
def _committing(run: Run, path: Path) -> Iterator[None]:
    """Write ``path`` of ``run``: on failure its temporary file is removed, and a full disk becomes a
    :class:`RunStoreError` that says what is intact."""
    try:
        yield
    except (OSError, RuntimeError) as e:
        full = no_space(e, run.path)  # measured before the temporary file frees its space
        remove_quietly(temp_path(path))
        if full:
            intact = (f"generations 1..{run.done} of {run.path.name} are intact" if run.done
                      else f"{run.path.name} has no finished generation yet")
            raise RunStoreError(f"no space left on device while writing {path}: {intact}; free space and "
                                f"relaunch to resume") from e
        raise


def start(run: Run, config: EvolutionConfig, settings: dict[str, Any]) -> None:
    """Create the folder of a new run and record its configuration and settings (the manifest last)."""
    run.path.mkdir(parents=True, exist_ok=True)
    with _committing(run, run.path / CONFIG):
        atomic_write_text(run.path / CONFIG, config.to_yaml_text())
    run.manifest.update(run_id=config.run_id(), settings=dict(settings))
    with _committing(run, run.path / MANIFEST):
        write_manifest(run.path, run.manifest)


def record_environment(run: Run, text: str) -> None:
    """Write ``environment.json``: the machine and library versions of the process working on the run."""
    with _committing(run, run.path / ENVIRONMENT):
        atomic_write_text(run.path / ENVIRONMENT, text)


def save_generation(run: Run, generation: int, payload: dict[str, Any], metrics: dict[str, Any],
                    note: dict[str, Any] | None = None) -> None:
    """Commit generation ``generation`` (the module docstring gives the write order); ``note``: extra keys of
    its manifest entry (``ancestor_from``)."""
    if generation != run.done + 1:
        raise RunStoreError(f"generation {generation} cannot follow generation {run.done} in {run.path}")
    path = run.path / checkpoint_name(generation)
    with _committing(run, path):
        files.write_synced(temp_path(path), lambda f: torch.save(payload, f))
    os.replace(temp_path(path), path)
    files.fsync_dir(run.path)
    entry = {"generation": generation, "checkpoint": path.name, "sha256": files.sha256(path), **(note or {}),
             "metrics": metrics}
    manifest = {**run.manifest, "generations": [*run.finished, entry]}
    with _committing(run, run.path / MANIFEST):
        write_manifest(run.path, manifest)
    run.manifest = manifest
    atomic_write_text(run.path / CSV, _csv_text(run))


def rewind(run_dir: str | os.PathLike, generation: int) -> Run:
    """Forget the generations after ``generation`` (their checkpoints are deleted): the next launch recomputes
    them. Refuses a run another process is writing, a missing run and a ``generation`` that drops nothing;
    prints what it deletes before deleting it."""
    run_dir = Path(run_dir)
    if not (run_dir / MANIFEST).is_file():
        raise FileNotFoundError(f"no run in {run_dir} (no {MANIFEST})")
    with run_lock(run_dir, timeout=0):
        manifest = read_verified(run_dir, entries=slice(0, max(generation, 0)))
        done = len(manifest["generations"])
        if not 0 <= generation < done:
            raise RunStoreError(f"cannot rewind {run_dir} to generation {generation}: it has {done} finished "
                                f"generation(s), so give 0..{done - 1} (the generations after it are dropped)"
                                if done else f"cannot rewind {run_dir}: it has no finished generation to drop")
        kept, dropped = manifest["generations"][:generation], manifest["generations"][generation:]
        which, theirs = ((f"generation {done}", "its checkpoint") if len(dropped) == 1
                         else (f"generations {generation + 1}..{done}", "their checkpoints"))
        print(f"rewind {run_dir}: deleting {which} and {theirs} {', '.join(g['checkpoint'] for g in dropped)}",
              flush=True)
        write_manifest(run_dir, {**manifest, "generations": kept})
        for g in dropped:
            (run_dir / g["checkpoint"]).unlink(missing_ok=True)
        return open_run(run_dir)


def delete_run(run_dir: str | os.PathLike) -> None:
    """Delete a run folder, holding its lock (refused while another process writes the run)."""
    with run_lock(run_dir, timeout=0):
        shutil.rmtree(run_dir)


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
    """Remove a run folder that a failed start left without a finished generation nor a checkpoint; only while
    holding its lock (the caller's, or taken here), so never a folder another process is training into."""
    with run_lock(run_dir, timeout=0):
        if run_dir.is_dir() and not any(run_dir.glob(CHECKPOINT_GLOB)) \
                and not any(run_dir.glob(CHECKPOINT_GLOB + ".tmp")):
            found = read_manifest(run_dir)
            if found is None or not found[0]["generations"]:
                shutil.rmtree(run_dir)
