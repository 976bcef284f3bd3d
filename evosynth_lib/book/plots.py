"""The book's figures (matplotlib): ours as lines, the papers' numbers in black.

Importing this module sets :data:`BOOK_STYLE`: font sizes readable at the book's page width. The pages'
figures are at most :data:`PAGE_WIDTH` inches wide (at 100 dpi) and put at most two panels side by side, so
a 12 pt label stays about 14 px high on the page.
"""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .names import display_name
from .paper import TABLE1, TABLE2_3
from .results import Published
from .tables import cluster_columns, generation_row, published_layer_names

PAGE_WIDTH = 9.0  # inches: the widest figure; the book shows it about 790 px wide (0.85-0.9 of its size)
BOOK_STYLE = {
    "figure.dpi": 100,
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "legend.framealpha": 0.85,
    "lines.markersize": 5,
}


def use_book_style() -> None:
    """Apply :data:`BOOK_STYLE` to matplotlib (done once when this module is imported)."""
    plt.rcParams.update(BOOK_STYLE)


use_book_style()


def plot_accuracy_vs_efficiency(ax, ours=None, paper_dataset: str | None = None, label: str = "ours",
                                metric: str = "accuracy"):
    """Accuracy vs architectural efficiency (log x), ours as a line, the paper's Table 1 points overlaid."""
    if ours is not None:
        kind = ours.config.get("pruning", "evolutionary") if isinstance(ours, Published) else "evolutionary"
        if kind not in ("evolutionary", None) and label.startswith("ours"):  # a baseline is not "ours"
            label = f"baseline: {kind.replace('_', '-')} pruning" if kind != "synapse_only" else \
                "baseline: synapse-only encoding (2016)"
        df = ours.generations if isinstance(ours, Published) else ours
        if metric in df:
            ax.plot(df["architectural_efficiency"], df[metric], "o-", label=label)
            for _, r in df.iterrows():
                ax.annotate(str(int(r["generation"])), (r["architectural_efficiency"], r[metric]),
                            textcoords="offset points", xytext=(3, 3), fontsize=9)
    if paper_dataset is not None and paper_dataset in TABLE1:
        gens, ae, acc = zip(*TABLE1[paper_dataset])
        ax.plot(ae, acc, "s--", color="black", alpha=0.7, label="paper (Table 1)")
        for g, x, y in zip(gens, ae, acc):
            ax.annotate(str(g), (x, y), textcoords="offset points", xytext=(3, -11), fontsize=9, color="black")
    ax.set_xscale("log")
    ax.set_xlabel("architectural efficiency (ancestor synapses / synapses), log scale")
    ax.set_ylabel(metric)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax


def plot_detection_runs(series: dict[str, Any], title_suffix: str):
    """Live synapses (log), precision and recall per generation, one line per run: ``{label: generations}``.

    One panel per row (three rows sharing the generation axis), so the figure stays readable at page width."""
    fig, axes = plt.subplots(3, 1, figsize=(9, 11), sharex=True)
    for label, d in series.items():
        d = d.sort_values("generation")
        for ax, col in zip(axes, ("synapses", "precision", "recall")):
            ax.plot(d["generation"], d[col], "o-", lw=1, ms=3, label=label)
    axes[0].set_yscale("log")
    for ax, what in zip(axes, ("live synapses", "precision", "recall")):
        ax.set_title(f"{what} ({title_suffix})")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    axes[-1].set_xlabel("generation")
    fig.tight_layout()
    return fig


def plot_cluster_bars(ax, dataset: str, ours: Published | None, generation: int):
    """Bars per layer: the paper's cluster efficiency at ``generation`` beside ours."""
    ref = TABLE2_3[dataset][generation]
    n = len(ref["layers"])
    names = [f"L{i + 1}" for i in range(n)] + ["E"]
    paper_vals = list(ref["layers"]) + [ref["E"]]
    x = np.arange(n + 1)
    ax.bar(x - 0.2, paper_vals, 0.4, label="paper", color="0.4")
    r = generation_row(ours.generations, generation) if ours is not None else None
    if r is not None:
        vals = [r[c] for c in cluster_columns(ours.generations)][:n]
        vals += [float("nan")] * (n - len(vals)) + [r.get("cluster_efficiency", float("nan"))]
        ax.bar(x + 0.2, vals, 0.4, label="ours", color="tab:blue")
        names = [f"L{i + 1}\n{ln}" for i, ln in enumerate((published_layer_names(ours) + [""] * n)[:n])] + ["E"]
    else:
        ax.text(0.5, 0.9, "ours: not available", transform=ax.transAxes, ha="center")
    ax.set_xticks(x, names)
    ax.set_ylabel("cluster efficiency (×)")
    ax.set_title(f"{display_name(dataset)}, generation {generation}")
    ax.legend()
    return ax
