"""The intro's per-experiment status, computed from the published results of the profile being built.

``python -m evosynth_lib.book`` writes :data:`STATUS_FILE` (``book/_generated/status.md``, not committed) just
before jupyter-book runs; ``book/intro.md`` includes it. A run is **produced** when
``results/<profile>/<run>/generations.csv`` exists, **awaits data** when its ``not_run.json`` says the data
was not found, and **not run** otherwise (no results, or the profile has no page for it), with the command
that runs it. Which runs make each experiment is read from the reading pages' parameters (the notebook's
defaults overlaid with ``profiles/<profile>/<page>.yaml``), as the pages themselves read them.
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .names import display_name, hardware_label
from .pages import read_page
from .paths import RESULTS, notebooks_dir, profiles_dir, repo_root, resolve

STATUS_FILE = "book/_generated/status.md"
SPEED_FILE = "speed.md"  # beside it: the compute page's summary (compute.speed_markdown)
# the paper's experiments that table1 / table2_3 read, by the paper's dataset name
PAPER1 = {"mnist": "Tables 1-2: MNIST, LeNet-5", "stl10": "Tables 1-2: STL-10, LeNet-5",
          "cifar10": "Tables 1, 3: CIFAR-10, AlexNet"}
PAPER2 = "Figures 2-3: fp16 detector (paper 2, Parse-27k)"


@dataclass
class StatusRow:
    experiment: str
    runs: list[str]  # the run names under results/<profile>/ (main run first, then its other seeds)
    status: str  # "produced" | "awaits data" | "not run" ("produced in part": some normaliser readings)
    data: str
    budget: str
    detail: str  # commit and hardware when produced; the reason and the command otherwise


def notebook_defaults(page: str) -> dict[str, Any]:
    """The literal defaults of the cell tagged ``parameters`` (the one papermill replaces) of ``notebooks/<page>.py``,
    read through jupytext as the build reads the page ({} when there is none)."""
    import jupytext

    path = notebooks_dir() / f"{page}.py"
    if not path.is_file():
        return {}
    cells = jupytext.read(path).cells
    cell = next((c for c in cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    out: dict[str, Any] = {}
    for node in ast.parse(cell.source if cell is not None else "").body:
        if isinstance(node, ast.Assign):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError):
                continue
            out.update({t.id: value for t in node.targets if isinstance(t, ast.Name)})
    return out


def page_parameters(profile: str, page: str) -> dict[str, Any] | None:
    """A reading page's parameters as the profile runs it, or None when the profile has no such page."""
    path = profiles_dir() / profile / f"{page}.yaml"
    if not path.is_file():
        return None
    defaults = {k: v for k, v in notebook_defaults(page).items() if v is not None}  # None: "from the page"
    return {**defaults, **read_page(path)}


def _num(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}" if isinstance(x, float) else str(x)


def _budget(config: dict[str, Any], generations: int | None, seeds: int) -> str:
    g = generations if generations is not None else config.get("generations", "?")
    text = f"{g} generation{'s' if g != 1 else ''}"
    if "epochs" in config:
        first = config.get("first_epochs") or config["epochs"]
        text += f"; {_num(first)} epochs for the ancestor, {_num(config['epochs'])} per offspring"
    if seeds > 1:
        text += f"; {seeds} seeds"
    return text


def _data(config: dict[str, Any], paper_dataset: str | None) -> str:
    dataset = config.get("dataset") or paper_dataset or "?"
    text = display_name(dataset)
    if paper_dataset and dataset != paper_dataset:
        text += f" (stand-in for {display_name(paper_dataset)})"
    if config.get("train_subset") or config.get("test_subset"):
        text += f", subset {_num(config.get('train_subset') or 'all')} / {_num(config.get('test_subset') or 'all')}"
    return text


def experiment_row(profile: str, experiment: str, runs: list[str], paper_dataset: str | None,
                   results_dir: str | os.PathLike = RESULTS, page: str | None = None,
                   planned: dict[str, Any] | None = None) -> StatusRow:
    """The status of one experiment: its main run ``runs[0]``, and how many of ``runs`` (its seeds) exist.

    ``planned``: the configuration the profile would run (default: the parameters of ``page``, else of
    ``evolve-<run>``), described when nothing is published."""
    from .results import NotRun, load_published

    found = [load_published(profile, r, results_dir, page=page) for r in runs]
    main = found[0]
    if isinstance(main, NotRun):
        if planned is None:
            planned = page_parameters(profile, page or f"evolve-{runs[0].replace('/', '-')}") or {}
        awaits = main.kind == "awaits data"
        budget = f"planned: {_budget(planned, None, len(planned.get('seeds', [0])))}" if planned else "-"
        return StatusRow(experiment, runs, "awaits data" if awaits else "not run",
                         _data(planned, paper_dataset), budget, f"{main.reason} To run it: `{main.command}`")
    seeds = sum(not isinstance(f, NotRun) for f in found)
    prov = main.provenance
    commits = list(dict.fromkeys(str(c)[:10] for c in prov.get("run_commits") or [prov.get("commit")] if c))
    shown = ", ".join(f"`{c}`" for c in commits[:2]) + (f" and {len(commits) - 2} more" if len(commits) > 2 else "")
    wall = prov.get("wall_time_s")
    detail = ", ".join(filter(None, [
        ("commit " if len(commits) == 1 else "commits ") + shown if commits else "", hardware_label(prov),
        (f"{wall / 60:.0f} min" if wall >= 60 else f"{wall:.0f} s") if isinstance(wall, (int, float)) else ""]))
    return StatusRow(experiment, runs, "produced", _data(main.config, paper_dataset),
                     _budget(main.config, len(main.generations), seeds), detail)


def status_rows(profile: str, results_dir: str | os.PathLike = RESULTS) -> list[StatusRow]:
    """One row per experiment of the papers, then one per reading study and any other published run."""
    rows: list[StatusRow] = []
    table1 = page_parameters(profile, "table1") or notebook_defaults("table1")
    runs, seed_runs = table1.get("runs", {}), table1.get("seed_runs", {})
    for dataset, label in PAPER1.items():
        name = runs.get(dataset, dataset)
        rows.append(experiment_row(profile, label, [name] + [s for s in seed_runs.get(dataset, []) if s != name],
                                   dataset, results_dir))
    fig = page_parameters(profile, "parse27k") or notebook_defaults("parse27k")
    name = fig.get("run", "parse27k")
    rows.append(experiment_row(profile, PAPER2, [name] + [s for s in fig.get("seed_runs", []) if s != name],
                               "parse27k", results_dir))
    for ablation, what in (fig.get("ablations") or {}).items():
        rows.append(experiment_row(profile, f"Figures 2-3, ablation: {what}", [ablation], "parse27k", results_dir))
    norm = page_parameters(profile, "normalisation")
    if norm is not None and norm.get("readings"):
        readings = [experiment_row(profile, key, [f"normalisation/{key}"], None, results_dir, page="normalisation",
                                   planned={**norm.get("base", {}), **change})
                    for key, change in norm["readings"].items()]
        rows.append(_merge_readings(readings))
    covered = {r for row in rows for r in row.runs}
    root = resolve(results_dir) / profile
    others = sorted({str(p.parent.relative_to(root)) for pattern in ("*/generations.csv", "*/not_run.json")
                     for p in root.glob(pattern)} - covered) if root.is_dir() else []
    rows += [experiment_row(profile, f"run `{o}`", [o], None, results_dir) for o in others]
    return rows


def _merge_readings(readings: list[StatusRow]) -> StatusRow:
    """One row for the normaliser study: produced when every reading is, else what is missing."""
    names = ", ".join(f"`{r.experiment}`" for r in readings)
    done = [r for r in readings if r.status == "produced"]
    missing = [r for r in readings if r.status != "produced"]
    status = "produced" if not missing else "awaits data" if any(r.status == "awaits data" for r in missing) \
        else "not run" if not done else "produced in part"
    first = re.sub(r", \d+ (s|min)$", "", readings[0].detail)  # the first reading's duration is not the study's
    detail = f"{len(done)} of {len(readings)} readings" + (f"; {first}" if not missing else
                                                          f"; `{missing[0].experiment}`: {missing[0].detail}")
    return StatusRow(f"Normaliser readings {names} (method)", [r for row in readings for r in row.runs], status,
                     readings[0].data, readings[0].budget + " each", detail)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def status_markdown(profile: str, results_dir: str | os.PathLike = RESULTS) -> str:
    """The MyST table the intro includes: the profile's experiments, their data, budget and status."""
    rows = status_rows(profile, results_dir)
    counts = {s: sum(r.status == s for r in rows) for s in ("produced", "produced in part", "awaits data", "not run")}
    lines = [f"This copy of the book was built with profile **`{profile}`**, from `results/{profile}/` "
             f"(computed when the book was built): "
             + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "produced in part") + ".", "",
             "| experiment | data | budget | status |", "|---|---|---|---|"]
    for r in rows:
        status = f"**{r.status}**" + (f": {r.detail}" if r.detail else "")
        lines.append(f"| {_cell(r.experiment)} | {_cell(r.data)} | {_cell(r.budget)} | {_cell(status)} |")
    return "\n".join(lines) + "\n"


def write_status(profile: str, results_dir: str | os.PathLike = RESULTS, out: str | os.PathLike | None = None) -> Path:
    """Write :func:`status_markdown` to ``book/_generated/status.md`` (or ``out``), and beside it the landing page's
    findings (``findings.md``, ``findings.png``; :func:`.findings.write_findings`); return the path."""
    from .compute import speed_markdown
    from .findings import write_findings

    path = Path(out) if out is not None else repo_root() / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(status_markdown(profile, results_dir))
    t1 = page_parameters(profile, "table1") or notebook_defaults("table1")
    p2 = page_parameters(profile, "parse27k") or notebook_defaults("parse27k")
    runs, seeds = t1.get("runs", {}), t1.get("seed_runs", {})
    cp = page_parameters(profile, "compute") or notebook_defaults("compute")
    (path.parent / SPEED_FILE).write_text(speed_markdown(profile, cp.get("tasks", {}), cp.get("engine", "onnxruntime"),
                                                         results_dir))
    write_findings(profile, path.parent, results_dir,
                   mnist=seeds.get("mnist") or [runs.get("mnist", "mnist")],
                   cifar=seeds.get("cifar10") or [runs.get("cifar10", "cifar10")],
                   det=[p2.get("run", "parse27k"), *p2.get("seed_runs", [])])
    return path
