"""Many evolutions at once on Ray: one evolution per task, every task into one run store.

    from evosynth_lib.run.sweep import Evolution, sweep, outcome_table
    outcomes = sweep([Evolution("a", config_a), Evolution("b", config_b)], "runs", threads=1)
    print(outcome_table(outcomes))

What is guaranteed:

- **Checked first.** :func:`plan` checks the whole set before any task starts: every configuration is
  validated, names and run folders are distinct, and a run that has started keeps the thread count it
  recorded. A problem raises :class:`~evosynth_lib.config.ConfigError` naming the run and the parameter
  (``run mnist-seed1: invalid lr=-1: must be a number > 0``); nothing is written.
- **Finished runs are skipped.** A run the store already holds in full gets the status ``skipped`` and no
  task; when every run of the set is finished, Ray is not even imported.
- **Exact.** A task is :func:`~evosynth_lib.run.evolve.evolve` in a Ray worker at a fixed thread count
  (``threads``, else the one the run recorded, else ``cpus_per_run``; recorded in the run), so its metrics
  and masks are bit-identical to a sequential run at that thread count.
- **Resumable.** A task whose worker dies (killed, out of memory, node lost) is retried up to ``max_retries``
  times; the retry resumes after the run's last finished generation (the store's commit point) and ends with
  the metrics of an uninterrupted run. An exception raised by the evolution itself (missing data, a corrupt
  checkpoint) is deterministic and is not retried: the run's outcome is ``failed``, with the error.

Ray: with ``address=None`` (and no ``RAY_ADDRESS`` in the environment) a local instance is started, sized to
the machine (``num_cpus``: all its cores), and stopped at the end; ``address="auto"`` or
``"ray://head:10001"`` joins a running cluster, whose workers must see ``runs_dir`` and the data
(``EVOSYNTH_DATA``) at the same paths. When Ray is already initialised in this process (a notebook, the
tests), that instance is used and left running. Runs wait in Ray's queue until ``cpus_per_run`` CPUs (and
``gpus_per_run`` GPUs) are free for them.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..config import ConfigError, EvolutionConfig
from ..tasks.data_dir import CACHE_ENV, DATA_ENV, DOWNLOAD_ENV
from . import store
from .evolve import evolve

# what a worker must see as the driver does (it may be another machine, or a process started earlier)
FORWARDED_ENV = (DATA_ENV, CACHE_ENV, DOWNLOAD_ENV)
QUIET_WORKERS = {"TQDM_DISABLE": "1"}  # the training's own progress bars, from every worker at once: noise
STATUSES = ("skipped", "finished", "resumed", "failed")


@dataclass(frozen=True)
class Evolution:
    """One evolution of a sweep: its name (in messages and the final table) and its configuration."""

    name: str
    config: EvolutionConfig
    source: str = ""  # where it was described (a profile page, a file), for messages


@dataclass
class Outcome:
    """What happened to one evolution of a sweep.

    ``status``: ``skipped`` (finished before the sweep), ``finished`` (computed from generation 1),
    ``resumed`` (computed from a partial run), ``failed`` (``error`` says why). ``found``: generations finished
    when the sweep started; ``resumed_from``: generations the attempt that succeeded found finished (more than
    ``found`` when a lost worker's task was retried and resumed); ``done``: generations finished now.
    """

    name: str
    run_id: str
    run_dir: Path
    generations: int
    found: int
    done: int
    status: str = "queued"
    resumed_from: int | None = None
    seconds: float | None = None
    error: str | None = None

    @property
    def retried(self) -> bool:
        return self.resumed_from is not None and self.resumed_from > self.found


def _manifest(run_dir: Path) -> dict[str, Any]:
    """The run's manifest as written (``{}`` when absent or unreadable: the task then gets the store's error)."""
    try:
        return json.loads((run_dir / store.MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _finished(run_dir: Path) -> int:
    return len(_manifest(run_dir).get("generations", []))


def plan(evolutions: list[Evolution], runs_dir: str | os.PathLike, threads: int | None = None,
         default_threads: int = 1, gpus_per_run: float = 0) -> list[Evolution]:
    """The set checked, each configuration with its thread count fixed; raises ``ConfigError`` before anything runs.

    ``threads`` (if given) overrides the configurations' own; a run without either gets the thread count its
    run folder recorded, else ``default_threads``. A task without GPUs sees none (Ray hides them), so a run
    that asks for ``device: cuda`` needs ``gpus_per_run > 0`` (``device: auto`` runs on the CPU then).
    """
    if threads is not None and not (isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1):
        raise ConfigError(f"invalid threads={threads!r}: must be an integer >= 1")
    names: set[str] = set()
    runs: dict[str, str] = {}
    out = []
    for ev in evolutions:
        where = f"run {ev.name}" + (f" ({ev.source})" if ev.source else "")
        if not isinstance(ev.config, EvolutionConfig):
            raise ConfigError(f"{where}: expected an EvolutionConfig, got {type(ev.config).__name__}")
        config = ev.config.replace(threads=threads) if threads is not None else ev.config.replace()
        try:
            config.validate()
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
        if ev.name in names:
            raise ConfigError(f"{where}: the name {ev.name!r} is given twice")
        run_id = config.run_id()
        if run_id in runs:
            raise ConfigError(f"{where}: same evolution as run {runs[run_id]} (run id {run_id}; only generations, "
                              f"threads or device differ): give it once")
        where_to, threads_set = config.settings, config.settings.threads
        if where_to.device.startswith("cuda") and not gpus_per_run:
            raise ConfigError(f"{where}: invalid device={where_to.device!r}: its task gets no GPU; give GPUs per run "
                              f"(--gpus-per-run) or device auto or cpu")
        names.add(ev.name)
        runs[run_id] = ev.name
        manifest = _manifest(store.run_dir_for(config, runs_dir))
        recorded = manifest.get("settings", {}).get("threads")
        unfinished = len(manifest.get("generations", [])) < config.generations
        if recorded and threads_set and threads_set != recorded and unfinished:
            raise ConfigError(f"{where}: invalid threads={threads_set}: {store.run_dir_for(config, runs_dir)} was "
                              f"computed with threads={recorded} and resumes only at it (or use another runs dir)")
        out.append(Evolution(ev.name, config.replace(threads=threads_set or recorded or default_threads), ev.source))
    return out


def run_evolution(config: EvolutionConfig, runs_dir: str) -> dict[str, Any]:
    """The Ray task: :func:`evolve` in this worker, resuming whatever the store holds; what it found and did."""
    run_dir = store.run_dir_for(config, runs_dir)
    found, start = _finished(run_dir), time.perf_counter()
    evolve(config, runs_dir, progress=False)
    return {"found": found, "done": _finished(run_dir), "seconds": time.perf_counter() - start}


def sweep(evolutions: list[Evolution], runs_dir: str | os.PathLike = "runs", *, address: str | None = None,
          num_cpus: int | None = None, cpus_per_run: float = 1, gpus_per_run: float = 0, threads: int | None = None,
          max_retries: int = 3, progress: bool = True) -> list[Outcome]:
    """Run ``evolutions`` as Ray tasks into ``runs_dir``; one :class:`Outcome` per evolution, in order.

    ``num_cpus``: the size of a local instance (default: every core). ``cpus_per_run``, ``gpus_per_run``: what
    each task reserves. ``threads``: each run's torch threads (default: see :func:`plan`). ``max_retries``:
    how often a task whose worker died is started again. Never raises for a failed run: look at the outcomes.
    """
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    for name, value, ok, why in (
            ("cpus_per_run", cpus_per_run, number(cpus_per_run) and cpus_per_run > 0, "a number > 0"),
            ("gpus_per_run", gpus_per_run, number(gpus_per_run) and gpus_per_run >= 0, "a number >= 0"),
            ("max_retries", max_retries, isinstance(max_retries, int) and max_retries >= 0, "an integer >= 0"),
            ("num_cpus", num_cpus, num_cpus is None or (isinstance(num_cpus, int) and num_cpus >= 1),
             "null or an integer >= 1")):
        if not ok:
            raise ConfigError(f"invalid {name}={value!r}: must be {why}")
    runs_dir = Path(runs_dir).resolve()
    planned = plan(evolutions, runs_dir, threads, default_threads=max(1, int(cpus_per_run)), gpus_per_run=gpus_per_run)
    outcomes = {}
    for ev in planned:
        run_dir = store.run_dir_for(ev.config, runs_dir)
        found = _finished(run_dir)
        outcomes[ev.name] = Outcome(ev.name, ev.config.run_id(), run_dir, ev.config.generations, found, found)
    for out in outcomes.values():
        if out.found >= out.generations:
            out.status = "skipped"  # no task: the run is finished
    todo = [ev for ev in planned if outcomes[ev.name].status != "skipped"]
    if todo:
        import ray  # only here: a set of finished runs never imports (nor starts) Ray

        started = _start_ray(address, num_cpus)
        try:
            env = {**{k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}, **QUIET_WORKERS}
            task = ray.remote(run_evolution).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run,
                                                     max_retries=max_retries, runtime_env={"env_vars": env})
            refs = {task.remote(ev.config, str(runs_dir)): outcomes[ev.name] for ev in todo}
            _collect(refs, list(outcomes.values()), progress)
        finally:
            if started:
                ray.shutdown()
    return [outcomes[ev.name] for ev in planned]


def _start_ray(address: str | None, num_cpus: int | None) -> bool:
    """Connect to (or start) Ray unless this process already did; True when this call started it."""
    import ray

    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.WARNING}
    if address or os.environ.get("RAY_ADDRESS"):
        ray.init(address=address, **quiet)
    else:  # a local instance sized to the machine; its files under Ray's short default temp dir (/tmp/ray)
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, **quiet)
    return True


def _collect(refs: dict, outcomes: list[Outcome], progress: bool) -> None:
    """Wait for every task, filling its outcome; a progress bar over all runs' generations (read from the store)."""
    import ray

    total = sum(o.generations for o in outcomes)
    bar = tqdm(total=total, initial=sum(min(o.found, o.generations) for o in outcomes), unit="gen",
               desc=f"sweep of {len(outcomes)} run(s)", disable=not progress)
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
        for ref in ready:
            out = refs[ref]
            try:
                result = ray.get(ref)
                out.resumed_from, out.seconds = result["found"], result["seconds"]
                out.status = "resumed" if result["found"] else "finished"
            except Exception as e:  # noqa: BLE001 - the evolution raised, or its worker died past the retries
                out.status, out.error = "failed", one_line(e)
            if progress:
                tqdm.write(f"{out.name}: {out.status}" + (f" ({out.error})" if out.error else ""))
        for out in outcomes:
            if out.status != "skipped":
                out.done = _finished(out.run_dir)
        done = sum(min(o.done, o.generations) for o in outcomes)
        if done != bar.n:
            bar.update(done - bar.n)
    bar.close()


def one_line(error: BaseException) -> str:
    """``Type: first line of the message`` of an error, unwrapping Ray's task error to the evolution's own."""
    cause = getattr(error, "cause", None)
    error = cause if isinstance(cause, BaseException) else error
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def outcome_table(outcomes: list[Outcome]) -> str:
    """The end-of-sweep table: per run its status, generations, time and error."""
    rows = [("run", "run id", "status", "generations", "seconds", "error")]
    for o in outcomes:
        status = o.status + (f" from {o.resumed_from}" if o.status == "resumed" else "")
        status += " (retried)" if o.retried else ""
        rows.append((o.name, o.run_id, status, f"{o.done}/{o.generations}",
                     "" if o.seconds is None else f"{o.seconds:.1f}", o.error or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = [("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1]).rstrip() for r in rows]
    counts = {s: sum(o.status == s for o in outcomes) for s in STATUSES}
    return "\n".join(lines) + "\n" + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
