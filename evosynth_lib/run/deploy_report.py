"""What a deploy measurement says: speed-up ratios beside the FLOP ratio and beside the papers' speed-ups; and the
re-measurement of published ONNX files on any machine (``benchmarks/deploy.py``).

:func:`ratios` turns deploy rows (``run/deploy.py``'s ``deploy.csv``, or :func:`measure_files`'s) into one row
per variant x input x batch: fps of the first and last generation, ``speedup`` (last / first, same variant),
``flop_ratio`` (first / last FLOPs: the physical limit of a dense speed-up), ``vs_baseline`` (last gen in this
variant / first gen in PyTorch eager float32 NCHW at the same input and batch) and the change of the metrics.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.metrics import TASK_METRICS
from ..speed.protocol import REPETITIONS, WARMUP, time_passes
from .engines import device_features, plan_variants, prepare
from .export import read_exports

VARIANT = ["engine", "dtype", "layout"]
BASELINE = {"engine": "pytorch", "dtype": "float32", "layout": "nchw"}


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """First vs last generation per variant, input and batch size (module docstring)."""
    first, last = int(df["generation"].min()), int(df["generation"].max())
    metrics = [m for m in TASK_METRICS if m in df]
    base = df[(df["generation"] == first) & (df["engine"] == BASELINE["engine"])
              & (df["dtype"] == BASELINE["dtype"]) & (df["layout"] == BASELINE["layout"])]
    base = {(r["input"], r["batch_size"]): r["fps"] for _, r in base.iterrows()}
    rows = []
    for key, part in df.groupby(VARIANT + ["input", "batch_size"], sort=False):
        a, b = part[part["generation"] == first], part[part["generation"] == last]
        if a.empty or b.empty:
            continue
        a, b = a.iloc[0], b.iloc[0]
        row = dict(zip(VARIANT + ["input", "batch_size"], key))
        row.update({"fps_first": a["fps"], "fps_last": b["fps"], "speedup": b["fps"] / a["fps"],
                    "flop_ratio": a["flops"] / b["flops"] if b["flops"] else np.nan,
                    "vs_baseline": b["fps"] / base[(key[3], key[4])] if (key[3], key[4]) in base else np.nan,
                    "max_abs_diff_last": b["max_abs_diff"]})
        for m in metrics:
            row[f"{m}_first"], row[f"{m}_last"], row[f"{m}_change"] = a[m], b[m], b[m] - a[m]
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out):
        out["speedup_over_flop_ratio"] = out["speedup"] / out["flop_ratio"]
    return out


def paper_lines(r: pd.DataFrame, paper_speedup: float | None, paper_changes: dict[str, float] | None = None) -> list[str]:
    """The largest measured last/first speed-up at batch 1 beside the paper's (``paper_speedup``; the detector also
    beside the paper's changes of its metrics), then whether each speed-up lies within 2x of its FLOP ratio and,
    where not, where the time goes."""
    lines = []
    batch1 = r[r["batch_size"] == 1] if len(r) else r
    if paper_speedup is not None:
        if batch1.empty or batch1["speedup"].isna().all():
            lines.append(f"last/first generation at batch 1: not measured here (paper: {paper_speedup:.2f}x)")
        else:
            best = batch1.loc[batch1["speedup"].idxmax()]
            changes = "".join(f"; {m} change {best[f'{m}_change']:+.3f} (paper {v:+.3f})"
                              for m, v in (paper_changes or {}).items() if f"{m}_change" in best.index)
            lines.append(f"last/first generation at batch 1, same engine, precision and input: largest {best['speedup']:.2f}x "
                         f"({best['engine']} {best['dtype']} {best['layout']}, {best['input']}); paper: "
                         f"{paper_speedup:.2f}x{changes}")
    if len(batch1):
        off = batch1[(batch1["speedup_over_flop_ratio"] < 0.5) | (batch1["speedup_over_flop_ratio"] > 2)]
        lines.append(f"speed-up within 2x of the FLOP ratio: {len(batch1) - len(off)} of {len(batch1)} variants"
                     + (f" (not: {', '.join(off['engine'] + ' ' + off['dtype'] + ' ' + off['layout'] + ' ' + off['input'])})"
                        if len(off) else ""))
        for _, t in time_split(off).iterrows():
            lines.append(f"where the time goes, {t['engine']} {t['dtype']} {t['layout']} {t['input']}: the last "
                         f"generation takes {t['us_last']:.1f} us per image; at the first generation's FLOP rate its "
                         f"FLOPs would take {t['us_flops']:.1f} us; the other {t['us_fixed']:.1f} us "
                         f"({t['fixed_share']:.0%}) do not shrink with FLOPs (per-layer dispatch and memory traffic)")
    return lines


def time_split(r: pd.DataFrame) -> pd.DataFrame:
    """Where the last generation's time goes, per row of :func:`ratios` (per image, microseconds): ``us_flops``,
    the time its FLOPs would take at the first generation's FLOP rate (first-generation time / FLOP ratio);
    ``us_fixed``, the rest, which does not shrink with FLOPs; ``fixed_share`` = ``us_fixed / us_last``. A
    speed-up far below the FLOP ratio is a large ``fixed_share``."""
    out = r[["engine", "dtype", "layout", "input", "batch_size"]].copy()
    out["us_first"] = 1e6 / r["fps_first"]
    out["us_last"] = 1e6 / r["fps_last"]
    out["us_flops"] = out["us_first"] / r["flop_ratio"]
    out["us_fixed"] = (out["us_last"] - out["us_flops"]).clip(lower=0.0)
    out["fixed_share"] = out["us_fixed"] / out["us_last"]
    return out


def measure_files(folder: str | Path, threads: int = 1, warmup: int = WARMUP, repetitions: int = REPETITIONS,
                  half: str = "auto", engines=("onnxruntime", "openvino")) -> pd.DataFrame:
    """Re-measure the published ``genNN.onnx`` files of ``folder`` (with its ``manifest.json``) in every ONNX
    engine here, at the training input and (detection) the camera frame, batch 1. ``max_abs_diff``: against the
    masked float32 network's output stored in ``genNN.npz`` (training input only; NaN at the camera frame)."""
    import torch

    folder = Path(folder)
    manifest = read_exports(folder)
    variants, _ = plan_variants(device_features(), engines, half)
    rows = []
    for entry in manifest["files"]:
        check = np.load(folder / entry["check"])
        x, ref = torch.from_numpy(check["input"]), torch.from_numpy(check["output"])
        shapes = [tuple(entry["input_shape"])]
        if entry.get("dynamic_hw") and manifest.get("camera_hw"):
            shapes.append((1, shapes[0][1], *manifest["camera_hw"]))
        for v in variants:
            for shape in shapes:
                xi = x if tuple(x.shape) == shape else torch.zeros(shape).normal_(generator=torch.Generator().manual_seed(0))
                r = prepare(v, None, entry["path"], shape, threads)
                t = time_passes(r.timed(xi), warmup, repetitions)
                diff = float((r(x) - ref).abs().max()) if xi is x else np.nan
                rows.append({"generation": entry["generation"], **{k: getattr(v, k) for k in VARIANT},
                             "batch_size": 1, "input": f"{shape[2]}x{shape[3]}", "threads": threads,
                             "fps": 1e3 / t["ms_median"], "ms_iqr": t["ms_iqr"],
                             "flops": entry["flops"] * (shape[2] * shape[3]) / (shapes[0][2] * shapes[0][3]),
                             "max_abs_diff": diff, "ms": t["ms_median"], "precision_used": r.dtype_used})
    return pd.DataFrame(rows)
