"""A reader's own check: re-compute a published run (or its first k generations) here, and judge the difference.

:func:`verify` reads a published folder (``results/<profile>/<name>/``: ``config.yaml``, ``generations.csv``,
``provenance.json``), runs the same configuration on this machine into a scratch run store (never into
``results/``), and compares the two, column by column and generation by generation (:func:`compare`).

How close "close" is depends on how this machine differs from the one that computed the published run
(:func:`relation`), because floating-point sums are ordered by the vector instruction set and the thread count:

* ``exact``: the same machine kind (architecture, CPU model, instruction set torch dispatches to, any cap on it,
  native bf16, torch release), thread count, device and arithmetic. Every number must be equal.
* ``same instruction set``: another CPU model or torch release, with the same instruction set, threads, device
  and arithmetic: the last bits of sums differ, not the decisions made from them.
* ``other instruction set or threads``: the last bits differ from the first step and can flip a synapse's draw,
  so masks differ from generation 2 on and the differences grow with generations.
* ``other arithmetic or unrecorded machine``: bf16 against fp32 training, or a published run that did not
  record its machine kind.

:data:`TOLERANCES` gives each tier's tolerance per kind of column (counts: relative; the task's metrics:
absolute; other floats: relative, with an absolute floor for values that are zero up to rounding). The
reproducibility page shows how they were measured. Timings and the commit are not compared.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import yaml

from ..config import EvolutionConfig
from ..locations import resolve
from ..tasks.training import resolve_device, training_arithmetic
from . import store
from .provenance import commit_label, machine_kind

NOT_COMPARED_SUFFIXES = ("_time_s", "_s")
NOT_COMPARED_PREFIXES = ("fps", "ms_", "latency")
NOT_COMPARED = ("commit", "generation")
METRICS = ("accuracy", "val_accuracy", "precision", "recall", "f1", "ap", "accuracy_fp16", "precision_fp16",
           "recall_fp16", "f1_fp16", "ap50")
ROUNDING_ABS = 1e-5  # a round-off measurement (column_kind "rounding"): at most this apart, whatever the tier
TIERS = ("exact", "same instruction set", "other instruction set or threads", "other arithmetic or unrecorded machine")


@dataclass(frozen=True)
class Tolerance:
    count_rel: float  # integer columns (synapses, clusters, FLOPs): relative difference
    metric_abs: float  # the task's metrics (accuracy, precision, recall): absolute difference
    float_rel: float  # other floats (losses, efficiencies, expected synapses): relative difference
    float_abs: float  # ... or at most this absolutely (values that are zero up to rounding)


TOLERANCES = {
    "exact": Tolerance(0.0, 0.0, 0.0, 0.0),
    # measured: another AVX-512 CPU (1 thread) differs by <= 1.1e-6 relative in 3 float columns, nothing else
    "same instruction set": Tolerance(0.0, 0.0, 1e-5, 1e-6),
    # measured on the reference run (3 generations): AVX2 instead of AVX-512 changes synapses by 0.04% (a layer's
    # by <= 0.25%) and accuracy by 0.001 (the reproducibility page shows it); 10x that, as the drift grows
    "other instruction set or threads": Tolerance(0.01, 0.01, 0.05, 1e-4),
    "other arithmetic or unrecorded machine": Tolerance(0.05, 0.03, 0.25, 1e-3),
}


def column_kind(name: str, dtype) -> str | None:
    """``count`` | ``metric`` | ``float`` | ``rounding``, or ``None`` for what is not compared (timings, the commit).

    ``rounding``: a column that measures round-off itself (``compact_max_abs_diff``: the largest difference between
    the masked and the compacted network's outputs, two computations of one function); how compaction orders its
    sums sets its last bits, so it is held to :data:`ROUNDING_ABS` in every tier, not to the tier's tolerance."""
    if name in NOT_COMPARED or name.endswith(NOT_COMPARED_SUFFIXES) or name.startswith(NOT_COMPARED_PREFIXES):
        return None
    if name.endswith("max_abs_diff"):
        return "rounding"
    if name in METRICS:
        return "metric"
    return "count" if pd.api.types.is_integer_dtype(dtype) else "float"


def relation(published: dict[str, Any], ours: dict[str, Any]) -> str:
    """The tier (:data:`TIERS`) of ``ours`` against ``published``: each a dict with ``kind`` (a
    :func:`~.provenance.machine_kind`, or ``None`` where the run did not record one), ``threads``, ``device`` and
    ``arithmetic``."""
    pk, ok = published.get("kind"), ours.get("kind")
    if pk is None or published.get("arithmetic") != ours.get("arithmetic"):
        return "other arithmetic or unrecorded machine"
    if (published.get("threads") != ours.get("threads") or published.get("device") != ours.get("device")
            or pk.get("machine") != ok.get("machine") or pk.get("capability") != ok.get("capability")
            or pk.get("isa_cap") != ok.get("isa_cap")):
        return "other instruction set or threads"
    return "exact" if pk == ok else "same instruction set"


def _within(kind: str, a: float, b: float, tol: Tolerance) -> tuple[float, float, bool]:
    """``(difference, allowed, within)``: the difference as the tolerance measures it (relative or absolute)."""
    if pd.isna(a) and pd.isna(b):
        return 0.0, 0.0, True
    if pd.isna(a) or pd.isna(b):
        return float("inf"), 0.0, False
    if kind == "metric":
        d = abs(a - b)
        return d, tol.metric_abs, d <= tol.metric_abs
    if kind == "rounding":
        d = abs(a - b)
        return d, ROUNDING_ABS, d <= ROUNDING_ABS
    rel = tol.count_rel if kind == "count" else tol.float_rel
    d = abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0
    return d, rel, d <= rel or (kind == "float" and abs(a - b) <= tol.float_abs)


@dataclass
class Verification:
    """The comparison of one re-computed run with its published numbers."""

    name: str
    tier: str
    columns: pd.DataFrame  # one row per compared column: kind, worst difference, where, allowed, within
    generations: pd.DataFrame  # per generation: published and recomputed values of the headline columns
    published_kind: dict[str, Any]
    our_kind: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Every number equal; a round-off measurement (kind ``rounding``) only within its bound."""
        c = self.columns
        return bool((c["difference"][c["kind"] != "rounding"] == 0).all()) and self.within

    @property
    def within(self) -> bool:
        return bool(self.columns["within"].all())

    @property
    def failures(self) -> pd.DataFrame:
        return self.columns[~self.columns["within"]]

    def verdict(self) -> str:
        if self.exact:
            return f"{self.name}: reproduced exactly"
        if self.within:
            return f"{self.name}: reproduced within the tolerance of this machine kind ({self.tier})"
        worst = "; ".join(f"{r.column} at generation {r.generation}: {r.published!r} published, {r.ours!r} here "
                          f"(difference {r.difference:.3g}, allowed {r.allowed:.3g})"
                          for r in self.failures.itertuples())
        return f"{self.name}: differs ({self.tier}): {worst}"

    def _repr_markdown_(self) -> str:
        return f"**{self.verdict()}**\n\n" + self.columns.to_markdown(index=False)


def compare(published: pd.DataFrame, ours: pd.DataFrame, tier: str, name: str = "run",
            published_kind: dict | None = None, our_kind: dict | None = None) -> Verification:
    """Compare ``ours`` with the first ``len(ours)`` generations of ``published`` under ``tier``'s tolerance."""
    tol = TOLERANCES[tier]
    published = published[published["generation"] <= int(ours["generation"].max())].reset_index(drop=True)
    if len(published) != len(ours):
        raise ValueError(f"{name}: {len(ours)} generations recomputed, {len(published)} published")
    rows = []
    for col in published.columns:
        kind = column_kind(col, published[col].dtype)
        if kind is None:
            continue
        if col not in ours:
            rows.append(dict(column=col, kind=kind, generation=1, published=published[col].iloc[0], ours=None,
                             difference=float("inf"), allowed=0.0, within=False))
            continue
        diffs = [_within(kind, float(a), float(b), tol) for a, b in zip(published[col], ours[col])]
        i = max(range(len(diffs)), key=lambda k: (not diffs[k][2], diffs[k][0]))
        d, allowed, _ = diffs[i]
        rows.append(dict(column=col, kind=kind, generation=int(published["generation"].iloc[i]),
                         published=published[col].iloc[i].item(), ours=ours[col].iloc[i].item(),
                         difference=d, allowed=allowed, within=all(x[2] for x in diffs)))
    headline = [c for c in ("synapses", "architectural_efficiency", "accuracy", "precision", "recall") if c in ours]
    per_gen = pd.DataFrame({"generation": published["generation"]})
    for c in headline:
        per_gen[f"{c} published"] = published[c]
        per_gen[f"{c} here"] = ours[c]
    return Verification(name, tier, pd.DataFrame(rows), per_gen, published_kind or {}, our_kind or {})


# ------------------------------------------------------------------------------------------ re-computing
def published_folder(target: str | os.PathLike, results_dir: Path, profile: str | None = None) -> Path:
    """A published folder from a path, ``<profile>/<name>``, or ``<name>`` under ``results/<profile>/``."""
    candidates = [Path(target), results_dir / str(target)]
    if profile:
        candidates.append(results_dir / profile / str(target))
    for c in candidates:
        if (c / store.CSV).is_file() and (c / store.CONFIG).is_file():
            return c
    raise FileNotFoundError(f"no published run at {target!r} (looked in {', '.join(str(c) for c in candidates)}: "
                            f"a folder with {store.CONFIG} and {store.CSV})")


def published_side(folder: Path) -> dict[str, Any]:
    """The published run's settings and machine kind, from its provenance (``None`` kind where not recorded)."""
    prov = json.loads((folder / "provenance.json").read_text()) if (folder / "provenance.json").is_file() else {}
    settings = prov.get("run_settings") or {}
    env = prov.get("run_environment") or {}
    config = yaml.safe_load((folder / store.CONFIG).read_text()) or {}
    # runs recorded before the arithmetic was: bf16 was refused where it was not fast, so the config says it
    return {"kind": env.get("kind"), "threads": settings.get("threads"), "device": settings.get("device"),
            "arithmetic": settings.get("arithmetic", config.get("precision", "fp32")),
            "wall_time_s": prov.get("wall_time_s"), "cpu": (env.get("kind") or {}).get("cpu") or env.get("processor")}


def estimate_seconds(folder: Path, generations: int) -> float | None:
    df = pd.read_csv(folder / store.CSV)
    if "wall_time_s" not in df:
        return None
    return float(df[df["generation"] <= generations]["wall_time_s"].sum())


def verify(target: str | os.PathLike, generations: int | None = None, runs_dir: str | os.PathLike | None = None,
           results_dir: str | os.PathLike = "results", profile: str | None = None, threads: int | None = None,
           progress: bool = True, say=print) -> Verification:
    """Re-compute the published run ``target`` (its first ``generations``; all by default) into ``runs_dir``
    (default: a scratch folder under the system's temporary directory) and compare it with the published numbers."""
    from .evolve import evolve  # the loop

    folder = published_folder(target, resolve(results_dir), profile)
    side = published_side(folder)
    config = EvolutionConfig.from_yaml(folder / store.CONFIG)
    published = pd.read_csv(folder / store.CSV)
    k = generations or int(published["generation"].max())
    if not 1 <= k <= int(published["generation"].max()):
        raise ValueError(f"invalid generations={k}: {folder} has generations 1..{int(published['generation'].max())}")
    threads = threads or side["threads"] or None
    config = config.replace(generations=k, threads=threads, data_dir=None)
    config.validate()
    device = resolve_device(config.settings.device)
    ours_side = {"kind": machine_kind(), "threads": threads or torch.get_num_threads(), "device": device.type,
                 "arithmetic": training_arithmetic(config.precision, device)[0]}
    tier = relation(side, ours_side)
    est = estimate_seconds(folder, k)
    say(f"verify {folder}: generations 1..{k}, {threads or 'default'} thread(s), {ours_side['arithmetic']}; "
        f"published on {side['cpu'] or 'an unrecorded CPU'} ({side['threads']} thread(s), {side['arithmetic']}); "
        f"tolerance: {tier}" + (f"; the published run took {est / 60:.1f} min for these generations" if est else ""))
    runs = Path(runs_dir) if runs_dir else Path(tempfile.gettempdir()) / "evosynth-verify"
    run_dir = evolve(config, runs, progress=progress)
    recorded = store.open_run(run_dir).settings
    ours_side.update(threads=recorded.get("threads"), arithmetic=recorded.get("arithmetic", ours_side["arithmetic"]))
    tier = relation(side, ours_side)
    ours = store.load_generations(run_dir)
    try:  # results/<profile>/<name>, as the book names it
        name = str(folder.resolve().relative_to(resolve(results_dir).resolve()))
    except ValueError:
        name = str(folder)
    v = compare(published, ours, tier, name=name, published_kind=side, our_kind=ours_side)
    v.extra = {"generations": k, "seed": config.seed, "run_id": config.run_id(), "run_dir": str(run_dir), "commit": commit_label(),
               "published_settings": {x: side[x] for x in ("threads", "device", "arithmetic")},
               "settings": {x: ours_side[x] for x in ("threads", "device", "arithmetic")}}
    return v


def save(v: Verification, out: str | os.PathLike) -> Path:
    """Publish a verification: ``verification.csv`` (per column) and ``verification.json`` (verdict, kinds)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    v.columns.to_csv(out / "verification.csv", index=False)
    v.generations.to_csv(out / "generations.csv", index=False)
    doc = {"name": v.name, "tier": v.tier, "verdict": v.verdict(), "exact": v.exact, "within": v.within,
           "published": v.published_kind, "here": v.our_kind, **v.extra}
    (out / "verification.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return out
