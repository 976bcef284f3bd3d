"""The book's deployment sections: measured speed-ups per engine and precision from a published ``deploy.csv``
(``run/deploy.py``), beside the paper's "potential" speed-up and the FLOP ratio; or, where none is published,
the sentence that says so and the command that measures it. Nothing here measures anything.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.metrics import TASK_METRICS
from ..run.deploy import DEPLOY_CSV, DEPLOY_JSON
from ..run.deploy_report import ratios, time_split
from .display import fmt, show
from .paths import RUNS, relative
from .results import Published


def load_deploy(result: Published) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The published ``deploy.csv`` and ``deploy.json`` of a run, or ``None``."""
    path = Path(result.path) / DEPLOY_CSV
    if not path.is_file():
        return None
    meta_path = Path(result.path) / DEPLOY_JSON
    return pd.read_csv(path), (json.loads(meta_path.read_text()) if meta_path.is_file() else {})


def deploy_command(result: Published, runs_dir: str = RUNS) -> str:
    run_id = result.provenance.get("run_id", "<run id>")
    return f"python -m evosynth_lib.run.deploy {runs_dir}/{run_id} --out {relative(result.path)}"


def missing_markdown(result: Published, runs_dir: str = RUNS) -> str:
    """Where no deployment measurement is published: what is missing and the command that produces it."""
    rel = relative(Path(result.path) / DEPLOY_CSV)
    return (f"*No deployment measurement is published for this run* (`{rel}` is absent), so no deployed speed is "
            f"shown. It is measured from the run's checkpoints, on a quiet machine, by\n\n"
            f"`{deploy_command(result, runs_dir)}`\n\n(or `python benchmarks/deploy.py {runs_dir}/"
            f"{result.provenance.get('run_id', '<run id>')} --out {relative(result.path)}`, which also prints the "
            f"ratios).")


def _half_precision_text(meta: dict[str, Any]) -> str:
    """Which half precisions were measured: the variants judged fast on this CPU, without the raw capability lists."""
    fast = [k.replace("/", " ") for k, v in meta.get("half_precision", {}).items() if str(v).startswith("fast")]
    slow = [k.replace("/", " ") for k, v in meta.get("half_precision", {}).items() if not str(v).startswith("fast")]
    if not fast and not slow:
        return "no half precision was considered"
    return ((f"measured where the CPU runs it natively ({', '.join(fast)})" if fast else "none runs natively here")
            + (f"; not measured where it would be emulated ({', '.join(slow)})" if slow else ""))


def protocol_markdown(meta: dict[str, Any]) -> str:
    """How the published deployment numbers were measured: device, engines, threads, repetitions, sizes."""
    f, p, ev = meta.get("features", {}), meta.get("protocol", {}), meta.get("evaluation", {})
    align = ", ".join(f"{k.replace('/', ' ')} {v.get('chosen')}" for k, v in meta.get("alignment", {}).items())
    camera = f" and a camera frame of {p['camera_frame']} pixels (VGA)" if p.get("camera_frame") else ""
    limit = f"the first {ev['limit']} test examples" if ev.get("limit") else "the whole test set"
    threads = p.get("threads", "?")
    batches = p.get("batch_sizes") or []
    inputs = p.get("inputs", [])
    return (f"**Protocol.** Device: {f.get('cpu', '?')} CPU"
            + (f", GPU {f['cuda']['name']}" if f.get("cuda") else "")
            + f"; PyTorch {f.get('torch', '?')}, ONNX Runtime {f.get('onnxruntime') or 'absent'}, OpenVINO "
            f"{str(f.get('openvino') or 'absent').split('-')[0]}. "
            f"{threads} intra-op thread{'s' if threads != 1 else ''} in every engine; "
            f"{p.get('warmup', '?')} warm-up passes, then {p.get('repetitions', '?')} passes each timed alone; "
            f"the **median** is reported (fps = batch / median), its inter-quartile range is in `deploy.csv`; "
            f"batch {', '.join(str(b) for b in batches)}; "
            f"input {', '.join(inputs)}{camera}; one fixed input already in the engine's precision and layout. "
            f"Half precision: {_half_precision_text(meta)}. Channel counts rounded up to the multiple that measured "
            f"fastest on the last generation: {align or 'none'}. Each variant's outputs are compared with the masked "
            f"float32 network (max |diff|) and its metric is evaluated on {limit} at {ev.get('input', '?')}.")


def deployed_speedup_table(df: pd.DataFrame, paper_speedup: float | None = None, paper_label: str = "paper",
                           batch_size: int = 1) -> pd.DataFrame:
    """First vs last generation per engine x precision x layout x input (at ``batch_size``): fps, the measured
    speed-up, the speed-up over generation 1 in PyTorch fp32 NCHW, the FLOP ratio and the paper's speed-up."""
    r = ratios(df)
    r = r[r["batch_size"] == batch_size]
    metrics = [m for m in TASK_METRICS if f"{m}_change" in r]
    rows = []
    for _, x in r.iterrows():
        row = {"engine": x["engine"], "precision": x["dtype"], "layout": x["layout"], "input": x["input"],
               "fps gen 1": fmt(x["fps_first"], ".1f"), "fps last": fmt(x["fps_last"], ".1f"),
               "measured speed-up": fmt(x["speedup"], ".2f", "X"),
               "vs gen 1 fp32 eager NCHW": fmt(x["vs_baseline"], ".2f", "X"),
               "FLOP ratio (limit)": fmt(x["flop_ratio"], ".2f", "X")}
        if paper_speedup is not None:
            row[paper_label] = fmt(paper_speedup, ".2f", "X")
        for m in metrics:
            row[f"{m} gen 1 -> last"] = f"{fmt(x[f'{m}_first'], '.3f')} -> {fmt(x[f'{m}_last'], '.3f')}"
        row["max |diff| last"] = fmt(x["max_abs_diff_last"], ".1e")
        rows.append(row)
    return pd.DataFrame(rows)


def deployed_speedup_markdown(df: pd.DataFrame, paper_speedup: float | None = None,
                              paper_label: str = "the paper") -> str:
    """What the measurement says, beside the paper's number: the fastest variant's speed-up (last generation over
    the first, same engine, precision and input, batch 1), the FLOP ratio it is bounded by, and where the time of
    the last generation goes when the speed-up falls far short of that ratio."""
    r = ratios(df)
    r = r[r["batch_size"] == 1]
    if r.empty or r["speedup"].isna().all():
        return "No speed-up at batch 1 was measured for this run."
    best = r.loc[r["speedup"].idxmax()]
    text = (f"The largest measured speed-up, last generation over the first in the same engine, precision and input, "
            f"is **{best['speedup']:.2f}X** ({best['engine']} {best['dtype']} {best['layout']}, {best['input']})")
    if paper_speedup is not None:
        text += f", against {paper_speedup:.2f}X for {paper_label}"
    text += f"; the compacted network needs {best['flop_ratio']:.2f}X fewer FLOPs than the first generation's."
    split = time_split(best.to_frame().T)
    if len(split) and best["speedup"] < 0.5 * best["flop_ratio"]:
        t = split.iloc[0]
        text += (f" Where the time goes in that variant: the last generation takes {t['us_last']:.0f} µs per image; "
                 f"at the first generation's FLOP rate its FLOPs would take {t['us_flops']:.0f} µs, and the other "
                 f"{t['fixed_share']:.0%} of its time (per-layer dispatch, memory traffic) does not shrink with FLOPs.")
    return text


def plot_fps(ax, df: pd.DataFrame, input_size: str, batch_size: int = 1, paper: tuple | None = None) -> None:
    """fps per generation of every variant at one input size (log scale); ``paper``: ``(gens, fps, label)``."""
    part = df[(df["input"] == input_size) & (df["batch_size"] == batch_size)]
    for key, g in part.groupby(["engine", "dtype", "layout"], sort=False):
        g = g.sort_values("generation")
        ax.plot(g["generation"], g["fps"], "o-", label=" ".join(key))
    if paper is not None:
        ax.plot(paper[0], paper[1], "s--", color="black", label=paper[2])
    ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("frames per second")
    ax.set_title(f"Deployed: {input_size} input, batch {batch_size}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9, ncol=2)


def channels_table(df: pd.DataFrame) -> pd.DataFrame:
    """Kept output channels per layer of the deployed networks, first and last generation, per variant (the
    alignment a variant chose pads them up): where a speed-up falls short of the FLOP ratio, look here first."""
    first, last = df["generation"].min(), df["generation"].max()
    rows = []
    for key, g in df.groupby(["engine", "dtype", "layout"], sort=False):
        a, b = g[g["generation"] == first], g[g["generation"] == last]
        if len(a) and len(b):
            rows.append({"engine": key[0], "precision": key[1], "layout": key[2], "align": int(b["align"].iloc[0]),
                         "channels gen 1": a["channels"].iloc[0], "channels last": b["channels"].iloc[0]})
    return pd.DataFrame(rows)


def show_deployment(result: Published, kind: str, paper_speedup: float | None = None, paper_label: str = "paper",
                    runs_dir: str = RUNS) -> tuple[pd.DataFrame, dict] | None:
    """A page's deployment section: the speed-up table, what it says beside the paper, the channels and the protocol from the
    published ``deploy.csv``; or why there is none and the command. Returns the rows and metadata, if any."""
    deployed = load_deploy(result)
    if deployed is None:
        show(missing_markdown(result, runs_dir))
        return None
    df, meta = deployed
    run_id = result.provenance.get("run_id")
    if meta.get("run_id") != run_id:
        show(f"*The published `deploy.csv` was measured on run `{meta.get('run_id')}`, not on this run "
             f"(`{run_id}`), so it is not shown.* To measure this run: `{deploy_command(result, runs_dir)}`")
        return None
    show(deployed_speedup_table(df, paper_speedup, paper_label))
    show(deployed_speedup_markdown(df, paper_speedup, paper_label))
    show(channels_table(df))
    show(protocol_markdown(meta))
    return deployed
