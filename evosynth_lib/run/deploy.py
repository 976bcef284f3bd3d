"""Deployment speed of a run's generations, measured as users deploy (a measurement: run it on a quiet machine).

    python -m evosynth_lib.run.deploy runs/<run id> --out results/<profile>/<name>      # every generation
    python -m evosynth_lib.run.deploy runs/<run id> --out ... --generations ends --eval-limit 2000

(``runs/<run id>``: the run folder with the checkpoints, ``EvolutionConfig.from_yaml(results/<profile>/<name>/
config.yaml).run_id()``; ``benchmarks/deploy.py`` wraps this and prints the ratios.) :func:`deploy_run` writes:

* ``<out>/deploy.csv``: one row per generation x engine x dtype x layout x batch size x input size, columns
  ``generation, engine, dtype, layout, batch_size, input, threads, fps, ms_iqr, flops, max_abs_diff``, the
  task's metrics for that deployed variant (``accuracy``, or ``precision`` and ``recall``; evaluated at the
  training input size on ``eval_examples`` test examples, NaN for generations not evaluated), then ``ms``
  (median), ``align``, ``channels`` (kept output channels per layer), ``precision_used`` (what the engine says it
  computes in), ``eval_examples``, ``eval_input``;
* ``<out>/deploy.json``: the protocol, the device's features and which half precisions they allowed, each
  variant's alignment trials, the files;
* ``<out>/deploy/genNN.onnx`` for the first and the last generation (``genNN.npz``: an input and the masked
  float32 network's output for it; ``manifest.json``), which ``benchmarks/deploy.py <out>/deploy`` re-measures
  on any machine without the checkpoints.

Protocol: each generation's checkpoint is loaded, its masks applied (the *masked fp32 network*, the reference
for ``max_abs_diff``), compacted (``core.compaction.compact`` with the variant's ``align``) and run through each
variant of :func:`~evosynth_lib.run.engines.plan_variants`; timed by :func:`~evosynth_lib.speed.protocol.time_passes`
(``warmup`` untimed then ``repetitions`` timed passes of one fixed input, already in the engine's dtype and
layout: median and inter-quartile range), ``threads`` intra-op threads (PyTorch, ONNX Runtime, OpenVINO alike).
``flops``: one image through the deployed network.
``align="auto"``: per variant, the last generation is timed compacted at each of ``align_candidates`` and the
fastest is used for every generation. Detection is measured at its training size and at a camera frame
(:data:`CAMERA_HW`, 480x640 VGA; Penn-Fudan photos are about 300-560 px a side): DetectNet is fully
convolutional.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..config import EvolutionConfig
from ..core.compaction import compact, count_flops
from ..core.masks import apply_masks, prunable_modules
from ..speed.protocol import REPETITIONS, WARMUP, time_passes
from ..tasks import build_model_for, make_task
from ..tasks.detection.boxes import standardise
from ..tasks.hardware import torch_threads
from . import store
from .deploy_eval import evaluate_through, metric_columns
from .engines import Variant, device_features, plan_variants, prepare
from .export import export_onnx, store_weights_fp16, write_exports
from .provenance import git_state

CAMERA_HW = (480, 640)
DEPLOY_CSV, DEPLOY_JSON, FILES_DIR = "deploy.csv", "deploy.json", "deploy"
FP16_FILE_BYTES = 8_000_000  # a file larger than this stores its weights as float16


def example(shape: tuple[int, ...], batch: int, detection: bool) -> torch.Tensor:
    """The fixed timed input: a standardised random image (detection) or a normal sample (classification)."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, *shape, generator=g) if detection else torch.randn(1, *shape, generator=g)
    return (standardise(x) if detection else x).expand(batch, *shape).contiguous()


def input_shapes(config: EvolutionConfig, sizes=None) -> list[tuple[int, int, int]]:
    """Inputs measured: the training shape, plus :data:`CAMERA_HW` for detection (or ``sizes``: ``[(H, W)]``)."""
    _, shape = build_model_for(config)
    if sizes is not None:
        if config.task != "detection" and any(tuple(s) != tuple(shape[1:]) for s in sizes):
            raise ValueError(f"a classifier reads {shape[1]}x{shape[2]} only")
        return [(shape[0], int(h), int(w)) for h, w in sizes]
    return [tuple(shape)] + ([(shape[0], *CAMERA_HW)] if config.task == "detection" else [])


class Networks:
    """Each generation's masked network and its compacted (aligned) versions, exported to ONNX on demand."""

    def __init__(self, run, config: EvolutionConfig, workdir: Path):
        self.run, self.config, self.workdir = run, config, workdir
        self.detection = config.task == "detection"
        self._masked, self._compact = {}, {}

    def masked(self, g: int):
        if g not in self._masked:
            model, _ = build_model_for(self.config)
            ckpt = store.load_checkpoint(self.run.path, g, self.run)
            model.load_state_dict(ckpt["model"])
            apply_masks(model, ckpt["masks"])
            self._masked = {g: (model.eval(), ckpt["masks"])}  # one generation at a time in memory
        return self._masked[g]

    def compact(self, g: int, align: int):
        if (g, align) not in self._compact:
            model, masks = self.masked(g)
            net = compact(model, masks, align=align)
            _, shape = build_model_for(self.config)
            path = export_onnx(net, example(shape, 1, self.detection), self.workdir / f"g{g}-a{align}.onnx",
                               dynamic_hw=self.detection)
            self._compact = {k: v for k, v in self._compact.items() if k[0] == g}
            self._compact[(g, align)] = (net, path)
        return self._compact[(g, align)]


def channels(net) -> str:
    return "-".join(str(m.weight.shape[0]) for m in prunable_modules(net).values())


def choose_alignment(nets: Networks, v: Variant, g: int, shape, candidates, threads: int, warmup: int,
                     repetitions: int) -> tuple[int, dict[int, float]]:
    """The fastest of ``candidates`` for ``v`` on generation ``g`` (median ms at batch 1 for each)."""
    trials = {}
    x = example(shape, 1, nets.detection)
    for a in candidates:
        net, path = nets.compact(g, a)
        trials[a] = time_passes(prepare(v, net, path, (1, *shape), threads).timed(x), warmup,
                                repetitions)["ms_median"]
    return min(trials, key=trials.get), trials


def deploy_run(run_dir, out_dir=None, generations="all", engines=None, half: str = "auto", batch_sizes=(1,),
               input_sizes=None, threads: int = 1, warmup: int = WARMUP, repetitions: int = REPETITIONS, align="auto",
               align_candidates=(1, 8, 16), evaluate: str = "all", eval_limit: int | None = None,
               eval_batch_size: int = 50, eval_threads: int | None = None, files: bool = True,
               progress: bool = True) -> pd.DataFrame:
    """Measure every deployed variant of the run's ``generations`` (``all``, ``ends`` or a list); the module
    docstring says what is written to ``out_dir`` (nothing when ``None``) and how it is measured.
    ``evaluate``: ``all``, ``ends`` (first and last generation) or ``none``; ``eval_limit``: test examples."""
    run = store.open_run(run_dir)
    config = EvolutionConfig.from_yaml(run.path / store.CONFIG)
    done = [int(e["generation"]) for e in run.finished]
    gens = {"all": done, "ends": sorted({done[0], done[-1]})}.get(generations) if isinstance(generations, str) \
        else [int(g) for g in generations]
    if gens is None or not gens or not set(gens) <= set(done):
        raise ValueError(f"generations {generations!r}: the run has finished {done}")
    features = device_features()
    variants, half_reasons = plan_variants(features, engines, half)
    shapes = input_shapes(config, input_sizes)
    detection = config.task == "detection"
    evaluated = {"all": gens, "ends": [gens[0], gens[-1]], "none": []}[evaluate]
    task = make_task(config, "cpu") if evaluated else None
    metrics = metric_columns(config.task)
    rows, alignment, t0 = [], {}, time.time()
    with tempfile.TemporaryDirectory() as tmp, torch_threads(threads):
        nets = Networks(run, config, Path(tmp))
        for v in variants:
            if align == "auto":
                best, trials = choose_alignment(nets, v, gens[-1], shapes[0], align_candidates, threads, warmup,
                                                max(5, repetitions // 2))  # choosing: half the passes
            else:
                best, trials = int(align), {}
            alignment[v.key] = {"chosen": best, "ms": trials}
        for g in gens:
            masked, _ = nets.masked(g)
            for v in variants:
                a = alignment[v.key]["chosen"]
                net, path = nets.compact(g, a)
                scores = {m: float("nan") for m in metrics} | {"eval_examples": 0}
                if g in evaluated:
                    with torch_threads(eval_threads):  # None: the measurement's threads
                        r = prepare(v, net, path, (eval_batch_size, *shapes[0]), eval_threads or threads)
                        scores.update(evaluate_through(task, r, eval_batch_size, eval_limit))
                for shape in shapes:
                    flops = count_flops(net, example(shape, 1, detection))
                    for b in batch_sizes:
                        x = example(shape, b, detection)
                        with torch.inference_mode():
                            ref = masked(x)
                        r = prepare(v, net, path, (b, *shape), threads)
                        t = time_passes(r.timed(x), warmup, repetitions)
                        rows.append({"generation": g, "engine": v.engine, "dtype": v.dtype, "layout": v.layout,
                                     "batch_size": b, "input": f"{shape[1]}x{shape[2]}", "threads": threads,
                                     "fps": b / (t["ms_median"] / 1e3), "ms_iqr": t["ms_iqr"], "flops": flops,
                                     "max_abs_diff": float((r(x) - ref).abs().max()),
                                     **{m: scores[m] for m in metrics}, "ms": t["ms_median"], "align": a,
                                     "channels": channels(net), "precision_used": r.dtype_used,
                                     "eval_examples": scores["eval_examples"],
                                     "eval_input": f"{shapes[0][1]}x{shapes[0][2]}"})
                if progress:
                    last = rows[-1]
                    print(f"gen {g:>2} {v.key:<32} align {a:>2}: {last['fps']:8.1f} fps ({last['input']}, batch "
                          f"{last['batch_size']}), max |diff| {last['max_abs_diff']:.2e}, "
                          + ", ".join(f"{m} {scores[m]:.4f}" for m in metrics), flush=True)
        exported = export_files(nets, [gens[0], gens[-1]], _files_align(alignment), Path(out_dir) / FILES_DIR) \
            if files and out_dir is not None else []
    df = pd.DataFrame(rows)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / DEPLOY_CSV, index=False)
        meta = {"run_id": config.run_id(), "run_dir": str(run.path), "task": config.task,
                "dataset": config.dataset, "features": features,
                "half_precision": half_reasons, "variants": [v.key for v in variants], "alignment": alignment,
                "protocol": {"threads": threads, "warmup": warmup, "repetitions": repetitions, "statistic":
                             "median of repetitions timed alone (time.perf_counter); ms_iqr their inter-quartile "
                             "range", "input": "one fixed input already in the engine's dtype and layout",
                             "batch_sizes": list(batch_sizes), "inputs": [f"{s[1]}x{s[2]}" for s in shapes],
                             "camera_frame": f"{CAMERA_HW[0]}x{CAMERA_HW[1]}"
                             if (3, *CAMERA_HW) in shapes else None},
                "evaluation": {"generations": evaluated, "limit": eval_limit, "batch_size": eval_batch_size,
                               "input": f"{shapes[0][1]}x{shapes[0][2]}", "threads": eval_threads},
                "files": exported, "seconds": round(time.time() - t0, 1),
                "date": time.strftime("%Y-%m-%d %H:%M:%S"), **git_state(), "command": " ".join(sys.argv)}
        (out / DEPLOY_JSON).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return df


def _files_align(alignment: dict) -> int:
    """The alignment of the published files: the one chosen for the fastest ONNX variant (1 if none)."""
    onnx = {k: v for k, v in alignment.items() if not k.startswith("pytorch") and v["ms"]}
    if not onnx:
        return next((v["chosen"] for k, v in alignment.items() if not k.startswith("pytorch")), 1)
    best = min(onnx, key=lambda k: onnx[k]["ms"][onnx[k]["chosen"]])
    return onnx[best]["chosen"]


def export_files(nets: Networks, gens, align: int, folder: Path) -> list[dict]:
    """``genNN.onnx`` (+ ``genNN.npz`` input and reference output, ``manifest.json``) for ``gens``."""
    folder.mkdir(parents=True, exist_ok=True)
    _, shape = build_model_for(nets.config)
    x = example(shape, 1, nets.detection)
    entries = []
    for g in sorted(set(gens)):
        masked, _ = nets.masked(g)
        net, _ = nets.compact(g, align)
        path = export_onnx(net, x, folder / f"gen{g:02d}.onnx", dynamic_hw=nets.detection)
        weights = "float32"
        if nets.config.fp16 or path.stat().st_size > FP16_FILE_BYTES:
            weights = "float16 (lossless)" if store_weights_fp16(path) else "float16"
        with torch.inference_mode():
            np.savez_compressed(folder / f"gen{g:02d}.npz", input=x.numpy(), output=masked(x).numpy())
        entries.append({"generation": g, "onnx": path.name, "check": f"gen{g:02d}.npz", "align": align,
                        "input_shape": [1, *shape], "dynamic_hw": nets.detection, "weights": weights,
                        "bytes": path.stat().st_size, "flops": count_flops(net, x), "channels": channels(net)})
    manifest = {"run_id": nets.config.run_id(), "task": nets.config.task, "dataset": nets.config.dataset,
                "camera_hw": list(CAMERA_HW) if nets.detection else None, "files": entries}
    write_exports(folder, manifest)
    return entries


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Deployment speed of a run's generations (writes deploy.csv).")
    p.add_argument("run_dir")
    p.add_argument("--out", required=True, help="results/<profile>/<name>: where deploy.csv and deploy/ go")
    p.add_argument("--generations", default="all", help="all | ends | comma-separated list")
    p.add_argument("--engines", nargs="*", default=None)
    p.add_argument("--half", default="auto", choices=["auto", "all", "none"])
    p.add_argument("--batch-sizes", nargs="*", type=int, default=[1])
    p.add_argument("--input-sizes", nargs="*", default=None, help="HxW, e.g. 160x160 480x640")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=WARMUP)
    p.add_argument("--repetitions", type=int, default=REPETITIONS)
    p.add_argument("--align", default="auto", help="auto | a fixed multiple (1 = no alignment)")
    p.add_argument("--evaluate", default="all", choices=["all", "ends", "none"])
    p.add_argument("--eval-limit", type=int, default=None)
    p.add_argument("--eval-threads", type=int, default=None)
    a = p.parse_args(argv)
    gens = a.generations if a.generations in ("all", "ends") else [int(g) for g in a.generations.split(",")]
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.input_sizes] if a.input_sizes else None
    deploy_run(a.run_dir, a.out, gens, a.engines, a.half, tuple(a.batch_sizes), sizes, a.threads, a.warmup,
               a.repetitions, a.align if a.align == "auto" else int(a.align), evaluate=a.evaluate,
               eval_limit=a.eval_limit, eval_threads=a.eval_threads)


if __name__ == "__main__":
    main()
