"""Table 1's page beyond the paper: how the schedule was chosen (on validation data), and the baselines.

* :func:`selection_table` / :func:`chosen`: the candidate schedules of a run, each an evolution with
  ``validation: N`` training examples held out; the rule (stated before the runs, applied here by code): the
  highest generation-``g`` *validation* accuracy among candidates whose architectural efficiency reaches
  ``min_efficiency``; when none does, the highest efficiency. The test set plays no part in the choice.
* :func:`baseline_table` / :func:`plot_methods`: evolutionary synthesis beside the baselines at equal synapses
  (``core/baselines.py``), mean and spread over seeds per generation; :func:`structure_table`: what the same
  synapse count leaves as *structure* at the last generation (whole clusters gone, dense FLOPs of the compacted
  network, measured speed-up); :func:`verdict`: where evolutionary synthesis wins and where it does not.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .plots import plot_accuracy_vs_efficiency
from .results import Published


def _last(run: Published, generation: int | None = None) -> pd.Series:
    df = run.generations
    return df.iloc[-1] if generation is None else df[df["generation"] == generation].iloc[0]


def chosen(candidates: dict[str, Published], min_efficiency: float, generation: int | None = None) -> str:
    """The label of the chosen candidate (the rule in the module docstring)."""
    last = {k: _last(r, generation) for k, r in candidates.items()}
    reaching = [k for k, row in last.items() if row["architectural_efficiency"] >= min_efficiency]
    if reaching:
        return max(reaching, key=lambda k: last[k]["val_accuracy"])
    return max(last, key=lambda k: last[k]["architectural_efficiency"])


def selection_table(candidates: dict[str, Published], min_efficiency: float,
                    generation: int | None = None) -> pd.DataFrame:
    """One row per candidate: its schedule, generation-g efficiency and validation accuracy, and the choice."""
    pick = chosen(candidates, min_efficiency, generation)
    rows = []
    for label, run in candidates.items():
        row, c = _last(run, generation), run.config
        rows.append({"candidate": label, "first epochs": c.get("first_epochs"), "epochs / generation": c.get("epochs"),
                     "lr": c.get("lr"), "normaliser": f"{c.get('normaliser')} {c.get('quantile')}",
                     "generation": int(row["generation"]), "A-E": f"{row['architectural_efficiency']:.1f}X",
                     f"validation acc. ({c.get('validation')} held out)": f"{row['val_accuracy']:.4f}",
                     "chosen": "yes" if label == pick else ""})
    return pd.DataFrame(rows)


def _mean_std(runs: list[Published], column: str) -> pd.DataFrame:
    frames = [r.generations.set_index("generation")[column] for r in runs]
    both = pd.concat(frames, axis=1)
    return pd.DataFrame({"mean": both.mean(axis=1), "std": both.std(axis=1, ddof=1) if len(runs) > 1 else 0.0,
                         "n": both.count(axis=1)})


def baseline_table(methods: dict[str, list[Published]], generations: list[int] | None = None) -> pd.DataFrame:
    """Rows: generation; per method ``A-E`` and accuracy as mean +- std over its seeds."""
    out = {}
    for label, runs in methods.items():
        if not runs:
            continue
        ae, acc = _mean_std(runs, "architectural_efficiency"), _mean_std(runs, "accuracy")
        out[(label, "A-E")] = [f"{m:.1f}X" for m in ae["mean"]]
        out[(label, f"accuracy (n={len(runs)})")] = [
            f"{m:.4f} ± {s:.4f}" if len(runs) > 1 else f"{m:.4f}" for m, s in zip(acc["mean"], acc["std"])]
        index = ae.index
    table = pd.DataFrame(out, index=index)
    table.index.name = "generation"
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table.loc[generations] if generations else table


def plot_methods(ax, methods: dict[str, list[Published]], paper_dataset: str | None = None):
    """Accuracy vs architectural efficiency (log x) per method: mean over seeds, bars = one standard deviation."""
    for label, runs in methods.items():
        if not runs:
            continue
        ae, acc = _mean_std(runs, "architectural_efficiency"), _mean_std(runs, "accuracy")
        ax.errorbar(ae["mean"], acc["mean"], yerr=acc["std"], fmt="o-", capsize=3, label=f"{label} (n={len(runs)})")
    return plot_accuracy_vs_efficiency(ax, None, paper_dataset=paper_dataset)  # the paper's points, the axes


def training_speed_table(report: dict) -> pd.DataFrame:
    """``benchmarks/train_throughput.py --out``'s JSON as a table: images/s per model and variant, and the ratio."""
    rows = [{"model": r["model"], "training loop": r["variant"], "images/s": f"{r['images_per_s']:.0f}",
             "vs the fp32 loop before": f"{r['ratio_vs_legacy_fp32']:.2f}x"} for r in report["rows"]]
    return pd.DataFrame(rows)


def _structure(run: Published) -> dict[str, float]:
    """Last generation of one run: A-E, accuracy, cluster efficiency, dense-FLOP reduction of the compacted
    network (generation 1 / last), and the measured speed-up of the compacted network (``speed.csv``)."""
    df = run.generations.set_index("generation")
    first, last = df.index.min(), df.index.max()
    out = {"generation": int(last), "A-E": float(df.loc[last, "architectural_efficiency"]),
           "accuracy": float(df.loc[last, "accuracy"]), "E": float(df.loc[last, "cluster_efficiency"]),
           "FLOPs": float(df.loc[first, "flops_compact"] / df.loc[last, "flops_compact"])}
    s = run.speed
    if s is not None and {first, last} <= set(s["generation"]):
        s = s.set_index("generation")
        for b in (1, 64):
            out[f"b{b}"] = float(s.loc[last, f"fps_compact_b{b}"] / s.loc[first, f"fps_compact_b{b}"])
    return out


def structure_table(methods: dict[str, list[Published]]) -> pd.DataFrame:
    """One row per method at its last generation (mean over its seeds): A-E, accuracy, cluster efficiency E
    (Tables 2-3), how many times fewer dense FLOPs the compacted network needs than generation 1, and its
    measured speed-up over generation 1 (PyTorch eager, fp32, batch 1 and 64; ``speed.csv``)."""
    rows = []
    for label, runs in methods.items():
        if not runs:
            continue
        s = pd.DataFrame([_structure(r) for r in runs])
        mean = s.mean()
        acc = (f"{mean['accuracy']:.4f} ± {s['accuracy'].std(ddof=1):.4f}" if len(s) > 1
               else f"{mean['accuracy']:.4f}")
        speed = {f"speed-up, batch {b}": (f"{mean[f'b{b}']:.2f}x" if f"b{b}" in s and s[f"b{b}"].notna().all()
                                          else "not measured") for b in (1, 64)}
        rows.append({"method": label, "n": len(s), "generation": int(s["generation"].max()),
                     "A-E": f"{mean['A-E']:.1f}X", "accuracy": acc, "cluster efficiency E": f"{mean['E']:.2f}",
                     "fewer dense FLOPs (compacted)": f"{mean['FLOPs']:.2f}x", **speed})
    return pd.DataFrame(rows)


def timing_spread(methods: dict[str, list[Published]]) -> str:
    """How far apart the timings of *equal* work lie: every generation's masked network does the ancestor's dense
    work, so the spread of its fps (half the range over the median, largest over the runs) bounds the noise."""
    spread = {1: 0.0, 64: 0.0}
    for runs in methods.values():
        for run in runs:
            if (s := run.speed) is not None:
                for b in spread:
                    fps = s[f"fps_masked_b{b}"]
                    spread[b] = max(spread[b], (fps.max() - fps.min()) / 2 / fps.median())
    if not any(spread.values()):
        return "No speed measurements (speed.csv) for these runs."
    return (f"Timing noise: the masked networks (the ancestor's dense work, at every generation) measure within "
            f"±{100 * spread[1]:.0f}% of their median at batch 1 and ±{100 * spread[64]:.0f}% at batch 64 (the "
            f"widest of these runs); speed-ups inside that band are not evidence.")


def _direction(mean: float) -> str:
    """The word a mean difference (ours - theirs) earns: its sign, never contradicting it."""
    return "more accurate" if mean > 0 else "less accurate" if mean < 0 else "as accurate"


def verdict(methods: dict[str, list[Published]], ours: str = "evolutionary synthesis") -> str:
    """Where ``ours`` wins and where it does not: accuracy against each baseline run at *equal* synapses.

    A baseline run is paired with the run of ours whose synapse count it matches at every generation (its
    ``targets`` came from that run; the sentence names that run's seed and how many baseline runs it pairs);
    methods with their own counts are compared along the mean curves (:func:`_along_the_curves`).
    """
    lines = []
    for label, runs in methods.items():
        if label == ours or not runs:
            continue
        diffs, pairs, partner, gens = [], 0, None, []
        for run in runs:
            b = run.generations.set_index("generation")
            for mine in methods.get(ours, []):
                m = mine.generations.set_index("generation")
                if len(m) == len(b) and (m["synapses"] == b["synapses"]).all():
                    gens = [g for g in m.index if g > 1]
                    diffs += [float(m.loc[g, "accuracy"] - b.loc[g, "accuracy"]) for g in gens]
                    pairs += 1
                    partner = mine
                    break
        if not diffs:
            lines.append(_along_the_curves(label, runs, methods.get(ours, []), ours))
            continue
        m = partner.generations.set_index("generation")
        g = gens[-1]
        seed = partner.config.get("seed", "?")
        theirs = [float(r.generations.set_index("generation").loc[g, "accuracy"]) for r in runs
                  if len(r.generations) == len(m) and (r.generations["synapses"].to_numpy() == m["synapses"].to_numpy()).all()]
        mean = sum(diffs) / len(diffs)
        flops = (float(np.mean([r.generations.set_index("generation").loc[g, "flops_compact"] for r in runs]))
                 / m.loc[g, "flops_compact"] if "flops_compact" in m and all("flops_compact" in r.generations
                                                                             for r in runs) else None)
        their_text = (f"{np.mean(theirs):.4f} ± {np.std(theirs, ddof=1):.4f} (mean of its {len(theirs)} runs)"
                      if len(theirs) > 1 else f"{theirs[0]:.4f}")
        lines.append(
            f"- against {label} at equal synapses: {'its ' + str(pairs) + ' runs were' if pairs > 1 else 'its run was'}"
            f" pruned to the synapse counts of our seed-{seed} run and {'are' if pairs > 1 else 'is'} compared with "
            f"that run only. Over the {len(diffs)} generation pairs {ours} is {_direction(mean)} on average "
            f"({mean:+.4f}; {ours} more accurate in {sum(d > 0 for d in diffs)} of {len(diffs)} pairs, differences "
            f"from {min(diffs):+.4f} to {max(diffs):+.4f}). At generation {g} ({m.loc[g, 'architectural_efficiency']:.1f}X):"
            f" {ours}, seed {seed}, {m.loc[g, 'accuracy']:.4f}; {label} {their_text}"
            + (f"; compacted, its network needs {flops:.2f}x the dense FLOPs of ours." if flops else "."))
    return "\n".join(lines) or f"No baseline runs to compare with {ours}."


def _along_the_curves(label: str, runs: list[Published], mine: list[Published], ours: str) -> str:
    """A method with its own synapse counts, against ours along the mean curves (over seeds): how far each gets in
    the same generations, and ours' accuracy interpolated (linearly in log A-E) at each of its efficiencies."""
    if not mine:
        return f"- {label}: its own synapse counts; no run of {ours} to compare along."
    ae_b, acc_b = (_mean_std(runs, c)["mean"] for c in ("architectural_efficiency", "accuracy"))
    ae_m, acc_m = (_mean_std(mine, c)["mean"] for c in ("architectural_efficiency", "accuracy"))
    g = int(min(ae_b.index.max(), ae_m.index.max()))
    text = (f"- {label}: its own synapse counts. In the same {g} generations it reaches {ae_b[g]:.1f}X, "
            f"{ours} {ae_m[g]:.1f}X")
    inside = [h for h in ae_b.index if h > 1 and ae_m.min() <= ae_b[h] <= ae_m.max()]
    if not inside:
        return text + "; their efficiencies do not overlap beyond generation 1."
    x = np.log(ae_m.to_numpy(dtype=float))
    at = {h: float(np.interp(np.log(ae_b[h]), x, acc_m.to_numpy(dtype=float))) for h in inside}
    diffs = [at[h] - acc_b[h] for h in inside]
    h = inside[-1]
    mean = sum(diffs) / len(diffs)
    return (text + f". Along the curves, at its efficiencies, {ours} (interpolated in log A-E) is {_direction(mean)} "
            f"on average ({mean:+.4f}; more accurate at {sum(d > 0 for d in diffs)} of {len(diffs)} generations); at "
            f"its generation {h} ({ae_b[h]:.1f}X): {at[h]:.4f} against its {acc_b[h]:.4f} (means over seeds).")


def budget(run: Published) -> str:
    """What a run was trained on: images, epochs, precision, wall time and machine (the paper states none of these)."""
    c, p = run.config, run.provenance
    data = (f"a fixed subset of {c['train_subset']:,} training images" if c.get("train_subset")
            else "all training images") + (f", {c['test_subset']:,} test images" if c.get("test_subset")
                                           else ", the whole test set")
    wall = p.get("wall_time_s")
    env = p.get("run_environment") or {}
    cores, threads = env.get("cpu_count", "?"), p.get("run_settings", {}).get("threads", "?")
    return (f"Budget: {data}; {c.get('first_epochs')} epochs for the ancestor, {c.get('epochs')} per offspring; "
            f"precision {c.get('precision', 'fp32')}; "
            + (f"{wall / 3600:.2f} h of training and evaluation on {cores} CPU cores, {threads} "
               f"thread{'s' if threads != 1 else ''}." if wall else "wall time not recorded."))
