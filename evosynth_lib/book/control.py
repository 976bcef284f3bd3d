"""The control paper 2 lacks: the same detector evolution with and without the fp16 restriction.

An *arm* is a list of published runs that differ only in their seed; two arms differ only in ``fp16``
(:func:`config_differences` says otherwise when they do). Each arm is read at its last generation (synapse
reduction, compacted-FLOP ratio, precision, recall, AP@0.5, the speed-up measured in the evolution loop) and, so
that the comparison is made at equal efficiency as well as at equal generation, at the largest architectural
efficiency every run of both arms reaches (:func:`common_efficiency`), interpolated as ``seeds.interpolate`` does.
"""
from __future__ import annotations

import math

import pandas as pd

from ..config import EvolutionConfig
from ..tasks.detection.metrics import binomial_se
from .results import Published
from .seeds import frame, interpolate, mean_text

IGNORED = {"seed", "fp16", "threads", "device", "data_dir", "num_workers", "download"}  # not what an arm computes
SPEED = "fps_compact_b1"  # the loop's speed column: compacted network, batch 1


def config_differences(arms: dict[str, list[Published]]) -> list[str]:
    """The configuration fields, other than the seed and ``fp16``, on which any two runs of ``arms`` differ."""
    configs = [r.config for runs in arms.values() for r in runs]
    keys = sorted({k for c in configs for k in c} - IGNORED)
    defaults = {k: f.default for k, f in EvolutionConfig.__dataclass_fields__.items()}  # a run recorded before a
    return [k for k in keys if len({repr(c.get(k, defaults.get(k))) for c in configs}) > 1]  # field existed lacks it


def common_efficiency(arms: dict[str, list[Published]]) -> float:
    """The largest architectural efficiency every run of every arm reaches (NaN when an arm is empty)."""
    finals = [float(frame(r)["architectural_efficiency"].max()) for runs in arms.values() for r in runs]
    return min(finals) if finals and all(arms.values()) else math.nan


def _ratio(df: pd.DataFrame, name: str, inverse: bool = False) -> float:
    if name not in df or df[name].isna().any():
        return math.nan
    first, last = float(df[name].iloc[0]), float(df[name].iloc[-1])
    return first / last if inverse else last / first


def run_rows(arms: dict[str, list[Published]]) -> pd.DataFrame:
    """One row per run: its arm and seed, the last generation's ratios and metrics (with the binomial standard error
    of precision and recall on the test set), and precision / recall at :func:`common_efficiency`."""
    at = common_efficiency(arms)
    rows = []
    for arm, runs in arms.items():
        for r in runs:
            df = frame(r)
            last = df.iloc[-1]
            row = {"arm": arm, "run": r.name, "seed": r.config.get("seed"), "generation": int(last["generation"]),
                   "fewer synapses": _ratio(df, "synapses", inverse=True),
                   "fewer FLOPs": _ratio(df, "flops_compact", inverse=True),
                   "loop speed-up": _ratio(df, SPEED)}
            for m in ("precision", "recall", "ap50"):
                row[m] = float(last[m]) if m in df else math.nan
                row[f"{m} change"] = float(last[m] - df[m].iloc[0]) if m in df else math.nan
            if {"tp", "n_pred", "n_gt"} <= set(df):
                row["precision_se"] = float(binomial_se(last["tp"], last["n_pred"]))
                row["recall_se"] = float(binomial_se(last["tp"], last["n_gt"]))
            row["ap50_se"] = float(last["ap50_se"]) if "ap50_se" in df else math.nan
            for m in ("precision", "recall"):
                row[f"{m} at equal A-E"] = interpolate(df, at, m) if not math.isnan(at) else math.nan
            rows.append(row)
    return pd.DataFrame(rows)


def control_table(rows: pd.DataFrame, efficiency: float) -> pd.DataFrame:
    """Per arm: mean ± sd over its seeds of every column of :func:`run_rows` (NaN columns say "not recorded")."""
    out = {}
    columns = {"fewer synapses": (".1f", "x"), "fewer FLOPs": (".2f", "x"), "loop speed-up": (".2f", "x"),
               "precision": (".3f", ""), "precision change": ("+.3f", ""), "recall": (".3f", ""),
               "recall change": ("+.3f", ""), "ap50": (".3f", ""), "ap50 change": ("+.3f", ""),
               "precision at equal A-E": (".3f", ""), "recall at equal A-E": (".3f", "")}
    for arm, d in rows.groupby("arm", sort=False):
        col = {"runs": str(len(d)), "last generation": ", ".join(str(g) for g in sorted(set(d.generation)))}
        for name, (spec, suffix) in columns.items():
            values = d[name].dropna().tolist() if name in d else []
            col[name] = mean_text(values, spec, suffix, False) if values else "not recorded"
        out[arm] = col
    table = pd.DataFrame(out)
    labels = {"ap50": "AP@0.5", "ap50 change": "AP@0.5 change"}
    if not math.isnan(efficiency):
        labels.update({f"{m} at equal A-E": f"{m} at A-E {efficiency:.2f}X" for m in ("precision", "recall")})
    return table.rename(index=labels).rename_axis("last generation, mean ± sd over seeds")
