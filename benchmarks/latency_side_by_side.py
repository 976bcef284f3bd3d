"""First and last generation of published runs, timed side by side on this machine (run/latency.py).

    python benchmarks/latency_side_by_side.py --profile quick --input 480x640 \
        --runs parse27k parse27k-flops parse27k-flops-seed1 ... --out results/quick/latency/detection.csv

Reads each run's exported networks (``results/<profile>/<run>/deploy/``, written by ``evosynth deploy``), times
all of them in one process, round-robin, per engine (ONNX Runtime and OpenVINO, float32, NCHW, batch 1), and
prints each run's last-over-first speed-up (medians) beside its FLOP ratio. With ``--out`` it writes one row per
run, generation and engine, with the machine and commit that measured it.
"""
from __future__ import annotations

import sys
from pathlib import Path as _Path

sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # this tree's library, not an install elsewhere

import argparse
import time
from pathlib import Path

import pandas as pd

from evosynth_lib.book.paths import RESULTS, resolve
from evosynth_lib.run.deploy import FILES_DIR
from evosynth_lib.run.engines import Variant
from evosynth_lib.run.export import read_exports
from evosynth_lib.run.latency import side_by_side
from evosynth_lib.run.provenance import commit_label, machine_kind


def exported(profile: str, run: str) -> list[dict]:
    """The first and last generation's exported networks of a published run."""
    try:
        files = read_exports(resolve(RESULTS) / profile / run / FILES_DIR)["files"]
    except FileNotFoundError as e:
        raise SystemExit(f"error: {e}") from None
    return [files[0], files[-1]]


def main(argv=None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="quick")
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--input", required=True, help="HxW, e.g. 28x28 or 480x640")
    p.add_argument("--channels", type=int, default=None, help="input channels (default: read from the export)")
    p.add_argument("--engines", nargs="+", default=["onnxruntime", "openvino"])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--repetitions", type=int, default=10)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    h, w = (int(v) for v in a.input.lower().split("x"))
    files = {(run, f["generation"]): f for run in a.runs for f in exported(a.profile, run)}
    channels = a.channels or next(iter(files.values()))["input_shape"][1]
    kind, commit, rows = machine_kind(), commit_label(), []
    for engine in a.engines:
        timed = side_by_side({k: f["path"] for k, f in files.items()}, Variant(engine), (1, channels, h, w),
                             a.rounds, a.repetitions)
        for (run, g), t in timed.items():
            rows.append({"run": run, "generation": g, "engine": engine, "dtype": "float32", "layout": "nchw",
                         "batch_size": 1, "input": a.input, "ms": t["ms_median"], "ms_q1": t["ms_q1"],
                         "ms_q3": t["ms_q3"], "passes": t["passes"], "flops_at_export": files[(run, g)]["flops"],
                         "channels": files[(run, g)]["channels"], "cpu": kind.get("cpu"),
                         "capability": kind.get("capability"), "commit": commit,
                         "date": time.strftime("%Y-%m-%d %H:%M:%S")})
    df = pd.DataFrame(rows)
    for (engine, run), d in df.groupby(["engine", "run"], sort=False):
        d = d.sort_values("generation")
        first, last = d.iloc[0], d.iloc[-1]
        print(f"{engine:12s} {run:28s} gen {first.generation} -> {last.generation}: "
              f"{first.ms:8.3f} -> {last.ms:8.3f} ms  speed-up {first.ms / last.ms:5.2f}x  "
              f"FLOP ratio {first.flops_at_export / last.flops_at_export:5.2f}x")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(a.out, index=False)
        print(f"wrote {a.out}")
    return df


if __name__ == "__main__":
    main()
