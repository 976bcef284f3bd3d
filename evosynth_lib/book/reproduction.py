"""What a re-run on another machine gives: the arithmetic of each published run, the published verifications
(``evosynth verify``, ``run/verify.py``), and the same runs re-computed in the other arithmetic."""
from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd

from .paths import RESULTS, resolve
from .results import NotRun, load_published


def arithmetic_of(provenance: dict[str, Any], config: dict[str, Any]) -> str:
    """The arithmetic that trained a published run: recorded in its settings, else (runs published before it was
    recorded) its configuration's, which was refused then where the device did not run it fast."""
    return (provenance.get("run_settings") or {}).get("arithmetic") or config.get("precision", "fp32")


def machine_label(provenance: dict[str, Any]) -> str:
    kind = (provenance.get("run_environment") or {}).get("kind")
    if not kind:
        return "not recorded"
    cap = f", capped: {', '.join(f'{k}={v}' for k, v in kind['isa_cap'].items())}" if kind.get("isa_cap") else ""
    return f"{kind['cpu']} ({kind['capability']}{cap}; torch {kind['torch']})"


def environment_table(env: dict[str, Any]) -> pd.DataFrame:
    """The machine and library versions of a build, as a two-column table (not a JSON dump)."""
    kind = env.get("kind") or {}
    rows = [("Python", env.get("python")), ("torch", env.get("torch")), ("torchvision", env.get("torchvision")),
            ("Platform", env.get("platform")), ("CPU", kind.get("cpu") or env.get("processor")),
            ("Instruction set torch uses", kind.get("capability")),
            ("Native bf16", {True: "yes", False: "no"}.get(kind.get("native_bf16"))),
            ("Cores", env.get("cpu_count")), ("GPU", env.get("gpu") or "none")]
    return pd.DataFrame([(k, v) for k, v in rows if v is not None], columns=["", "This build"])


def arithmetic_table(profile: str, results_dir: str | os.PathLike = RESULTS) -> pd.DataFrame:
    """Per published run of ``profile``: the arithmetic it trained in, its thread count and machine kind."""
    root = resolve(results_dir) / profile
    rows = []
    for d in sorted({p.parent for p in root.rglob("generations.csv")} - {p.parent for p in root.rglob("verification.json")}):
        found = load_published(profile, str(d.relative_to(root)), results_dir)
        if isinstance(found, NotRun) or not found.config:
            continue
        p = found.provenance
        rows.append({"Run": found.name, "Training arithmetic": arithmetic_of(p, found.config),
                     "Threads": (p.get("run_settings") or {}).get("threads"), "Machine kind": machine_label(p)})
    return pd.DataFrame(rows)


def published_verifications(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Every ``verification.json`` under ``folder`` with its per-column table (``columns``)."""
    out = []
    for path in sorted(resolve(folder).rglob("verification.json")):
        doc = json.loads(path.read_text())
        doc["columns"] = pd.read_csv(path.with_name("verification.csv"))
        doc["per_generation"] = pd.read_csv(path.with_name("generations.csv"))
        doc["label"] = path.parent.parent.name
        out.append(doc)
    return out


def verification_summary(docs: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per published verification: where it ran, how that machine differs, the verdict, and the columns
    that were not bit-identical."""
    rows = []
    for d in docs:
        cols = d["columns"]
        differing = cols[cols["difference"] > 0]
        decisive = differing[differing["kind"].isin(["count", "metric"])]  # not float noise in check columns
        here = d["here"]["kind"] or {}
        cap = ", ".join(f"{k}={v}" for k, v in (here.get("isa_cap") or {}).items())
        rows.append({"Computed on": f"{here.get('cpu')} ({here.get('capability')}{'; ' + cap if cap else ''})",
                     "Threads": d["here"].get("threads"), "Tolerance": d["tier"],
                     "Columns not bit-identical": f"{len(differing)} of {len(cols)}",
                     "Largest change of a count or metric": (
                         f"{decisive.iloc[decisive['difference'].argmax()]['column']}: "
                         f"{decisive['difference'].max():.2g}" if len(decisive) else "none"),
                     "Verdict": d["verdict"].split(": ", 1)[-1]})
    return pd.DataFrame(rows)


def arithmetic_comparison(docs: list[dict[str, Any]]) -> pd.DataFrame:
    """Published runs re-computed in another arithmetic, per generation over their seeds: the synapses and the
    accuracy in each (means), and the change (mean, with the smallest and largest over the seeds)."""
    frames = []
    for d in docs:
        g = d["per_generation"].copy()
        g["seed"] = d.get("seed", d["name"])
        frames.append(g)
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames)
    df["syn"] = 100 * (df["synapses here"] / df["synapses published"] - 1)
    df["acc"] = df["accuracy here"] - df["accuracy published"]
    pub, here = (docs[0].get("published_settings", {}).get("arithmetic", "published"),
                 docs[0].get("settings", {}).get("arithmetic", "here"))
    rows = []
    for g, s in df.groupby("generation"):
        rows.append({"Generation": int(g),
                     f"Synapses, {pub}": f"{s['synapses published'].mean():,.0f}",
                     f"Synapses, {here}": f"{s['synapses here'].mean():,.0f}",
                     "Synapse change": f"{s['syn'].mean():+.1f}% ({s['syn'].min():+.1f} to {s['syn'].max():+.1f})",
                     f"Accuracy, {pub}": f"{s['accuracy published'].mean():.4f}",
                     f"Accuracy, {here}": f"{s['accuracy here'].mean():.4f}",
                     "Accuracy change": f"{s['acc'].mean():+.4f} ({s['acc'].min():+.4f} to {s['acc'].max():+.4f})"})
    return pd.DataFrame(rows)
