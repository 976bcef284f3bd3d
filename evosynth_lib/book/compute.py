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

from ..run.deploy import FILES_DIR
from ..run.export import read_exports
from ..tasks.detection.metrics import binomial_se
from .paper import PARSE27K, TABLE2_3
from .paths import RESULTS, resolve
from .results import Published, load_published
from .seeds import mean_sd, mean_text, range_text


LABEL = {"detector": "the detector (Penn-Fudan stand-in for Parse-27k)", "mnist": "LeNet-5 on MNIST",
         "cifar10": "AlexNet on CIFAR-10"}


def paper_speedup(task: str) -> float:
    """The papers' speed-up for ``task``: paper 2's fps ratio for the detector, else the seed paper's cluster
    efficiency E at its last generation (Tables 2-3), which it calls a potential speed-up."""
    if task == "detector":
        return PARSE27K["fps_last"] / PARSE27K["fps_first"]
    table = TABLE2_3[task]
    return float(table[max(table)]["E"])


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
                   "synapse_ratio": first.get("synapses", math.nan) / last.get("synapses", math.nan),
                   "flop_ratio": first.get("flops_compact", math.nan) / last.get("flops_compact", math.nan),
                   f"{metric}_first": first.get(metric, math.nan), metric: last.get(metric, math.nan)}
            for m in ("precision", "recall", "ap50"):
                if m in pub.generations and m != metric:
                    row[f"{m}_first"], row[m] = first.get(m, math.nan), last.get(m, math.nan)
            if {"tp", "n_pred", "n_gt"} <= set(pub.generations):
                row["precision_se_first"] = float(binomial_se(first["tp"], first["n_pred"]))
                row["recall_se_first"] = float(binomial_se(first["tp"], first["n_gt"]))
            t = latency[(latency.run == pub.name) & (latency.engine == engine)] if latency is not None else None
            if t is not None and len(t) >= 2:
                t = t.sort_values("generation")
                row.update(ms_first=t.ms.iloc[0], ms=t.ms.iloc[-1], speedup=t.ms.iloc[0] / t.ms.iloc[-1])
            rows.append(row)
    return pd.DataFrame(rows)


def _speedup_text(timed: list[float], runs: int) -> str:
    """``3.00x ± 1.41x [2.00-4.00]``; ``1.01x`` for one value; with ``(1 of 3 runs timed)`` when some were not."""
    if not timed:
        return "not timed"
    text = f"{timed[0]:.2f}x" if len(timed) == 1 else f"{mean_text(timed, '.2f', 'x', False)} [{range_text(timed, '.2f')}]"
    return text + (f" ({len(timed)} of {runs} runs timed)" if len(timed) < runs else "")


def speedup_table(rows: pd.DataFrame, paper_speedup: float, metric: str, detection: bool = False) -> pd.DataFrame:
    """Per method: seeds, synapse and FLOP ratios, measured speed-up (mean ± sd, range), the paper's speed-up
    and how far below it the measurement lies; the metric's change; for detection, whether P and R stayed within
    one standard error of generation 1 in every seed."""
    out = []
    for method, d in rows.groupby("method", sort=False):
        timed = d.speedup.dropna().tolist() if "speedup" in d else []
        row = {"method": method, "runs": len(d), "fewer synapses": mean_text(d.synapse_ratio.tolist(), ".1f", "x", False),
               "fewer FLOPs (compacted)": mean_text(d.flop_ratio.tolist(), ".2f", "x", False),
               "measured speed-up": _speedup_text(timed, len(d)),
               "paper": f"{paper_speedup:.2f}x",
               "measured / paper": f"{mean_sd(timed)[0] / paper_speedup:.2f}" if timed else "n/a",
               f"{metric} (last)": mean_text(d[metric].dropna().tolist(), ".3f", "", False) if metric in d else "n/a",
               f"{metric} change": (mean_text((d[metric] - d[f"{metric}_first"]).dropna().tolist(), "+.3f", "", False)
                                    if metric in d else "n/a")}
        for extra, label in (("recall", "recall"), ("ap50", "AP@0.5")) if detection else ():
            if extra != metric and extra in d and d[extra].notna().any():
                row[f"{label} (last)"] = mean_text(d[extra].dropna().tolist(), ".3f", "", False)
                row[f"{label} change"] = mean_text((d[extra] - d[f"{extra}_first"]).dropna().tolist(), "+.3f", "", False)
        if detection and {"precision", "recall", "precision_se_first", "recall_se_first"} <= set(d):
            kept = [abs(r.precision - r.precision_first) <= r.precision_se_first
                    and abs(r.recall - r.recall_first) <= r.recall_se_first for r in d.itertuples()]
            row["P and R within 1 SE of gen. 1"] = f"{sum(kept)} of {len(kept)}"
        elif detection:
            row["P and R within 1 SE of gen. 1"] = "not recorded"
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


def layer_flops(onnx_path, input_shape) -> dict[str, int]:
    """Dense FLOPs of every Conv and Gemm / MatMul of an exported network, in graph order, for one input of
    ``input_shape`` (2 per multiply-add, as ``core.compaction.count_flops`` counts), keyed by the node's name."""
    import onnx

    model = onnx.load(str(onnx_path))
    for dim, value in zip(model.graph.input[0].type.tensor_type.shape.dim, input_shape):
        dim.dim_value = int(value)  # fixes a dynamic (named) dimension too
    model = onnx.shape_inference.infer_shapes(model)
    graph = model.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*graph.input, *graph.value_info, *graph.output]}
    shapes.update({t.name: list(t.dims) for t in graph.initializer})
    out = {}
    for node in graph.node:
        if node.op_type == "Conv":
            out[node.name] = 2 * math.prod(shapes[node.output[0]]) * math.prod(shapes[node.input[1]][1:])
        elif node.op_type in ("Gemm", "MatMul"):
            out[node.name] = 2 * math.prod(shapes[node.output[0]]) * shapes[node.input[0]][-1]
    return out


def deployed_files(pub: Published) -> dict[int, tuple[Path, list[int]]]:
    """``{generation: (ONNX file, input shape)}`` of a published run's exported networks (none: ``{}``)."""
    try:
        files = read_exports(Path(pub.path) / FILES_DIR)["files"]
    except FileNotFoundError:
        return {}
    return {int(f["generation"]): (f["path"], f["input_shape"]) for f in files}


def where_time_goes(runs: dict[str, Published], layer_names: list[str]) -> pd.DataFrame | None:
    """Per weighted layer: its share of the first generation's FLOPs and, per run (``{label: Published}``), the
    fraction of that layer's FLOPs its last generation keeps; from the exported first and last networks. Layers
    are named ``layer_names`` in graph order where the counts agree. ``None`` when no run has exported networks."""
    columns, share = {}, None
    for label, pub in runs.items():
        files = deployed_files(pub)
        if len(files) < 2:
            continue
        (first, shape), (last, _) = files[min(files)], files[max(files)]
        f0, f1 = layer_flops(first, shape), layer_flops(last, shape)
        names = layer_names if len(layer_names) == len(f0) else list(f0)
        if share is None:
            total = sum(f0.values())
            share = pd.Series([v / total for v in f0.values()], index=names)
        columns[f"{label}: kept"] = pd.Series([f1.get(k, 0) / v for k, v in f0.items()], index=names)
    if share is None:
        return None
    table = pd.DataFrame({"share of gen. 1 FLOPs": share, **columns})
    return table.map(lambda v: f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.1%}").rename_axis("layer")


def speed_markdown(profile: str, tasks: dict, engine: str, results_dir=RESULTS) -> str:
    """The landing page's summary of the compute page: per task, each method's measured speed-up (last generation
    over first, mean ± sd over its timed runs) beside the paper's, and what happened to accuracy."""
    lines = []
    for task, spec in tasks.items():
        methods = load_methods(profile, spec["methods"], results_dir)
        detection = task == "detector"
        rows = run_rows(methods, load_latency(profile, spec.get("latency"), results_dir), engine,
                        "ap50" if detection else "accuracy")
        if rows.empty:
            lines.append(f"- {LABEL[task]}: no published run.")
            continue
        table = speedup_table(rows, paper_speedup(task), "precision" if detection else "accuracy", detection)
        parts = []
        for method, r in table.iterrows():
            kept = (f", precision and recall within one standard error of generation 1 in "
                    f"{r['P and R within 1 SE of gen. 1']} runs" if detection and "of" in r["P and R within 1 SE of gen. 1"]
                    else "" if detection else
                    f", accuracy change {r['accuracy change']}")
            speed = "not timed" if r["measured speed-up"] == "not timed" else f"{r['measured speed-up']} measured"
            parts.append(f"{method}: {speed}, {r['fewer FLOPs (compacted)']} fewer FLOPs "
                         f"({r['runs']} run{'s' if r['runs'] != 1 else ''}{kept})")
        lines.append(f"- **{LABEL[task]}** (paper: {paper_speedup(task):.2f}x): " + "; ".join(parts) + ".")
    return "\n".join(lines) + "\n"
