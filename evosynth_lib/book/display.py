"""Showing things in the book's notebooks: names, Markdown, provenance blocks, number formats."""
from __future__ import annotations

import math

from .names import display_name, hardware_label, run_commits
from .paths import relative
from .results import NotRun, Published

def show(obj) -> None:
    """Display a Published / NotRun / DataFrame / Markdown string in a notebook (print elsewhere)."""
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover
        print(obj)
        return
    if isinstance(obj, str):
        display(Markdown(obj))
    elif isinstance(obj, NotRun):
        display(Markdown(obj.markdown()))
    elif isinstance(obj, Published):
        display(Markdown(provenance_markdown(obj)))
    else:
        display(obj)


def show_comparison(dataset: str, run: Published | NotRun, table) -> None:
    """One dataset's section of a paper-vs-ours page: why it is missing, or provenance then ``table(dataset, run)``."""
    if isinstance(run, NotRun):
        show(run.markdown(f"{display_name(dataset)} (`{run.name}`)"))
        return
    if run.dataset != dataset:
        show(f"**Stand-in:** ours is a run on *{display_name(run.dataset)}*, not {display_name(dataset)}; "
             "it exercises the pipeline, it does not reproduce the paper's numbers.")
    show(run)
    show(table(dataset, run))


def provenance_markdown(pub: Published) -> str:
    """Parameters, seed, commit and duration of a published run, as a short Markdown block."""
    c, p = pub.config, pub.provenance
    commits = run_commits(p)
    commit = ", ".join(f"`{c[:12]}`" + (" (with uncommitted changes)" if c.endswith("+dirty") else "")
                       for c in commits)
    wall = p.get("wall_time_s")
    hw = hardware_label(p)
    keys = ["dataset", "model", "generations", "epochs", "first_epochs", "lr", "batch_size", "schedule", "cap",
            "normaliser", "quantile", "tau", "granularity", "factor_level", "inherit", "fp16",
            "train_subset", "test_subset"]
    params = ", ".join(f"{k}={c[k]!r}" for k in keys if k in c and c[k] is not None)
    extra = f", extra={c['extra']!r}" if c.get("extra") else ""
    rel = relative(pub.path)
    return (f"*Ours* — `{rel}`: seed {c.get('seed', '?')}, computed by commit {commit}, "
            f"run `{p.get('run_id', '?')}`, {len(pub.generations)} generations"
            + ((f" in {wall / 60:.1f} min" if wall >= 60 else f" in {wall:.0f} s") if isinstance(wall, (int, float)) else "")
            + f" on {hw}.\n\nParameters: {params}{extra}.\n")


def fmt(x, spec: str, suffix: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:{spec}}{suffix}"
