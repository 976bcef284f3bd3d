"""Benchmark: deployment speed-ups, first vs last generation, per engine and precision, beside the papers'.

    python benchmarks/deploy.py results/quick/parse27k/deploy     # the published ONNX files: re-measured here
    python benchmarks/deploy.py results/quick/parse27k            # a published deploy.csv: its ratios
    python benchmarks/deploy.py runs/<run id> --out results/quick/parse27k   # measure a run (writes deploy.csv)

A folder with ``manifest.json`` holds published ``genNN.onnx`` files: they are timed in ONNX Runtime and
OpenVINO on this machine (no checkpoints, no training, no data needed) and checked against the stored output of
the masked float32 network. A run folder (``manifest.json`` of the run store and ``config.yaml``) is measured by
``evosynth_lib.run.deploy.deploy_run`` (every engine, every generation, test-set metrics; extra options:
``python -m evosynth_lib.run.deploy --help``). Prints, per engine x precision x layout x input: fps of the first
and last generation, the speed-up, the FLOP ratio (the limit of a dense speed-up), and the papers' speed-ups.
"""
from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # this tree's library, not an install elsewhere

import argparse
import json
from pathlib import Path

import pandas as pd

from evosynth_lib.run.deploy import DEPLOY_CSV, DEPLOY_JSON, deploy_run
from evosynth_lib.book import paper
from evosynth_lib.run.deploy_report import measure_files, paper_lines, ratios
from evosynth_lib.run.export import EXPORTS, read_exports
from evosynth_lib.speed.protocol import REPETITIONS, WARMUP

COLUMNS = ["engine", "dtype", "layout", "input", "batch_size", "fps_first", "fps_last", "speedup", "flop_ratio",
           "vs_baseline", "max_abs_diff_last"]


def kind_of(task: str, dataset: str) -> str:
    return "detection" if task == "detection" else dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("path", help="a deploy/ folder of ONNX files, a results folder with deploy.csv, or a run folder")
    p.add_argument("--out", help="with a run folder: where deploy.csv and deploy/ are written")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repetitions", type=int, default=REPETITIONS)
    p.add_argument("--warmup", type=int, default=WARMUP)
    p.add_argument("--half", default="auto", choices=["auto", "all", "none"])
    p.add_argument("--generations", default="all", help="run folder only: all | ends")
    p.add_argument("--eval-limit", type=int, default=None)
    a = p.parse_args()
    path = Path(a.path)
    if (path / "manifest.json").is_file() and (path / "config.yaml").is_file():  # a run folder
        from evosynth_lib.config import EvolutionConfig

        config = EvolutionConfig.from_yaml(path / "config.yaml")
        df = deploy_run(path, a.out, a.generations, half=a.half, threads=a.threads, warmup=a.warmup,
                        repetitions=a.repetitions, eval_limit=a.eval_limit)
        kind = kind_of(config.task, config.dataset)
    elif (path / EXPORTS).is_file():  # published ONNX files
        manifest = read_exports(path)
        df = measure_files(path, a.threads, a.warmup, a.repetitions, a.half)
        kind = kind_of(manifest["task"], manifest["dataset"])
    elif (path / DEPLOY_CSV).is_file():
        df = pd.read_csv(path / DEPLOY_CSV)
        meta = json.loads((path / DEPLOY_JSON).read_text()) if (path / DEPLOY_JSON).is_file() else {}
        kind = kind_of(meta.get("task", ""), meta.get("dataset", ""))
    else:
        raise SystemExit(f"{path}: neither a deploy/ folder (manifest.json), a results folder (deploy.csv) "
                         "nor a run folder")
    r = ratios(df)
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.3g}".format):
        print(r[[c for c in COLUMNS + [c for c in r if c.endswith("_change")] if c in r]].to_string(index=False))
    print("\n".join(paper_lines(r, *paper_speedup(kind))))


def paper_speedup(kind: str) -> tuple[float | None, dict[str, float]]:
    """The papers' speed-up of the last generation over the first: paper 2's fps (detector; with its precision and
    recall changes), Tables 2-3's cluster efficiency E, the "potential" speed-up (MNIST, CIFAR-10)."""
    if kind == "detection":
        p = paper.PARSE27K
        return p["fps_last"] / p["fps_first"], {"precision": p["precision_change"], "recall": p["recall_change"]}
    if kind in paper.TABLE2_3:
        return paper.TABLE2_3[kind][max(paper.TABLE2_3[kind])]["E"], {}
    return None, {}


if __name__ == "__main__":
    main()
