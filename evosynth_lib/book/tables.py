"""The book's tables: summaries of a run, and the papers' Tables 1-3 beside ours."""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..tasks.detection.metrics import binomial_se
from . import seeds
from .display import fmt
from .paper import TABLE1, TABLE2_3
from .results import Published

SUMMARY_COLUMNS = ("generation", "synapses", "architectural_efficiency", "accuracy", "precision", "precision_se",
                   "recall", "recall_se", "ap50", "ap50_se", "cluster_efficiency", "kept_fraction", "environmental_factor", "fps_masked_b1", "fps_compact_b1",
                   "fps_compact_fp16_b1", "flops_compact", "wall_time_s")


def summary_table(df) -> Any:
    """The columns of a generations table a reader needs (the full table stays in generations.csv)."""
    return df[[c for c in SUMMARY_COLUMNS if c in df]].set_index("generation")


def with_standard_errors(df) -> Any:
    """A detection run's generations with ``precision_se`` and ``recall_se`` (binomial, from its ``tp``,
    ``n_pred`` and ``n_gt``), which runs recorded before these columns existed lack; recorded ones are kept."""
    if not {"tp", "n_pred", "n_gt"} <= set(df):
        return df
    add = {"precision_se": ("tp", "n_pred"), "recall_se": ("tp", "n_gt")}
    return df.assign(**{c: binomial_se(df[k], df[n]) for c, (k, n) in add.items() if c not in df})


def detection_errors(runs: dict[str, Any]) -> Any:
    """Precision, recall and AP@0.5 as "value ± standard error" at each detection run's first and last
    generation (``runs``: ``{label: Published or generations DataFrame}``); AP@0.5 "not recorded" in runs that
    lack it."""
    def pm(r, value, se):
        v = r.get(value, float("nan"))
        return "n/a" if pd.isna(v) else f"{v:.3f}" + ("" if pd.isna(r.get(se, float("nan"))) else f" ± {r[se]:.3f}")

    rows = []
    for label, run in runs.items():
        df = with_standard_errors(run.generations if isinstance(run, Published) else run).sort_values("generation")
        for _, r in df.iloc[[0, -1]].drop_duplicates("generation").iterrows():
            rows.append({"run": label, "Gen.": int(r["generation"]), "precision ± SE": pm(r, "precision", "precision_se"),
                         "recall ± SE": pm(r, "recall", "recall_se"),
                         "AP@0.5 ± SE": pm(r, "ap50", "ap50_se") if "ap50" in df else "not recorded"})
    return pd.DataFrame(rows).set_index(["run", "Gen."])


def generation_row(df, generation: int):
    """The row of ``df`` for ``generation`` (a Series) or ``None`` when the run did not reach it."""
    rows = df[df["generation"] == generation]
    return None if rows.empty else rows.iloc[0]


def table1_side_by_side(dataset: str, ours) -> Any:
    """Table 1 for ``dataset``: paper's (Gen, A-E, ACC) beside ours at the same generations, with differences.

    ``ours``: a :class:`Published` (or its generations DataFrame). Generations our run did not
    reach say so in their cells.
    """
    df = ours.generations if isinstance(ours, Published) else ours
    last = int(df["generation"].max()) if len(df) else 0
    rows = []
    for gen, ae, acc in TABLE1[dataset]:
        r = generation_row(df, gen)
        row = {"Gen.": gen, "A-E (paper)": f"{ae:.2f}X", "ACC. (paper)": f"{acc:.4f}"}
        if r is None:
            missing = f"not reached (run ends at gen {last})"
            row.update({"A-E (ours)": missing, "A-E ours/paper": "n/a", "ACC. (ours)": missing, "ΔACC.": "n/a"})
        else:
            row.update({
                "A-E (ours)": fmt(r["architectural_efficiency"], ".2f", "X"),
                "A-E ours/paper": fmt(r["architectural_efficiency"] / ae, ".2f"),
                "ACC. (ours)": fmt(r["accuracy"], ".4f"),
                "ΔACC.": fmt(r["accuracy"] - acc, "+.4f"),
            })
        rows.append(row)
    return pd.DataFrame(rows).set_index("Gen.")[
        ["A-E (paper)", "A-E (ours)", "A-E ours/paper", "ACC. (paper)", "ACC. (ours)", "ΔACC."]]


def table1_all_generations(dataset: str, ours) -> Any:
    """Every generation of our run (A-E, ACC., synapses, kept fraction), with the paper's values where it reports them."""
    df = ours.generations if isinstance(ours, Published) else ours
    reported = {gen: (ae, acc) for gen, ae, acc in TABLE1[dataset]}
    rows = []
    for _, r in df.sort_values("generation").iterrows():
        gen = int(r["generation"])
        ae, acc = reported.get(gen, (None, None))
        rows.append({
            "Gen.": gen,
            "synapses (ours)": f"{int(r['synapses']):,}",
            "kept of parent": fmt(r.get("kept_fraction"), ".3f"),
            "A-E (ours)": fmt(r["architectural_efficiency"], ".2f", "X"),
            "A-E (paper)": fmt(ae, ".2f", "X") if ae is not None else "—",
            "ACC. (ours)": fmt(r["accuracy"], ".4f"),
            "ACC. (paper)": fmt(acc, ".4f") if acc is not None else "—",
        })
    return pd.DataFrame(rows).set_index("Gen.")


def spread_over_seeds(runs: list[Published], columns: dict[str, tuple[str, str, str]] | list[str],
                      reference: dict[str, dict[int, float]] | None = None) -> pd.DataFrame:
    """Per generation, across runs that differ only in their seed: mean, std, min-max of each column.

    ``columns``: ``{csv column: (label, format spec, suffix)}``, or a list of csv columns (``".3f"``, no
    suffix). ``reference``: ``{csv column: {generation: value}}`` shown beside (the paper's numbers)."""
    if not isinstance(columns, dict):
        columns = {c: (c, ".3f", "") for c in columns}
    df = pd.concat([r.generations.assign(seed=r.config.get("seed")) for r in runs])
    rows = []
    for gen, part in df.groupby("generation"):
        row = {"Gen.": int(gen), "seeds": len(part)}
        for col, (label, spec, suffix) in columns.items():
            v = part[col]
            row[f"{label} mean"] = fmt(v.mean(), spec, suffix)
            row[f"{label} std"] = fmt(v.std(ddof=1), spec) if len(part) > 1 else "n/a"
            row[f"{label} min-max"] = f"{v.min():{spec}}-{v.max():{spec}}{suffix}"
            if reference is not None and col in reference:
                ref = reference[col].get(int(gen))
                row[f"{label} (paper)"] = fmt(ref, spec, suffix) if ref is not None else "—"
        rows.append(row)
    return pd.DataFrame(rows).set_index("Gen.")


def seed_spread(runs: list[Published], dataset: str = "mnist") -> pd.DataFrame:
    """Table 1's columns (A-E, ACC.) spread over seeds, with the paper's values where it reports them."""
    reference = {"architectural_efficiency": {g: ae for g, ae, _ in TABLE1.get(dataset, [])},
                 "accuracy": {g: acc for g, _, acc in TABLE1.get(dataset, [])}}
    return spread_over_seeds(runs, {"architectural_efficiency": ("A-E", ".2f", "X"), "accuracy": ("ACC.", ".4f", "")},
                             reference)


def cluster_columns(df) -> list[str]:
    """Per-layer cluster-efficiency columns of a generations table, in layer order."""
    return [c for c in df.columns if c.startswith("cluster_efficiency_")]


def table2_3_side_by_side(dataset: str, ours) -> Any:
    """Tables 2 / 3: per-layer cluster efficiency and E, paper vs ours, at the paper's generations."""
    df = ours.generations if isinstance(ours, Published) else ours
    layers = cluster_columns(df)
    rows = []
    for gen, ref in TABLE2_3[dataset].items():
        r = generation_row(df, gen)
        names = [f"Layer {i + 1}" for i in range(len(ref["layers"]))]
        paper = {"Gen.": gen, "source": "paper", "ACC.": f"{ref['accuracy']:.4f}",
                 **{n: f"{v:.2f}X" for n, v in zip(names, ref["layers"])}, "E": f"{ref['E']:.2f}X"}
        if r is None:
            miss = f"not reached (run ends at gen {int(df['generation'].max()) if len(df) else 0})"
            mine = {"Gen.": gen, "source": "ours", "ACC.": miss, **{n: "n/a" for n in names}, "E": "n/a"}
        else:
            vals = [r[c] for c in layers]
            mine = {"Gen.": gen, "source": "ours", "ACC.": fmt(r.get("accuracy"), ".4f"),
                    **{n: (fmt(v, ".2f", "X") if i < len(vals) else "n/a")
                       for i, (n, v) in enumerate(zip(names, vals + [None] * len(names)))},
                    "E": fmt(r.get("cluster_efficiency"), ".2f", "X")}
            if len(vals) != len(names):
                mine["source"] = f"ours ({len(vals)} layers)"
        rows += [paper, mine]
    return pd.DataFrame(rows).set_index(["Gen.", "source"])


def published_layer_names(pub: Published) -> list[str]:
    """Our layer names (``conv1`` ...) from the per-layer cluster-efficiency columns."""
    return [c[len("cluster_efficiency_"):] for c in cluster_columns(pub.generations)]


def retention(df) -> Any:
    """Fraction of synapses kept from each generation to the next (NaN for generation 1)."""
    s = df.sort_values("generation")["synapses"].astype(float)
    return (s / s.shift(1)).set_axis(df.sort_values("generation")["generation"].values)


def potential_speedup_table(result: "Published", generations=None):
    """Potential speed-ups (the paper's cluster efficiency E, FLOPs) beside measured ones, per generation."""
    df = result.generations.set_index("generation")
    speed = result.speed
    speed = speed.set_index("generation") if speed is not None else None
    gens = generations or list(df.index)
    rows = []
    for g in gens:
        if g not in df.index:
            continue
        r = df.loc[g]
        layer_mean = seeds.paper_e(df.loc[[g]]).iloc[0]
        row = {"Gen.": g, "E (paper's definition)": fmt(layer_mean, ".2f", "X"),
               "E pooled (ours)": fmt(r.get("cluster_efficiency"), ".2f", "X"),
               "FLOPs gen 1 / compact": fmt(df["flops_masked"].iloc[0] / r["flops_compact"], ".2f", "X")
               if "flops_compact" in df else "n/a"}
        if speed is not None and g in speed.index:
            for col in speed.columns:
                if col.startswith("speedup_compact_b"):
                    row[f"measured speed-up, batch {col.rsplit('_b', 1)[1]}"] = fmt(speed.loc[g, col], ".2f", "X")
        rows.append(row)
    return pd.DataFrame(rows).set_index("Gen.")


def table1_over_seeds(dataset: str, runs: list[Published]) -> Any:
    """Table 1 at equal generation: the paper's rows beside the mean ± standard deviation over our seeds."""
    rows = []
    for gen, ae, acc in TABLE1[dataset]:
        a, e = seeds.values_at(runs, gen, "accuracy"), seeds.values_at(runs, gen, "architectural_efficiency")
        rows.append({"Gen.": gen, "A-E, paper": f"{ae:.2f}X",
                     "A-E, ours": seeds.mean_text(e, ".1f", "X", count=False) if e else "not reached",
                     "ACC., paper": f"{acc:.4f}",
                     "ACC., ours": seeds.mean_text(a, count=False) if a else "not reached",
                     "ΔACC. (ours - paper)": fmt(seeds.mean_sd(a)[0] - acc, "+.4f") if a else "n/a"})
    return pd.DataFrame(rows).set_index("Gen.")


def table1_at_efficiency(dataset: str, runs: list[Published]) -> Any:
    """Table 1 at equal efficiency: at each of the paper's A-E, our accuracy interpolated (linearly in log A-E,
    per seed) between the two generations around it, mean ± standard deviation over seeds."""
    rows = []
    first = seeds.frame(runs[0]) if runs else None
    for gen, ae, acc in TABLE1[dataset]:
        a = seeds.at_efficiency(runs, ae, "accuracy")
        rows.append({"A-E (paper)": f"{ae:.2f}X", "paper: Gen.": gen, "paper: ACC.": f"{acc:.4f}",
                     "ours: Gen. (seed 0)": seeds.generations_around(first, ae) if first is not None else "n/a",
                     "ours: ACC.": seeds.mean_text(a, count=False) if a else "not reached",
                     "ΔACC. (ours - paper)": fmt(seeds.mean_sd(a)[0] - acc, "+.4f") if a else "n/a"})
    return pd.DataFrame(rows).set_index("A-E (paper)")


def table2_3_over_seeds(dataset: str, runs: list[Published]) -> Any:
    """Tables 2 / 3 transposed (one row per layer, so seven layers fit the page): the paper's cluster efficiency
    at its first and last reported generations beside ours (mean ± sd over seeds); E as the paper computes it
    (the mean of the layers) and ours pooled over all kernels, labelled as ours."""
    ref_gens = sorted(TABLE2_3[dataset])
    last = ref_gens[-1]
    ref = TABLE2_3[dataset][last]
    df = seeds.frame(runs[0])
    layers = seeds.layer_columns(df)
    n = len(ref["layers"])
    rows = []
    for i in range(n):
        col = layers[i] if i < len(layers) else None
        vals = seeds.values_at(runs, last, col) if col else []
        rows.append({"": f"Layer {i + 1}" + (f" ({col[len('cluster_efficiency_'):]})" if col else ""),
                     f"paper, gen {last}": f"{ref['layers'][i]:.2f}X",
                     f"ours, gen {last}": seeds.mean_text(vals, ".2f", "X", count=False) if vals else "n/a"})
    e_paper = seeds.values_at(runs, last, "paper_E")
    e_pooled = seeds.values_at(runs, last, "cluster_efficiency")
    acc = seeds.values_at(runs, last, "accuracy")
    paper_ae = {g: ae for g, ae, _ in TABLE1[dataset]}[last]
    e_equal = seeds.at_efficiency(runs, paper_ae, "paper_E", log_value=True)
    rows += [{"": "E (mean of the layers: the paper's definition)", f"paper, gen {last}": f"{ref['E']:.2f}X",
              f"ours, gen {last}": seeds.mean_text(e_paper, ".2f", "X", count=False) if e_paper else "n/a"},
             {"": f"E (mean of the layers) at the paper's A-E, {paper_ae:.2f}X (interpolated)",
              f"paper, gen {last}": f"{ref['E']:.2f}X",
              f"ours, gen {last}": seeds.mean_text(e_equal, ".2f", "X", count=False) if e_equal
              else f"not reached (ours end at {seeds.mean_sd(seeds.values_at(runs, last, 'architectural_efficiency'))[0]:.1f}X)"},
             {"": "E pooled over all kernels (ours only)", f"paper, gen {last}": "—",
              f"ours, gen {last}": seeds.mean_text(e_pooled, ".2f", "X", count=False) if e_pooled else "n/a"},
             {"": "ACC.", f"paper, gen {last}": f"{ref['accuracy']:.4f}",
              f"ours, gen {last}": seeds.mean_text(acc, count=False) if acc else "n/a"}]
    return pd.DataFrame(rows).set_index("")
