"""Speed as the environment: the methods side by side at their last generation, by measured latency.

A *method* is a list of published runs (its seeds): the evolution under the synapse environment (the papers'),
under the compute environment, and the plain baselines (magnitude pruning at equal synapses, Torch-Pruning's
filter pruning at equal FLOPs). Latency comes from one side-by-side timing of every exported network of a task
(``benchmarks/latency_side_by_side.py`` -> ``results/<profile>/latency/<task>.csv``): first and last generation of
each run, same engine, dtype, layout, batch and input, timed round-robin in one process on one machine.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .paths import RESULTS, resolve
from .results import Published, load_published
from .seeds import mean_sd, mean_text, range_text


def load_methods(profile: str, methods: dict[str, list[str]], results_dir=RESULTS) -> dict[str, list]:
    """``{method: [Published | NotRun, ...]}`` in the order given."""
    return {m: [load_published(profile, r, results_dir) for r in runs] for m, runs in methods.items()}


def absent_markdown(methods: dict[str, list]) -> str | None:
    """One warning box listing the runs of ``methods`` that are not published, with what runs them."""
    lines = [f"* {method}: `{r.name}` ({r.kind}); to run it: `{r.command}`"
             for method, runs in methods.items() for r in runs if not isinstance(r, Published)]
    if not lines:
        return None
    return ":::{admonition} Runs not published\n:class: warning\n" + "\n".join(lines) + "\n:::\n"


def load_latency(profile: str, name: str | None, results_dir=RESULTS) -> pd.DataFrame | None:
    path = resolve(results_dir) / profile / str(name)
    return pd.read_csv(path) if name and Path(path).is_file() else None


def binomial_se(p: float, n: float) -> float:
    return math.sqrt(p * (1 - p) / n) if n and n > 0 and not math.isnan(p) else math.nan


def _ends(pub: Published) -> tuple[pd.Series, pd.Series]:
    df = pub.generations.sort_values("generation")
    return df.iloc[0], df.iloc[-1]


def run_rows(methods: dict[str, list], latency: pd.DataFrame | None, engine: str, metric: str) -> pd.DataFrame:
    """One row per published run: its method, seed, last generation, synapses and FLOP ratios, metrics at the
    first and last generation, and (where timed) its latencies and measured speed-up in ``engine``."""
    rows = []
    for method, runs in methods.items():
        for pub in runs:
            if not isinstance(pub, Published):
                continue
            first, last = _ends(pub)
            row = {"method": method, "run": pub.name, "seed": pub.config.get("seed"),
                   "generation": int(last["generation"]),
                   "synapse_ratio": first["synapses"] / last["synapses"],
                   "flop_ratio": first["flops_compact"] / last["flops_compact"],
                   f"{metric}_first": first.get(metric, math.nan), metric: last.get(metric, math.nan)}
            for m in ("precision", "recall", "ap50"):
                if m in pub.generations and m != metric:
                    row[f"{m}_first"], row[m] = first.get(m, math.nan), last.get(m, math.nan)
            if "n_pred" in pub.generations:
                row["precision_se_first"] = binomial_se(first["precision"], first["n_pred"])
                row["recall_se_first"] = binomial_se(first["recall"], first["n_gt"])
            t = latency[(latency.run == pub.name) & (latency.engine == engine)] if latency is not None else None
            if t is not None and len(t) >= 2:
                t = t.sort_values("generation")
                row.update(ms_first=t.ms.iloc[0], ms=t.ms.iloc[-1], speedup=t.ms.iloc[0] / t.ms.iloc[-1])
            rows.append(row)
    return pd.DataFrame(rows)


def speedup_table(rows: pd.DataFrame, paper_speedup: float, metric: str, detection: bool = False) -> pd.DataFrame:
    """Per method: seeds, synapse and FLOP ratios, measured speed-up (mean ± sd, range), the paper's speed-up
    and how far below it the measurement lies; the metric's change; for detection, whether P and R stayed within
    one standard error of generation 1 in every seed."""
    out = []
    for method, d in rows.groupby("method", sort=False):
        timed = d.speedup.dropna().tolist() if "speedup" in d else []
        row = {"method": method, "runs": len(d), "fewer synapses": mean_text(d.synapse_ratio.tolist(), ".1f", "x", False),
               "fewer FLOPs (compacted)": mean_text(d.flop_ratio.tolist(), ".2f", "x", False),
               "measured speed-up": (f"{mean_text(timed, '.2f', 'x', False)} [{range_text(timed, '.2f')}]"
                                     if timed else "not timed"),
               "paper": f"{paper_speedup:.2f}x",
               "measured / paper": f"{mean_sd(timed)[0] / paper_speedup:.2f}" if timed else "n/a",
               f"{metric} (last)": mean_text(d[metric].dropna().tolist(), ".3f", "", False),
               f"{metric} change": mean_text((d[metric] - d[f"{metric}_first"]).dropna().tolist(), "+.3f", "", False)}
        if detection:
            kept = [abs(r.precision - r.precision_first) <= r.precision_se_first
                    and abs(r.recall - r.recall_first) <= r.recall_se_first for r in d.itertuples()]
            row["P and R within 1 SE of gen. 1"] = f"{sum(kept)} of {len(kept)}"
        out.append(row)
    return pd.DataFrame(out).set_index("method")


def plot_tradeoff(ax, rows: pd.DataFrame, metric: str, label: str, colors=None) -> None:
    """``metric`` against measured latency at the last generation: each run a point, each method's mean with
    error bars (sd over seeds) in both directions, and the ancestors (generation 1) in grey."""
    colors = colors or {}
    timed = rows.dropna(subset=["ms"]) if "ms" in rows else rows.iloc[0:0]
    if len(timed):
        ax.scatter(timed.ms_first, timed[f"{metric}_first"], color="grey", marker="x", label="generation 1")
    for i, (method, d) in enumerate(timed.groupby("method", sort=False)):
        d = d.dropna(subset=[metric])
        if not len(d):
            continue
        color = colors.get(method, f"C{i}")
        ax.scatter(d.ms, d[metric], color=color, alpha=0.5, s=18)
        (mx, sx, _), (my, sy, _) = mean_sd(d.ms.tolist()), mean_sd(d[metric].tolist())
        ax.errorbar(mx, my, xerr=0 if math.isnan(sx) else sx, yerr=0 if math.isnan(sy) else sy, fmt="o",
                    color=color, capsize=3, label=f"{method} ({len(d)} run{'s' if len(d) != 1 else ''})")
    ax.set_xlabel("latency at batch 1, last generation (ms; lower is faster)")
    ax.set_ylabel(label)
    ax.grid(True, alpha=0.3)
    if len(timed):
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no exported networks timed", transform=ax.transAxes, ha="center")
