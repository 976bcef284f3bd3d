"""The normaliser study (which reading of Z, z and tau reproduces Table 1's rate) and the reproducibility page."""
from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd

from .names import hardware_label, run_commits
from .paper import table1_retention
from .paths import RESULTS, RUN_LOG, resolve
from .results import NotRun, Published, load_published

def reading_label(config: dict[str, Any]) -> str:
    """How a run reads eqs. 4-5: its normaliser (Z, z) and truncation tau, e.g. ``quantile(0.5), tau=0.01``."""
    norm = config.get("normaliser", "max")
    if norm == "quantile":
        norm = f"quantile({config.get('quantile', 0.5)})"
    tau = config.get("tau", 0.0) or 0.0
    return f"{norm}, tau={tau:g}"


def retention_summary(runs: dict[str, Published], paper_dataset: str = "mnist") -> Any:
    """Per reading: geometric-mean fraction of synapses kept per generation, last A-E and metric, and the
    distance of the retention to the one Table 1 implies for ``paper_dataset``."""

    target = table1_retention(paper_dataset)
    rows = []
    for key, pub in runs.items():
        df = pub.generations.sort_values("generation")
        g = len(df)
        kept = (df["synapses"].iloc[-1] / df["synapses"].iloc[0]) ** (1 / (g - 1)) if g > 1 else float("nan")
        metric = "accuracy" if "accuracy" in df else "precision"
        rows.append({"run": key, "reading": reading_label(pub.config), "generations": g,
                     "retention per generation": kept, "last A-E": df["architectural_efficiency"].iloc[-1],
                     f"last {metric}": df[metric].iloc[-1],
                     f"|retention - paper {target:.3f}|": abs(kept - target)})
    return pd.DataFrame(rows).set_index("run")


def closest_reading(summary) -> str | None:
    """The run of :func:`retention_summary` whose retention is closest to the paper's (``None`` if none)."""
    col = [c for c in summary.columns if c.startswith("|retention")]
    if summary.empty or not col or summary[col[0]].isna().all():
        return None
    return str(summary[col[0]].idxmin())


def load_run_log(path: str | os.PathLike = RUN_LOG) -> dict[str, Any]:
    """The log ``python -m evosynth_lib.book`` writes: environment, commit, and per page its parameters and duration."""
    p = resolve(path)
    return json.loads(p.read_text()) if p.is_file() else {}


def run_log_table(log: dict[str, Any]) -> Any:
    """One row per executed page: source, status, duration, start, commit."""
    rows = [{"page": k, "source": v.get("source"), "status": v.get("status"),
             "duration (s)": v.get("duration_s"), "started": v.get("started"),
             "commit": str(v.get("commit", ""))[:12] + (" (dirty)" if v.get("dirty") else "")}
            for k, v in log.get("pages", {}).items()]
    return pd.DataFrame(rows).set_index("page") if rows else pd.DataFrame()


def results_table(profile: str, results_dir: str | os.PathLike = RESULTS) -> Any:
    """Every published run of ``profile``: dataset, generations, seed, run id, commit, duration, hardware."""
    root = resolve(results_dir) / profile
    rows = []
    runs = {p.parent for p in root.rglob("generations.csv")} - {p.parent for p in root.rglob("verification.json")}
    for d in sorted(runs | {p.parent for p in root.rglob("not_run.json")}):
        found = load_published(profile, str(d.relative_to(root)), results_dir)
        if isinstance(found, NotRun):
            rows.append({"run": found.name, "status": found.kind, "dataset": None, "generations": None,
                         "seed": None, "run id": None, "commit": str(found.extra.get("commit", ""))[:12],
                         "duration (min)": None, "hardware": None})
            continue
        p = found.provenance
        wall = p.get("wall_time_s")
        rows.append({"run": found.name, "status": "published", "dataset": found.dataset,
                     "generations": len(found.generations), "seed": found.config.get("seed"),
                     "run id": p.get("run_id"),
                     "commit": ", ".join(c[:12] + (" (dirty)" if c.endswith("+dirty") else "") for c in run_commits(p)),
                     "duration (min)": round(wall / 60, 1) if isinstance(wall, (int, float)) else None,
                     "hardware": hardware_label(p)})
    return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()


def thread_comparison(a: Published, b: Published) -> pd.DataFrame:
    """The same run computed at two thread counts: per generation, how far apart every number is.

    ``identical columns`` counts the metric columns equal to the last bit (timings and commit left out);
    ``max relative difference`` is over the others."""
    skip = {"generation", "train_time_s", "wall_time_s", "commit"}
    da, db = (r.generations.set_index("generation") for r in (a, b))
    rows = []
    for g in da.index.intersection(db.index):
        cols = [c for c in da.columns if c in db.columns and c not in skip and pd.api.types.is_numeric_dtype(da[c])]
        x, y = da.loc[g, cols].astype(float), db.loc[g, cols].astype(float)
        rel = ((x - y).abs() / x.abs().where(x != 0, 1.0)).max()
        rows.append({"Gen.": int(g), "synapses": f"{int(x['synapses']):,} / {int(y['synapses']):,}",
                     "accuracy": f"{x['accuracy']:.4f} / {y['accuracy']:.4f}",
                     "identical columns": f"{int((x == y).sum())} of {len(cols)}",
                     "max relative difference": f"{rel:.1e}"})
    return pd.DataFrame(rows).set_index("Gen.")
