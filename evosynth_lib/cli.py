"""Command line: run (or resume) one evolution from a YAML configuration.

    python -m evosynth_lib.cli configs/mnist-3gen.yaml [--set key=value ...] [--runs-dir runs]
"""
from __future__ import annotations

import argparse
import sys

import yaml

from .config import EvolutionConfig
from .evolution import evolve, load_generations


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="YAML file with EvolutionConfig fields")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field (value parsed as YAML), e.g. --set generations=5")
    p.add_argument("--runs-dir", default="runs", help="run store folder (default: runs)")
    args = p.parse_args(argv)
    config = EvolutionConfig.from_yaml(args.config)
    for item in args.set:
        key, _, value = item.partition("=")
        config = EvolutionConfig.from_dict({**config.to_dict(), key: yaml.safe_load(value)})
    run_dir = evolve(config, args.runs_dir)
    cols = [c for c in ("generation", "synapses", "architectural_efficiency", "accuracy", "precision", "recall",
                        "cluster_efficiency", "wall_time_s") if c in load_generations(run_dir)]
    print(f"run folder: {run_dir}")
    print(load_generations(run_dir)[cols].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
