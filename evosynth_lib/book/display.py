"""Showing things in the book's notebooks: a result or its absence (:func:`show_result`, the one way every page
does it), names, Markdown, provenance blocks, number formats."""
from __future__ import annotations

import math
from typing import Callable, TypeVar

from .names import display_name, hardware_label, run_commits
from .paths import relative
from .results import NotRun, Published

T = TypeVar("T")


def table_html(df) -> str:
    """A DataFrame as the book shows it: no pandas index column (a named index becomes the first column, a plain
    0, 1, 2 ... index is dropped), readable headers (no snake_case), floats to 4 significant digits, "n/a" for
    missing values."""
    import pandas as pd

    named = any(n is not None for n in df.index.names)
    out = df.reset_index() if named else df.reset_index(drop=True)

    def header(c):
        return " ".join(str(x).replace("_", " ") for x in c if str(x)) if isinstance(c, tuple) else str(c).replace("_", " ")
    out.columns = pd.Index([header(c) for c in out.columns])
    return out.to_html(index=False, na_rep="n/a", border=0, classes="dataframe book-table",
                       float_format=lambda x: f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}")


def show(obj) -> None:
    """Display a Published / NotRun / DataFrame / Markdown string in a notebook (print elsewhere)."""
    try:
        import pandas as pd
        from IPython.display import HTML, Markdown, display
    except ImportError:  # pragma: no cover
        print(obj)
        return
    if isinstance(obj, str):
        display(Markdown(obj))
    elif isinstance(obj, NotRun):
        display(Markdown(obj.markdown()))
    elif isinstance(obj, Published):
        display(Markdown(provenance_markdown(obj)))
    elif isinstance(obj, pd.DataFrame):
        display(HTML(table_html(obj)))
    else:
        display(obj)


def show_result(result: Published | NotRun, render: Callable[[Published], T], title: str | None = None,
                absent: str | None = None) -> T | None:
    """The one way a page shows a result or its absence: a published result by ``render(result)`` (what it
    returns is returned); a missing one by its :meth:`NotRun.markdown` (its kind, "awaits data" or "not run", why,
    and the command that produces it) under ``title``, or, in a later section of a page that already shows that,
    by the one line ``absent`` that points back to it (``None`` is returned)."""
    if isinstance(result, NotRun):
        show(absent if absent is not None else result.markdown(title))
        return None
    return render(result)


def show_comparison(dataset: str, run: Published | NotRun, table) -> None:
    """One dataset's section of a paper-vs-ours page: why it is missing, or provenance then ``table(dataset, run)``."""
    def render(run: Published) -> None:
        if run.dataset != dataset:
            show(f"**Stand-in:** ours is a run on *{display_name(run.dataset)}*, not {display_name(dataset)}; "
                 "it exercises the pipeline, it does not reproduce the paper's numbers.")
        show(run)
        show(table(dataset, run))

    show_result(run, render, title=f"{display_name(dataset)} (`{run.name}`)")


def provenance_markdown(pub: Published) -> str:
    """Parameters, seed, commit and duration of a published run, as a short Markdown block."""
    c, p = pub.config, pub.provenance
    commits = run_commits(p)
    commit = ", ".join(f"`{c[:12]}`" + (" (with uncommitted changes)" if c.endswith("+dirty") else "")
                       for c in commits)
    wall = p.get("wall_time_s")
    hw = hardware_label(p)
    params = ", ".join(f"{k}={v!r}" for k, v in changed_parameters(c).items())
    rel = relative(pub.path)
    return (f"*{'Baseline run' if baseline_sentence(c) else 'Ours'}* — `{rel}`: seed {c.get('seed', '?')}, computed by commit {commit}, "
            f"run `{p.get('run_id', '?')}`, {len(pub.generations)} generations"
            + ((f" in {wall / 60:.1f} min" if wall >= 60 else f" in {wall:.0f} s") if isinstance(wall, (int, float)) else "")
            + f" on {hw}.\n\n" + (f"{baseline_sentence(c)}\n\n" if baseline_sentence(c) else "")
            + f"Parameters (those that differ from the library's defaults): {params or 'none'}.\n")


BASELINES = {"random": "random pruning (a baseline, not evolutionary synthesis)",
             "magnitude": "magnitude pruning (a baseline, not evolutionary synthesis)",
             "synapse_only": "the synapse-only encoding of the group's 2016 paper (a baseline without the cluster factor)"}


def baseline_sentence(config: dict) -> str:
    """What a baseline run is, in words; empty for evolutionary synthesis."""
    kind = config.get("pruning", "evolutionary")
    if kind in ("evolutionary", None):
        return ""
    text = f"**Baseline: {BASELINES.get(kind, kind)}.**"
    if config.get("targets"):
        text += (" Each generation is pruned from its parent to exactly the synapse count of the evolution's run at "
                 "that generation, then trained like the evolution; nothing is drawn from a genetic encoding.")
    return text


def changed_parameters(config: dict) -> dict:
    """Every field of a run's configuration that differs from :class:`~evosynth_lib.config.EvolutionConfig`'s
    default (the seed and the dataset always shown); targets shortened to their count."""
    import dataclasses

    from ..config import EvolutionConfig
    from ..settings import RunSettings

    defaults = {f.name: (f.default if f.default is not dataclasses.MISSING else
                         f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
                for f in dataclasses.fields(EvolutionConfig) if f.name != "settings"}
    defaults.update(dataclasses.asdict(RunSettings()))  # where it ran: written flat, as the fields
    def norm(v):
        v = list(v) if isinstance(v, tuple) else v
        return None if v in ({}, [], "") else v

    out = {}
    for k, v in config.items():
        if k in defaults and not v and not defaults[k]:
            continue
        if k in ("seed", "dataset") or k not in defaults or norm(v) != norm(defaults[k]):
            out[k] = f"{len(v)} synapse counts" if k == "targets" and isinstance(v, list) else v
    return out


def fmt(x, spec: str, suffix: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:{spec}}{suffix}"
