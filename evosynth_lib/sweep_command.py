"""``evosynth sweep``: many evolutions at once, as Ray tasks (one evolution per task), into one run store.

    evosynth sweep --profile quick                                   # every evolution of a book profile
    evosynth sweep --profile quick --only mnist-seed1 normalisation  # some of them (or pages)
    evosynth sweep configs/a.yaml configs/b.yaml [--set k=v]         # configuration files
    evosynth sweep --profile paper --address auto --gpus-per-run 1   # on a running Ray cluster

Evolutions are named as the book publishes them (``book/pages.py``): ``mnist``, ``mnist-seed1``,
``normalisation/max`` for a profile's; a file's by its ``name``, else its file name (``<name>`` for the first
seed of its ``seeds``, ``<name>-seed<k>`` for the others). Runs already
finished in the run store are skipped; the others are trained (interrupted ones resume). The whole set is
checked before any task starts (an error prints one line and exits 2); at the end a table says what finished,
resumed or failed, and the exit status is 1 when any run failed. The book publishes finished runs without
training (``make book``): see the README's "Running on a cluster".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .book.paths import RUNS, resolve
from .book.pages import evolutions_of
from .book.results import profile_evolutions
from .cli import parse_overrides
from .config import ConfigError
from .run.sweep import Evolution, outcome_table, sweep


def evolutions_from(files: list[str], profile: str | None, only: list[str] | None,
                    overrides: list[str] = ()) -> list[Evolution]:
    """The evolutions the command line names: a profile's, the files', then only those ``only`` names."""
    found: list[Evolution] = []
    if profile:
        found += profile_evolutions(profile, overrides=parse_overrides(overrides))
        if not found:
            raise ConfigError(f"profile {profile!r} has no evolutions (profiles/{profile}/evolve-*.yaml or "
                              f"normalisation.yaml)")
    for file in files:
        found += evolutions_of(file, parse_overrides(overrides))
    if only:
        labels = {ev.name: {ev.name, ev.name.split("/")[0], Path(ev.source).stem} for ev in found}  # run, study, page
        unknown = [n for n in only if not any(n in names for names in labels.values())]
        if unknown:
            raise ConfigError(f"--only {' '.join(unknown)}: not in the set; known: {', '.join(labels)}")
        found = [ev for ev in found if labels[ev.name] & set(only)]
    if not found:
        raise ConfigError("nothing to run: give configuration files or --profile")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="evosynth sweep", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", metavar="FILE", help="YAML configuration or profile files")
    p.add_argument("--profile", help="every evolution of profiles/PROFILE/ (evolve-*.yaml, normalisation.yaml)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these runs (a run name, a page or a file name)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a field of the files")
    p.add_argument("--runs-dir", default=None, help=f"the run store (default: {RUNS}/ of the repository, else ./runs)")
    p.add_argument("--address", help="a running Ray cluster (auto, or ray://HEAD:10001); default: a local instance "
                   "with every core of this machine (or $RAY_ADDRESS)")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local instance (default: every core)")
    p.add_argument("--cpus-per-run", type=float, default=1, help="CPUs each run reserves (default 1)")
    p.add_argument("--gpus-per-run", type=float, default=0, help="GPUs each run reserves, may be a fraction "
                   "(default 0: the runs see no GPU, and device auto means the CPU)")
    p.add_argument("--threads", type=int, help="each run's torch threads, recorded in the run (default: the one a "
                   "started run recorded, else --cpus-per-run)")
    p.add_argument("--max-retries", type=int, default=3, help="restarts of a run whose worker died (default 3)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--traceback", action="store_true", help="show the full traceback of an error")
    args = p.parse_args(argv)
    try:
        evolutions = evolutions_from(args.files, args.profile, args.only, args.set)
        outcomes = sweep(evolutions, args.runs_dir or _default_runs_dir(), address=args.address,
                         num_cpus=args.num_cpus, cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                         threads=args.threads, max_retries=args.max_retries, progress=not args.no_progress)
    except (ConfigError, FileNotFoundError) as e:
        if args.traceback:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(outcome_table(outcomes))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _default_runs_dir() -> Path:
    try:
        return resolve(RUNS)  # the book's run store, so that `make book` publishes what the sweep trained
    except FileNotFoundError:  # not inside the repository
        return Path(RUNS)


if __name__ == "__main__":
    sys.exit(main())
