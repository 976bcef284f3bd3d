"""What the book's notebooks share: published results, "not run" notices, side-by-side tables, plots.

Layout of the published results (committed, read by the book without retraining)::

    results/<profile>/<name>/generations.csv   one row per generation (evolution.load_generations)
    results/<profile>/<name>/config.yaml       the EvolutionConfig of the run
    results/<profile>/<name>/provenance.json   commit, run id, duration, environment of the run
    results/<profile>/<name>/not_run.json      instead of the three above: why it could not run

``<name>`` is the dataset for the main runs (``mnist``, ``stl10``, ``cifar10``), ``parse27k`` for the
paper-2 reproduction (run on its stand-in) and ``normalisation/<reading>`` for the normaliser study.

Training happens only through :func:`ensure_results`: it reuses the published results when their
config matches, else runs :func:`evosynth_lib.evolution.evolve` (which resumes from the run store
``runs/``) and publishes the outcome with :func:`publish`.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .provenance import REPO_ROOT, environment_info, git_state
RESULTS_DIR = REPO_ROOT / "results"
RUNS_DIR = REPO_ROOT / "runs"
PROFILES_DIR = REPO_ROOT / "profiles"

DISPLAY_NAMES = {
    "mnist": "MNIST",
    "stl10": "STL-10",
    "cifar10": "CIFAR-10",
    "synthetic": "synthetic images",
    "pennfudan": "Penn-Fudan",
    "parse27k": "Parse-27k",
    "synthetic_scenes": "synthetic scenes",
}

# Table 2 / 3 layer names of the paper, in the order of the models' prunable layers.
PAPER_LAYER_NAMES = {"lenet5": ["Layer 1", "Layer 2", "Layer 3", "Layer 4"],
                     "alexnet": [f"Layer {i}" for i in range(1, 8)]}


def display_name(dataset: str) -> str:
    return DISPLAY_NAMES.get(dataset, dataset)


def resolve(path: str | os.PathLike) -> Path:
    """A path from a notebook parameter: absolute as given, relative to the repository root otherwise."""
    p = Path(path)
    return p if p.is_absolute() else REPO_ROOT / p


def relative(path: str | os.PathLike) -> Path:
    """``path`` relative to the repository root when inside it (for messages and provenance)."""
    p = Path(path).resolve()
    return p.relative_to(REPO_ROOT) if p.is_relative_to(REPO_ROOT) else p


def book_command(profile: str, page: str) -> str:
    """The command that (re)runs one page of the book, with its training."""
    return f"python -m evosynth_lib.book --profile {profile} --only {page}"


# ---------------------------------------------------------------------------------------------- provenance
# ---------------------------------------------------------------------------------------------- results
@dataclass
class Published:
    """One run's published results."""

    name: str
    path: Path
    generations: Any  # pandas.DataFrame
    config: dict[str, Any]
    provenance: dict[str, Any]

    @property
    def dataset(self) -> str:
        return self.config.get("dataset", self.name)

    def _repr_markdown_(self) -> str:
        return provenance_markdown(self)


@dataclass
class NotRun:
    """A run with no published results: why, and the command that runs it."""

    name: str
    reason: str
    command: str
    extra: dict[str, Any] = field(default_factory=dict)

    def markdown(self, title: str | None = None) -> str:
        title = title or display_name(self.name)
        return (f":::{{admonition}} {title}: not run\n:class: warning\n{self.reason}\n\n"
                f"To run it: `{self.command}`\n:::\n")

    def _repr_markdown_(self) -> str:
        return self.markdown()


def results_path(profile: str, name: str, results_dir: str | os.PathLike = RESULTS_DIR) -> Path:
    return resolve(results_dir) / profile / name


def load_published(profile: str, name: str, results_dir: str | os.PathLike = RESULTS_DIR,
                   page: str | None = None) -> Published | NotRun:
    """The published results of ``results/<profile>/<name>``, or a :class:`NotRun` saying why not."""
    import pandas as pd
    import yaml

    path = results_path(profile, name, results_dir)
    page = page or f"evolve-{name.replace('/', '-')}"
    csv = path / "generations.csv"
    if csv.is_file():
        config = yaml.safe_load((path / "config.yaml").read_text()) if (path / "config.yaml").is_file() else {}
        prov = json.loads((path / "provenance.json").read_text()) if (path / "provenance.json").is_file() else {}
        return Published(name, path, pd.read_csv(csv), config or {}, prov)
    if (path / "not_run.json").is_file():
        d = json.loads((path / "not_run.json").read_text())
        return NotRun(name, d.get("reason", "not run"), d.get("command", book_command(profile, page)), d)
    rel = relative(path)
    if (PROFILES_DIR / profile / f"{page}.yaml").is_file():
        reason = f"No results are published in `{rel}` yet: the page `{page}` of profile `{profile}` has not been run."
        return NotRun(name, reason, book_command(profile, page))
    reason = f"Profile `{profile}` has no run for this (no `profiles/{profile}/{page}.yaml`), so `{rel}` is empty."
    others = sorted(p.parent.name for p in PROFILES_DIR.glob(f"*/{page}.yaml"))
    if others:
        reason += f" Profile(s) {', '.join(f'`{o}`' for o in others)} run it."
        return NotRun(name, reason, book_command("paper" if "paper" in others else others[0], page))
    return NotRun(name, reason, book_command(profile, page))


def record_not_run(profile: str, name: str, reason: str, command: str,
                   results_dir: str | os.PathLike = RESULTS_DIR) -> NotRun:
    """Publish *why* a run could not happen (e.g. its data is missing), replacing older results."""
    path = results_path(profile, name, results_dir)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    d = {"reason": reason, "command": command, "date": time.strftime("%Y-%m-%d %H:%M:%S"), **git_state()}
    (path / "not_run.json").write_text(json.dumps(d, indent=2) + "\n")
    return NotRun(name, reason, command, d)


def publish(run_dir: str | os.PathLike, results_dir: str | os.PathLike, config=None,
            extra: dict[str, Any] | None = None) -> Path:
    """Copy a finished run's per-generation metrics, config and provenance into ``results_dir``."""
    from .config import EvolutionConfig
    from .evolution import load_generations

    run_dir = Path(run_dir)
    out = resolve(results_dir)
    df = load_generations(run_dir)
    if config is None:
        config = EvolutionConfig.from_yaml(run_dir / "config.yaml")
    df = df[df["generation"] <= config.generations]  # a longer run of the same config: the requested part
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    df.to_csv(out / "generations.csv", index=False)
    config.to_yaml(out / "config.yaml")
    wall = float(df["wall_time_s"].sum()) if "wall_time_s" in df else None
    commits = sorted({str(c) for c in df["commit"]}) if "commit" in df else []
    run_env = run_dir / "environment.json"
    prov = {
        **git_state(),  # the code that published (copied) the results
        "run_commits": commits,  # the code that computed them, generation by generation
        "run_environment": json.loads(run_env.read_text()) if run_env.exists() else None,
        "run_id": config.run_id(),
        "run_dir": str(relative(run_dir)),
        "generations": int(len(df)),
        "wall_time_s": wall,
        "published": time.strftime("%Y-%m-%d %H:%M:%S"),
        "environment": environment_info(),
        **(extra or {}),
    }
    (out / "provenance.json").write_text(json.dumps(prov, indent=2, default=str) + "\n")
    return out


SPEED_CSV = "speed.csv"


def ensure_speed(result: "Published", runs_dir: str | os.PathLike = RUNS_DIR, remeasure: bool = False):
    """Measured inference speed of every generation of a published run (``speed.csv``).

    Measured once from the run's checkpoints (:func:`speed.measure_run_speed`) and published beside the
    metrics; later builds reuse it. Returns the DataFrame, or a sentence saying why there is none.
    """
    import pandas as pd

    out = Path(result.path) / SPEED_CSV
    if out.exists() and not remeasure:
        return pd.read_csv(out)
    run_dir = resolve(runs_dir) / str(result.provenance.get("run_id"))
    if not (run_dir / "manifest.json").exists():
        return f"Speed not measured: the run's checkpoints are not in `{relative(run_dir)}`."
    from .config import DETECTION_DATASETS
    from .speed import measure_run_speed

    detection = result.dataset in DETECTION_DATASETS
    df = measure_run_speed(run_dir, batch_sizes=(1,) if detection else (1, 64))
    df = df[df["generation"] <= int(result.generations["generation"].max())]
    df.to_csv(out, index=False)
    return df


def speedup_table(result: "Published", generations=None):
    """Potential speed-ups (the paper's cluster efficiency E, FLOPs) beside measured ones, per generation."""
    import pandas as pd

    df = result.generations.set_index("generation")
    speed_path = Path(result.path) / SPEED_CSV
    speed = pd.read_csv(speed_path).set_index("generation") if speed_path.exists() else None
    gens = generations or list(df.index)
    rows = []
    for g in gens:
        if g not in df.index:
            continue
        r = df.loc[g]
        row = {"Gen.": g, "E (potential, paper's measure)": _fmt(r.get("cluster_efficiency"), ".2f", "X"),
               "FLOPs gen 1 / compact": _fmt(df["flops_masked"].iloc[0] / r["flops_compact"], ".2f", "X")
               if "flops_compact" in df else "n/a"}
        if speed is not None and g in speed.index:
            for col in speed.columns:
                if col.startswith("speedup_compact_b"):
                    row[f"measured speed-up, batch {col.rsplit('_b', 1)[1]}"] = _fmt(speed.loc[g, col], ".2f", "X")
        rows.append(row)
    return pd.DataFrame(rows).set_index("Gen.")


def run_dir_of(config, runs_dir: str | os.PathLike = RUNS_DIR) -> Path:
    """Where the run store keeps the run of ``config``."""
    from .evolution import run_dir_for

    return run_dir_for(config, resolve(runs_dir))


def ensure_results(config, profile: str, name: str | None = None, runs_dir: str | os.PathLike = RUNS_DIR,
                   results_dir: str | os.PathLike = RESULTS_DIR, retrain: bool = False,
                   page: str | None = None) -> Published | NotRun:
    """Published results of ``config`` under ``results/<profile>/<name>``; trains only when needed.

    - published results whose config has the same run id: reused, nothing is trained;
    - otherwise ``evolution.evolve`` runs (resuming finished generations from ``runs_dir``) and the
      outcome is published; ``retrain=True`` first deletes both the published results and the run;
    - data missing (``FileNotFoundError`` from the task): a :class:`NotRun` is published and returned.
    """
    from .config import EvolutionConfig
    from .evolution import evolve

    config.validate()
    name = name or config.dataset
    page = page or f"evolve-{name.replace('/', '-')}"
    command = book_command(profile, page)
    out = results_path(profile, name, results_dir)
    if retrain:
        for p in (out, run_dir_of(config, runs_dir)):
            if p.exists():
                print(f"--retrain: deleting {p}")
                shutil.rmtree(p)
    found = load_published(profile, name, results_dir, page)
    if isinstance(found, Published) and found.config:
        try:  # the run id leaves out the number of generations (a run can be extended): compare it too
            published = EvolutionConfig.from_dict(found.config)
            same = (published.run_id() == config.run_id() and published.generations == config.generations
                    and len(found.generations) == config.generations)
        except (TypeError, ValueError):
            same = False
        if same:
            print(f"{display_name(name)}: reusing the published results in {relative(out)} "
                  f"(run {config.run_id()}); `{command} --retrain` trains again.")
            return found
        print(f"{display_name(name)}: the published results were made with another config; running.")
    start = time.time()
    try:
        run_dir = evolve(config, resolve(runs_dir))
    except FileNotFoundError as e:  # data.DataNotFoundError and the detection sets' missing-folder errors
        print(f"not run: {e}")
        return record_not_run(profile, name, f"The {display_name(config.dataset)} data was not found: {e}",
                              command, results_dir)
    publish(run_dir, out, config, {"profile": profile, "name": name, "page": page, "command": command,
                                   "book_wall_time_s": round(time.time() - start, 1)})
    return load_published(profile, name, results_dir, page)


def config_from_parameters(namespace: dict[str, Any]):
    """An ``EvolutionConfig`` from a notebook's parameters (its globals): every field found there."""
    import dataclasses

    from .config import EvolutionConfig

    names = [f.name for f in dataclasses.fields(EvolutionConfig)]
    return EvolutionConfig(**{k: namespace[k] for k in names if k in namespace}).validate()


# ---------------------------------------------------------------------------------------------- display
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
    commits = p.get("run_commits") or [str(p.get("commit", "unknown")) + ("+dirty" if p.get("dirty") else "")]
    commit = ", ".join(f"`{c[:12]}`" + (" (with uncommitted changes)" if c.endswith("+dirty") else "")
                       for c in commits)
    wall = p.get("wall_time_s")
    env = p.get("run_environment") or p.get("environment", {})
    hw = env.get("gpu") or f"CPU ({env.get('cpu_count', '?')} cores)"
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


def _fmt(x, spec: str, suffix: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:{spec}}{suffix}"


SUMMARY_COLUMNS = ("generation", "synapses", "architectural_efficiency", "accuracy", "precision", "recall",
                   "cluster_efficiency", "kept_fraction", "environmental_factor", "fps_masked", "fps_compact",
                   "fps_half", "flops_compact", "wall_time_s")


def summary_table(df) -> Any:
    """The columns of a generations table a reader needs (the full table stays in generations.csv)."""
    return df[[c for c in SUMMARY_COLUMNS if c in df]].set_index("generation")


def generation_row(df, generation: int):
    """The row of ``df`` for ``generation`` (a Series) or ``None`` when the run did not reach it."""
    rows = df[df["generation"] == generation]
    return None if rows.empty else rows.iloc[0]


def table1_side_by_side(dataset: str, ours) -> Any:
    """Table 1 for ``dataset``: paper's (Gen, A-E, ACC) beside ours at the same generations, with differences.

    ``ours``: a :class:`Published` (or its generations DataFrame). Generations our run did not
    reach say so in their cells.
    """
    import pandas as pd

    from .paper import TABLE1

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
                "A-E (ours)": _fmt(r["architectural_efficiency"], ".2f", "X"),
                "A-E ours/paper": _fmt(r["architectural_efficiency"] / ae, ".2f"),
                "ACC. (ours)": _fmt(r["accuracy"], ".4f"),
                "ΔACC.": _fmt(r["accuracy"] - acc, "+.4f"),
            })
        rows.append(row)
    return pd.DataFrame(rows).set_index("Gen.")[
        ["A-E (paper)", "A-E (ours)", "A-E ours/paper", "ACC. (paper)", "ACC. (ours)", "ΔACC."]]


def table1_all_generations(dataset: str, ours) -> Any:
    """Every generation of our run (A-E, ACC., synapses, kept fraction), with the paper's values where it reports them."""
    import pandas as pd

    from .paper import TABLE1

    df = ours.generations if isinstance(ours, Published) else ours
    reported = {gen: (ae, acc) for gen, ae, acc in TABLE1[dataset]}
    rows = []
    for _, r in df.sort_values("generation").iterrows():
        gen = int(r["generation"])
        ae, acc = reported.get(gen, (None, None))
        rows.append({
            "Gen.": gen,
            "synapses (ours)": f"{int(r['synapses']):,}",
            "kept of parent": _fmt(r.get("kept_fraction"), ".3f"),
            "A-E (ours)": _fmt(r["architectural_efficiency"], ".2f", "X"),
            "A-E (paper)": _fmt(ae, ".2f", "X") if ae is not None else "—",
            "ACC. (ours)": _fmt(r["accuracy"], ".4f"),
            "ACC. (paper)": _fmt(acc, ".4f") if acc is not None else "—",
        })
    return pd.DataFrame(rows).set_index("Gen.")


def seed_spread(runs: list["Published"], dataset: str = "mnist") -> Any:
    """Per generation, across runs that differ only in their seed: mean and range of A-E and accuracy."""
    import pandas as pd

    from .paper import TABLE1

    df = pd.concat([r.generations.assign(seed=r.config.get("seed")) for r in runs])
    g = df.groupby("generation")
    reported = {gen: (ae, acc) for gen, ae, acc in TABLE1.get(dataset, [])}
    rows = []
    for gen, part in g:
        ae, acc = part["architectural_efficiency"], part["accuracy"]
        p_ae, p_acc = reported.get(int(gen), (None, None))
        rows.append({
            "Gen.": int(gen), "seeds": len(part),
            "A-E mean": _fmt(ae.mean(), ".2f", "X"), "A-E min-max": f"{ae.min():.2f}-{ae.max():.2f}X",
            "A-E (paper)": _fmt(p_ae, ".2f", "X") if p_ae is not None else "—",
            "ACC. mean": _fmt(acc.mean(), ".4f"), "ACC. std": _fmt(acc.std(ddof=1), ".4f") if len(part) > 1 else "n/a",
            "ACC. min-max": f"{acc.min():.4f}-{acc.max():.4f}",
            "ACC. (paper)": _fmt(p_acc, ".4f") if p_acc is not None else "—",
        })
    return pd.DataFrame(rows).set_index("Gen.")


def spread_over_seeds(runs: list["Published"], columns: list[str], spec: str = ".3f") -> Any:
    """Per generation, across runs that differ only in their seed: mean, min and max of each column."""
    import pandas as pd

    df = pd.concat([r.generations.assign(seed=r.config.get("seed")) for r in runs])
    rows = []
    for gen, part in df.groupby("generation"):
        row = {"Gen.": int(gen), "seeds": len(part)}
        for c in columns:
            row[f"{c} mean"] = _fmt(part[c].mean(), spec)
            row[f"{c} min-max"] = f"{part[c].min():{spec}}-{part[c].max():{spec}}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("Gen.")


def cluster_columns(df) -> list[str]:
    """Per-layer cluster-efficiency columns of a generations table, in layer order."""
    return [c for c in df.columns if c.startswith("cluster_efficiency_")]


def table2_3_side_by_side(dataset: str, ours) -> Any:
    """Tables 2 / 3: per-layer cluster efficiency and E, paper vs ours, at the paper's generations."""
    import pandas as pd

    from .paper import TABLE2_3

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
            mine = {"Gen.": gen, "source": "ours", "ACC.": _fmt(r.get("accuracy"), ".4f"),
                    **{n: (_fmt(v, ".2f", "X") if i < len(vals) else "n/a")
                       for i, (n, v) in enumerate(zip(names, vals + [None] * len(names)))},
                    "E": _fmt(r.get("cluster_efficiency"), ".2f", "X")}
            if len(vals) != len(names):
                mine["source"] = f"ours ({len(vals)} layers)"
        rows += [paper, mine]
    return pd.DataFrame(rows).set_index(["Gen.", "source"])


def layer_names(pub: Published) -> list[str]:
    """Our layer names (``conv1`` ...) from the per-layer cluster-efficiency columns."""
    return [c[len("cluster_efficiency_"):] for c in cluster_columns(pub.generations)]


def retention(df) -> Any:
    """Fraction of synapses kept from each generation to the next (NaN for generation 1)."""
    s = df.sort_values("generation")["synapses"].astype(float)
    return (s / s.shift(1)).set_axis(df.sort_values("generation")["generation"].values)


# ---------------------------------------------------------------------------------------------- plots
def plot_accuracy_vs_efficiency(ax, ours=None, paper_dataset: str | None = None, label: str = "ours",
                                metric: str = "accuracy"):
    """Accuracy vs architectural efficiency (log x), ours as a line, the paper's Table 1 points overlaid."""
    from .paper import TABLE1

    if ours is not None:
        df = ours.generations if isinstance(ours, Published) else ours
        if metric in df:
            ax.plot(df["architectural_efficiency"], df[metric], "o-", label=label)
            for _, r in df.iterrows():
                ax.annotate(str(int(r["generation"])), (r["architectural_efficiency"], r[metric]),
                            textcoords="offset points", xytext=(3, 3), fontsize=7)
    if paper_dataset is not None and paper_dataset in TABLE1:
        gens, ae, acc = zip(*TABLE1[paper_dataset])
        ax.plot(ae, acc, "s--", color="black", alpha=0.7, label="paper (Table 1)")
        for g, x, y in zip(gens, ae, acc):
            ax.annotate(str(g), (x, y), textcoords="offset points", xytext=(3, -9), fontsize=7, color="black")
    ax.set_xscale("log")
    ax.set_xlabel("architectural efficiency (ancestor synapses / synapses), log scale")
    ax.set_ylabel(metric)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_detection_runs(series: dict[str, Any], title_suffix: str):
    """Live synapses (log), precision and recall per generation, one line per run: ``{label: generations}``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for label, d in series.items():
        d = d.sort_values("generation")
        for ax, col in zip(axes, ("synapses", "precision", "recall")):
            ax.plot(d["generation"], d[col], "o-", lw=1, ms=3, label=label)
    axes[0].set_yscale("log")
    for ax, what in zip(axes, ("live synapses", "precision", "recall")):
        ax.set_title(f"{what} ({title_suffix})")
        ax.set_xlabel("generation")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_cluster_bars(ax, dataset: str, ours: Published | None, generation: int):
    """Bars per layer: the paper's cluster efficiency at ``generation`` beside ours."""
    import numpy as np

    from .paper import TABLE2_3

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
        names = [f"L{i + 1}\n{ln}" for i, ln in enumerate((layer_names(ours) + [""] * n)[:n])] + ["E"]
    else:
        ax.text(0.5, 0.9, "ours: not available", transform=ax.transAxes, ha="center")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("cluster efficiency (×)")
    ax.set_title(f"{display_name(dataset)}, generation {generation}")
    ax.legend(fontsize=8)
    return ax


# ---------------------------------------------------------------------------------------------- normaliser study
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
    import pandas as pd

    from .paper import table1_retention

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


# ---------------------------------------------------------------------------------------------- reproducibility
RUN_LOG = REPO_ROOT / "book" / "notebooks" / "run_log.json"


def load_run_log(path: str | os.PathLike = RUN_LOG) -> dict[str, Any]:
    """The log ``python -m evosynth_lib.book`` writes: environment, commit, and per page its parameters and duration."""
    p = resolve(path)
    return json.loads(p.read_text()) if p.is_file() else {}


def run_log_table(log: dict[str, Any]) -> Any:
    """One row per executed page: source, status, duration, start, commit."""
    import pandas as pd

    rows = [{"page": k, "source": v.get("source"), "status": v.get("status"),
             "duration (s)": v.get("duration_s"), "started": v.get("started"),
             "commit": str(v.get("commit", ""))[:12] + (" (dirty)" if v.get("dirty") else "")}
            for k, v in log.get("pages", {}).items()]
    return pd.DataFrame(rows).set_index("page") if rows else pd.DataFrame()


def results_table(profile: str, results_dir: str | os.PathLike = RESULTS_DIR) -> Any:
    """Every published run of ``profile``: dataset, generations, seed, run id, commit, duration, hardware."""
    import pandas as pd

    root = resolve(results_dir) / profile
    rows = []
    for d in sorted({p.parent for p in root.rglob("generations.csv")} | {p.parent for p in root.rglob("not_run.json")}):
        found = load_published(profile, str(d.relative_to(root)), results_dir)
        if isinstance(found, NotRun):
            rows.append({"run": found.name, "status": "not run", "dataset": None, "generations": None,
                         "seed": None, "run id": None, "commit": str(found.extra.get("commit", ""))[:12],
                         "duration (min)": None, "hardware": None})
            continue
        p, env = found.provenance, found.provenance.get("environment", {})
        wall = p.get("wall_time_s")
        rows.append({"run": found.name, "status": "published", "dataset": found.dataset,
                     "generations": len(found.generations), "seed": found.config.get("seed"),
                     "run id": p.get("run_id"),
                     "commit": str(p.get("commit", ""))[:12] + (" (dirty)" if p.get("dirty") else ""),
                     "duration (min)": round(wall / 60, 1) if isinstance(wall, (int, float)) else None,
                     "hardware": env.get("gpu") or f"CPU x{env.get('cpu_count', '?')}"})
    return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()
