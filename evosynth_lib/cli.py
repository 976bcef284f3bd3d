"""Command line: run (or resume) evolutions from a YAML configuration or a book profile file.

    evosynth evolve configs/mnist-3gen.yaml [--set key=value ...] [--runs-dir runs]
    evosynth evolve profiles/quick/evolve-mnist.yaml      # a profile file: every seed of its list
    evosynth evolve --rewind 2 runs/<run id>              # forget generations 3.. of a run
    evosynth evolve CONFIG.yaml --publish results/<profile>/<name>   # and publish it for the book

Every parameter is checked before any data is read; an error prints one line (``error: ...``) and exits 2
(``--traceback`` shows the whole traceback).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from .book.pages import evolutions_of
from .book.results import publish_run
from .config import ConfigError
from .yaml_io import parse_yaml
from .run.evolve import evolve
from .run.store import CorruptCheckpointError, RunStoreError, load_generations, rewind

SHOWN = ("generation", "synapses", "architectural_efficiency", "accuracy", "precision", "recall",
         "cluster_efficiency", "wall_time_s")


def parse_override(item: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--set``, the value read as YAML."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
    parsed = parse_yaml(value, f"--set {item!r}")
    if isinstance(parsed, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", parsed.strip()):
        parsed = float(parsed)  # YAML 1.1 reads 1e-3 (no dot) as a string; on the command line it is a number
    return key.strip(), parsed


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE ...`` as a mapping of fields (the last value of a key wins)."""
    return dict(parse_override(item) for item in items)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="evosynth evolve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="YAML file with EvolutionConfig fields (or a profile file); with --rewind: a run folder")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field (value parsed as YAML), e.g. --set generations=5")
    p.add_argument("--runs-dir", default="runs", help="run store folder (default: runs)")
    p.add_argument("--rewind", type=int, metavar="G", help="keep generations 1..G of the run folder CONFIG, drop the rest")
    p.add_argument("--publish", metavar="DIR", help="publish the finished run into DIR (results/<profile>/<name>; "
                   "one seed only)")
    p.add_argument("--no-shared-ancestor", action="store_true",
                   help="train generation 1 even where another run in --runs-dir already trained the same ancestor")
    p.add_argument("--traceback", action="store_true", help="show the full traceback of an error")
    args = p.parse_args(argv)
    try:
        if args.rewind is not None:
            run = rewind(args.config, args.rewind)
            print(f"{run.path}: generations 1..{run.done} kept; the next launch computes the rest")
            return 0
        configs = [ev.config for ev in evolutions_of(args.config, parse_overrides(args.set))]  # all checked first
        if args.publish and len(configs) > 1:
            raise ConfigError("--publish takes one evolution; this file has several seeds (use --set seeds=[k])")
        for config in configs:
            run_dir = evolve(config, args.runs_dir, share_ancestor=not args.no_shared_ancestor)
            df = load_generations(run_dir)
            print(f"run folder: {run_dir} (seed {config.seed})")
            print(df[[c for c in SHOWN if c in df]].to_string(index=False))
            if args.publish:
                print(f"published: {publish_run(run_dir, Path(args.publish).resolve(), config, {'command': ' '.join(sys.argv)})}")
    except (ValueError, OSError, CorruptCheckpointError, RunStoreError, KeyError) as e:  # ConfigError is a ValueError
        if args.traceback:
            raise
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    return 0


def one_line(e: BaseException) -> str:
    """An error as one line: its message, or its kind where the message is empty (``OSError``: with the file)."""
    text = " ".join(str(e).split()) if not isinstance(e, KeyError) else str(e.args[0] if e.args else e)
    return text or type(e).__name__


if __name__ == "__main__":
    sys.exit(main())
