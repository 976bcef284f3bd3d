"""``evosynth verify``: re-compute a published result on this machine and see how far it lands.

    evosynth verify reference/mnist-prefix                   # a folder under results/ (or any path to one)
    evosynth verify evolve-mnist --profile quick --generations 2   # a page: its first seed (--seed k, --all-seeds)
    evosynth verify mnist-seed1 --profile quick --dry-run    # the time estimate only

The run is computed into a scratch run store (``--runs-dir``; default: a folder in the system's temporary
directory, where an interrupted verification resumes), never into ``results/``. It prints the time estimate
first, then column by column the largest difference and where it is, judged against the tolerance for how this
machine differs from the one that computed the published run (``run/verify.py``), and ends with one verdict line:
reproduced exactly / reproduced within the tolerance of this machine kind / differs (which numbers, by how much).
The exit status is 0 when reproduced, 1 when it differs, 2 on an error. ``--out DIR`` also writes the comparison
(``verification.csv``, ``verification.json``).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .book.paths import RESULTS, profiles_dir, resolve
from .book.results import profile_evolutions
from .cli import one_line
from .config import ConfigError
from .run import verify as v
from .run.provenance import ISA_ENV
from .run.store import CorruptCheckpointError, RunStoreError


def targets(target: str, profile: str, seed: int | None, all_seeds: bool) -> list[str]:
    """The published folders ``target`` names: a page of the profile (its seeds), or a run or folder."""
    page = profiles_dir() / profile / f"{target}.yaml"
    if not page.is_file():
        return [target]
    names = [ev.name for ev in profile_evolutions(profile, [target])]
    if not names:
        raise ConfigError(f"page {target} of profile {profile} trains no evolution")
    if all_seeds:
        return [f"{profile}/{n}" for n in names]
    if seed is None:
        return [f"{profile}/{names[0]}"]
    chosen = [n for n, ev in zip(names, profile_evolutions(profile, [target])) if ev.config.seed == seed]
    if not chosen:
        raise ConfigError(f"page {target} of profile {profile} has no seed {seed}")
    return [f"{profile}/{chosen[0]}"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="evosynth verify", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", help="a page (evolve-mnist), a published run (mnist-seed1, reference/mnist-prefix) "
                   "or the path of a published folder")
    p.add_argument("--profile", default="quick", help="the profile of a page or run name (default quick)")
    p.add_argument("--generations", type=int, metavar="K", help="re-compute only generations 1..K")
    p.add_argument("--seed", type=int, help="a page's seed to verify (default: its first)")
    p.add_argument("--all-seeds", action="store_true", help="every seed of the page")
    p.add_argument("--threads", type=int, help="torch threads (default: the published run's)")
    p.add_argument("--runs-dir", help="the scratch run store (default: <tmp>/evosynth-verify)")
    p.add_argument("--results-dir", default=RESULTS, help="the published results (default results/)")
    p.add_argument("--out", metavar="DIR", help="also write the comparison there (one subfolder per run)")
    p.add_argument("--dry-run", action="store_true", help="print what would run and the time estimate, then stop")
    p.add_argument("--traceback", action="store_true", help="show the full traceback of an error")
    args = p.parse_args(argv)
    code = 0
    try:
        if args.generations is not None and args.generations < 1:
            raise ConfigError(f"invalid --generations {args.generations}: must be >= 1")
        results_dir = resolve(args.results_dir)
        for target in targets(args.target, args.profile, args.seed, args.all_seeds):
            folder = v.published_folder(target, results_dir, args.profile)
            if args.dry_run:
                k = args.generations or len(v.pd.read_csv(folder / "generations.csv"))
                est = v.estimate_seconds(folder, k)
                print(f"{folder}: generations 1..{k}; the published run took "
                      f"{'an unrecorded time' if est is None else f'{est / 60:.1f} min'} for them")
                continue
            result = v.verify(folder, args.generations, args.runs_dir, results_dir, args.profile, args.threads)
            result.extra["command"] = "evosynth verify " + " ".join(argv if argv is not None else sys.argv[1:])
            result.extra["environment"] = {k: os.environ[k] for k in ISA_ENV if os.environ.get(k)}
            print(result.columns.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
            if args.out:
                print(f"written: {v.save(result, Path(args.out) / Path(folder).name)}")
            print(result.verdict())
            code = max(code, 0 if result.within else 1)
    except (ValueError, OSError, CorruptCheckpointError, RunStoreError) as e:
        if args.traceback:
            raise
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
