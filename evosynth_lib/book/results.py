"""The published results the book reads: publish a finished run, load it back, or say why there is none.

Layout (committed, read by the book without retraining)::

    results/<profile>/<name>/generations.csv   one row per generation (run/store.py's, as published)
    results/<profile>/<name>/config.yaml       the EvolutionConfig of the run
    results/<profile>/<name>/provenance.json   commits, run id, settings, duration, environment of the run
    results/<profile>/<name>/speed.csv         speed of every generation, re-measured from the checkpoints
    results/<profile>/<name>/not_run.json      instead of the above: why it could not run

``<name>`` is the dataset for the main runs (``mnist``, ``stl10``, ``cifar10``; ``<name>-seed<k>`` for the
other seeds of a profile's ``seeds`` list), ``parse27k`` for the paper-2 reproduction (run on its stand-in) and
``normalisation/<reading>`` for the normaliser study. Training happens only through :func:`ensure_results` (one
run, in the page) and :func:`.missing.train_missing` (the book's missing runs at once, before the pages, on Ray).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..config import ConfigError, EvolutionConfig
from ..run import store
from ..run.evolve import evolve
from ..run.measure import measure_run_speed
from ..run.provenance import environment_info, git_state
from .names import display_name
from .paths import RESULTS, RUNS, book_command, profiles_dir, relative, resolve
from .profiles import (  # noqa: F401  (the pages read them from here too)
    differences, page_evolutions, page_of, profile_config, profile_evolutions, seed_run_name)

SPEED_CSV = "speed.csv"
NOT_RUN = "not_run.json"
PROVENANCE = "provenance.json"


@dataclass
class Published:
    """One run's published results."""

    name: str
    path: Path
    generations: pd.DataFrame
    config: dict[str, Any]
    provenance: dict[str, Any]
    local: bool = False  # a run of the local run store, not published (parameters other than the profile's)

    @property
    def speed(self) -> pd.DataFrame | None:
        """The published ``speed.csv`` (measured fps per generation), or ``None`` where it was not measured."""
        path = Path(self.path) / SPEED_CSV
        return pd.read_csv(path) if path.is_file() else None

    @property
    def dataset(self) -> str:
        return self.config.get("dataset", self.name)


@dataclass
class NotRun:
    """A run with no published results: why, and the command that runs it."""

    name: str
    reason: str
    command: str
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = "not run"  # "awaits data": its dataset is missing | "not run": no results published (yet)

    def markdown(self, title: str | None = None) -> str:
        """A warning box titled with the run (or ``title``) and this kind, then why, then the command."""
        title = title or display_name(self.name)
        return (f":::{{admonition}} {title}: {self.kind}\n:class: warning\n{self.reason}\n\n"
                f"To run it: `{self.command}`\n:::\n")


def results_path(profile: str, name: str, results_dir: str | os.PathLike = RESULTS) -> Path:
    return resolve(results_dir) / profile / name


def load_published(profile: str, name: str, results_dir: str | os.PathLike = RESULTS,
                   page: str | None = None) -> Published | NotRun:
    """The published results of ``results/<profile>/<name>``, or a :class:`NotRun` saying why not."""
    path = results_path(profile, name, results_dir)
    page = page or page_of(name)
    csv = path / store.CSV
    if csv.is_file():
        config = yaml.safe_load((path / store.CONFIG).read_text()) if (path / store.CONFIG).is_file() else {}
        prov = json.loads((path / PROVENANCE).read_text()) if (path / PROVENANCE).is_file() else {}
        return Published(name, path, pd.read_csv(csv), config or {}, prov)
    if (path / NOT_RUN).is_file():
        d = json.loads((path / NOT_RUN).read_text())
        kind = d.get("kind") or ("awaits data" if "data was not found" in d.get("reason", "") else "not run")
        return NotRun(name, d.get("reason", "not run"), d.get("command", book_command(profile, page)), d, kind)
    rel = relative(path)
    if (profiles_dir() / profile / f"{page}.yaml").is_file():
        reason = f"No results are published in `{rel}` yet: the page `{page}` of profile `{profile}` has not been run."
        return NotRun(name, reason, book_command(profile, page))
    reason = f"Profile `{profile}` has no run for this (no `profiles/{profile}/{page}.yaml`), so `{rel}` is empty."
    others = sorted(p.parent.name for p in profiles_dir().glob(f"*/{page}.yaml"))
    if others:
        reason += (f" The profile{'s' if len(others) > 1 else ''} {' and '.join(f'`{o}`' for o in others)} "
                   f"{'run' if len(others) > 1 else 'runs'} it.")
        return NotRun(name, reason, book_command("paper" if "paper" in others else others[0], page))
    return NotRun(name, reason, book_command(profile, page))


def record_not_run(profile: str, name: str, reason: str, command: str,
                   results_dir: str | os.PathLike = RESULTS, kind: str = "awaits data") -> NotRun:
    """Publish *why* a run could not happen (e.g. its data is missing), replacing older results."""
    path = results_path(profile, name, results_dir)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    d = {"reason": reason, "command": command, "kind": kind, "date": time.strftime("%Y-%m-%d %H:%M:%S"), **git_state()}
    (path / NOT_RUN).write_text(json.dumps(d, indent=2) + "\n")
    return NotRun(name, reason, command, d, kind)


def publish_run(run_dir: str | os.PathLike, results_dir: str | os.PathLike, config: EvolutionConfig | None = None,
            extra: dict[str, Any] | None = None) -> Path:
    """Copy a finished run's per-generation metrics, config and provenance into ``results_dir``."""
    run = store.open_run(run_dir)
    out = resolve(results_dir)
    df = pd.DataFrame(run.rows())
    config = config or EvolutionConfig.from_yaml(run.path / store.CONFIG)
    df = df[df["generation"] <= config.generations]  # a longer run of the same config: the requested part
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    df.to_csv(out / store.CSV, index=False)
    config.to_yaml(out / store.CONFIG)
    wall = float(df["wall_time_s"].sum()) if "wall_time_s" in df else None
    run_env = run.path / store.ENVIRONMENT
    prov = {
        **git_state(),  # the code that published (copied) the results
        "run_commits": sorted({str(c) for c in df["commit"]}) if "commit" in df else [],  # the code that computed them
        "run_settings": run.settings,  # threads, device: what else changes the bits
        "run_environment": json.loads(run_env.read_text()) if run_env.exists() else None,
        "run_id": config.run_id(),
        "run_dir": str(relative(run.path)),
        # generation 1 adopted from this run (the same ancestor, trained once; run/evolve.py): its time is in wall_time_s
        "ancestor_from": run.finished[0].get("ancestor_from") if run.finished else None,
        "generations": int(len(df)),
        "wall_time_s": wall,
        "published": time.strftime("%Y-%m-%d %H:%M:%S"),
        "environment": environment_info(),
        **(extra or {}),
    }
    (out / PROVENANCE).write_text(json.dumps(prov, indent=2, default=str) + "\n")
    return out


def ensure_speed(result: Published, runs_dir: str | os.PathLike = RUNS, remeasure: bool = False,
                 publish: bool = False):
    """Measured inference speed of every generation of a run (``speed.csv``).

    Measured once from the run's checkpoints (:func:`~evosynth_lib.run.measure.measure_run_speed`). A published
    run's is read from its folder, and written there only when ``publish``; a local run's is kept in its run
    folder. Returns the DataFrame, or a sentence saying why not.
    """
    published = Path(result.path) / SPEED_CSV
    if published.exists() and not remeasure:
        return pd.read_csv(published)
    run_dir = resolve(runs_dir) / str(result.provenance.get("run_id"))
    if not (run_dir / store.MANIFEST).exists():
        return f"Speed not measured: the run's checkpoints are not in `{relative(run_dir)}`."
    detection = EvolutionConfig.from_dict(result.config).task == "detection"
    df = measure_run_speed(run_dir, batch_sizes=(1,) if detection else (1, 64))
    df = df[df["generation"] <= int(result.generations["generation"].max())]
    if publish and not result.local:
        df.to_csv(published, index=False)
    return df


class PublishError(ConfigError):
    """Publishing was asked for results that are not the profile's (or cannot be published)."""


def ensure_results(config: EvolutionConfig, profile: str, name: str | None = None,
                   runs_dir: str | os.PathLike = RUNS, results_dir: str | os.PathLike = RESULTS,
                   retrain: bool = False, page: str | None = None, publish: bool = False) -> Published | NotRun:
    """The results of ``config`` for the page: published ones when they are the profile's, else a local run.

    - ``config`` is the profile's run ``name`` and its published results are current: they are returned,
      nothing is trained;
    - otherwise ``run.evolve.evolve`` computes it in the run store ``runs_dir`` (resuming what is finished there)
      and the run is returned as a **local** result (``Published.local``): ``results/`` is not touched;
    - ``publish=True`` (a person asks for it: ``python -m evosynth_lib.book --publish``): the profile's run is
      published into ``results/<profile>/<name>`` (a configuration other than the profile's is refused); a
      dataset that is missing is then published as not run. Without ``publish`` a missing dataset is an error;
    - ``retrain=True``: the run folder is deleted first (it says which) and trained again.
    """
    config.validate()
    name = name or config.dataset
    page = page or page_of(name)
    command = book_command(profile, page)
    out = results_path(profile, name, results_dir)
    changed = differences(config, profile_config(profile, name))
    if publish and changed:
        raise PublishError(f"not publishing {display_name(name)} into {relative(out)}: its parameters differ from "
                           f"profiles/{profile}/{page}.yaml ({_fields(changed)}); results change only with the "
                           f"profile's parameters")
    found = load_published(profile, name, results_dir, page)
    if retrain:
        forget(config, runs_dir)
    elif not changed and is_current(found, config):
        return found
    start = time.time()
    try:
        run_dir = evolve(config, resolve(runs_dir))
    except FileNotFoundError as e:  # tasks.data_dir.DataNotFoundError: the dataset is not there
        if not publish:
            raise
        return record_not_run(profile, name, f"The {display_name(config.dataset)} data was not found: {e}",
                              command, results_dir)
    if publish:
        publish_run(run_dir, out, config, {"profile": profile, "name": name, "page": page, "command": command,
                                           "book_wall_time_s": round(time.time() - start, 1)})
        return load_published(profile, name, results_dir, page)
    return local_result(run_dir, name, config, changed)


def local_note(found: list) -> str | None:
    """The banner of a page whose runs are local (computed here with other parameters), or ``None``."""
    local = [r for r in found if isinstance(r, Published) and r.local]
    if not local:
        return None
    changed = local[0].provenance.get("differs_from_profile") or {}
    return (":::{admonition} Local run, not published\n:class: warning\n"
            f"Computed in the run store (`{local[0].provenance.get('run_dir')}`) with parameters that differ from the "
            f"profile's ({_fields(changed)}). The book's tables and figures show the published results; "
            f"these runs are not mixed into them.\n:::\n")


def _fields(changed: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in changed.items())


def local_result(run_dir: Path, name: str, config: EvolutionConfig, changed: dict[str, Any]) -> Published:
    """A finished run of the run store, shown as a local result (never mixed with published ones)."""
    run = store.open_run(run_dir)
    df = pd.DataFrame(run.rows())
    df = df[df["generation"] <= config.generations].reset_index(drop=True)
    prov = {"run_id": config.run_id(), "run_dir": str(relative(run.path)), "run_settings": run.settings,
            "differs_from_profile": changed, **git_state()}
    return Published(f"{name} (local)", run.path, df, config.to_dict(), prov, local=True)


def is_current(found: Published | NotRun, config: EvolutionConfig) -> bool:
    """Whether published results are those of ``config``: same run id and number of generations."""
    if not isinstance(found, Published) or not found.config or found.local:
        return False
    published = EvolutionConfig.from_dict(found.config)
    # the run id leaves out the number of generations (a run can be extended): compare it too
    return (published.run_id() == config.run_id() and published.generations == config.generations
            and len(found.generations) == config.generations)


def forget(config: EvolutionConfig, runs_dir: str | os.PathLike = RUNS) -> None:
    """``retrain``: delete the run folder of ``config`` (never published results), saying so; under its lock:
    refused while another process writes the run."""
    p = store.run_dir_for(config, resolve(runs_dir))
    if p.exists():
        print(f"retrain: deleting the run folder {relative(p)} ({len(list(p.glob(store.CHECKPOINT_GLOB)))} checkpoints)")
        store.delete_run(p)
