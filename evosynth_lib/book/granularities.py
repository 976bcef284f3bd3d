"""Structured offspring side by side: one evolution under each granularity of a synaptic cluster (a kernel,
or a filter: the paper's "set of kernels") and each level the environmental factor acts on (synapses, or whole
clusters, F_c). Per granularity, at its last generation: synapses, the task's metric, the FLOP ratio (first over last
generation of the compacted network, no alignment padding) and the measured
speed-ups, all read from the published ``generations.csv`` and ``deploy.csv``. Nothing is measured here.

:func:`best_granularity` says which granularity best reproduces a claim of "faster at kept accuracy" by a rule fixed
before the runs: among the granularities whose metrics each fall by at most ``tolerance`` from generation 1, the one
with the highest measured speed-up (last over first generation, same engine, precision and frame, batch 1); if
none keeps its metrics, the one that loses least.
"""
from __future__ import annotations

import math

import pandas as pd

from ..core.metrics import TASK_METRICS
from ..run.deploy_report import BASELINE, ratios
from .speedups import load_deploy
from .display import fmt
from .results import Published

GRANULARITY_NAMES = {("kernel", "synapse"): "kernel clusters, factor on synapses (our default)",
                 ("filter", "synapse"): "filter clusters, factor on synapses",
                 ("kernel", "cluster"): "kernel clusters, factor on clusters (F_c)",
                 ("filter", "cluster"): "filter clusters, factor on clusters (F_c)"}


def granularity_name(run: Published) -> str:
    key = (run.config.get("granularity", "kernel"), run.config.get("factor_level", "synapse"))
    return GRANULARITY_NAMES.get(key, f"{key[0]} clusters, factor on {key[1]}s")


def metric_names(run: Published) -> list[str]:
    return [m for m in TASK_METRICS if m in run.generations]


def summary(run: Published) -> dict:
    """The numbers of one granularity (module docstring); deployed ones are NaN where no ``deploy.csv`` is published."""
    df = run.generations.sort_values("generation")
    first, last = df.iloc[0], df.iloc[-1]
    out = {"generation": int(last["generation"]), "synapse_reduction": first["synapses"] / last["synapses"],
           "flop_ratio": math.nan, "speedup": math.nan, "speedup_variant": "", "vs_baseline": math.nan,
           "vs_baseline_variant": ""}
    for m in metric_names(run):
        out[f"{m}_first"], out[f"{m}_last"] = first[m], last[m]
    out["loss"] = max([0.0] + [first[m] - last[m] for m in metric_names(run)])  # worst fall of a metric
    if "flops_compact" in df and last["flops_compact"]:  # dead channels removed, no alignment padding
        out["flop_ratio"] = first["flops_compact"] / last["flops_compact"]
    deployed = load_deploy(run)
    if deployed is not None and deployed[1].get("run_id") == run.provenance.get("run_id"):
        r = ratios(deployed[0])
        r = r[r["batch_size"] == 1]
        base = r[(r["engine"] == BASELINE["engine"]) & (r["dtype"] == BASELINE["dtype"])
                 & (r["layout"] == BASELINE["layout"])]
        if math.isnan(out["flop_ratio"]) and len(base):
            out["flop_ratio"] = float(base["flop_ratio"].iloc[0])
        for col in ("speedup", "vs_baseline"):
            if len(r) and r[col].notna().any():
                best = r.loc[r[col].idxmax()]
                out[col] = float(best[col])
                out[f"{col}_variant"] = f"{best['engine']} {best['dtype']} {best['layout']}, {best['input']}"
    return out


def best_granularity(runs: dict[str, Published], tolerance: float) -> str:
    """The label of the granularity that best reproduces "faster at kept accuracy" (the rule in the module docstring)."""
    s = {k: summary(r) for k, r in runs.items()}
    kept = [k for k in s if s[k]["loss"] <= tolerance]
    if kept:
        return max(kept, key=lambda k: (-1.0 if math.isnan(s[k]["speedup"]) else s[k]["speedup"]))
    return min(s, key=lambda k: s[k]["loss"])


def granularities_table(runs: dict[str, Published], tolerance: float) -> pd.DataFrame:
    """One row per granularity: what it is, synapses, metrics first -> last, FLOP ratio, measured speed-ups, the pick."""
    pick = best_granularity(runs, tolerance) if runs else None
    rows = []
    for label, run in runs.items():
        s = summary(run)
        row = {"run": label, "reading": granularity_name(run), "generation": s["generation"],
               "synapses (first / last)": fmt(s["synapse_reduction"], ".1f", "X")}
        for m in metric_names(run):
            row[f"{m} gen 1 -> last"] = f"{s[f'{m}_first']:.3f} -> {s[f'{m}_last']:.3f}"
        row[f"worst fall (kept: <= {tolerance})"] = f"{s['loss']:.3f}"
        row["FLOP ratio"] = fmt(s["flop_ratio"], ".2f", "X")
        row["best measured speed-up, same engine"] = (f"{fmt(s['speedup'], '.2f', 'X')} ({s['speedup_variant']})"
                                                      if s["speedup_variant"] else "not measured")
        row["best deployed / gen 1 fp32 eager NCHW"] = (f"{fmt(s['vs_baseline'], '.2f', 'X')} "
                                                        f"({s['vs_baseline_variant']})" if s["vs_baseline_variant"]
                                                        else "not measured")
        row["best reproduces the claim"] = "yes" if label == pick else ""
        rows.append(row)
    return pd.DataFrame(rows)
