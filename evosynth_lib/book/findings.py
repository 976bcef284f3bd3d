"""What the book found, claim by claim: each claim of the two papers with our number (mean ± standard deviation over
seeds) beside the paper's, and a verdict computed from the published results by a rule stated with it.

The verdicts are *reproduced*, *not reproduced* or *not testable here*. One tolerance per claim
(:data:`TOLERANCE`), stated once on the landing page; the pages that judge the same claim read it from here.
``python -m evosynth_lib.book`` writes :func:`findings_markdown` and :func:`plot_findings` into
``book/_generated/`` (through :func:`.status.write_status`), where the landing page includes them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import seeds
from .names import display_name
from .paper import PARSE27K, TABLE1, TABLE2_3
from .results import NotRun, Published, load_published

REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE = "reproduced", "not reproduced", "not testable here"
# one tolerance per claim (the landing page states each once)
TOLERANCE = {
    "accuracy": 0.005,  # accuracy drop from generation 1 at equal efficiency: ours at most the paper's + this
    "clusters": 0.10,  # cluster efficiency E: ours at least (1 - this) x the paper's, at no higher efficiency
    "synapses": 0.20,  # paper 2's ten-fold: ours within this fraction of it
    "speed": 0.50,  # paper 2's speed-up (7 -> 37 fps): ours at least (1 - this) x the paper's
    "retained": 0.05,  # paper 2's "precision and recall retained": neither mean change below -this
}


@dataclass
class Finding:
    paper: str  # "1" or "2"
    claim: str
    paper_value: str
    ours: str
    verdict: str
    note: str = ""


def _runs(profile: str, names: list[str], results_dir) -> tuple[list[Published], NotRun | None]:
    found = [load_published(profile, n, results_dir) for n in names]
    return seeds.loaded(found), next((f for f in found if isinstance(f, NotRun)), None) if found else None


def _paper_drop_at(dataset: str, efficiency: float) -> float:
    """The paper's accuracy drop from its generation 1, interpolated in log A-E on its Table 1 rows."""
    import pandas as pd

    rows = pd.DataFrame(TABLE1[dataset], columns=["generation", "architectural_efficiency", "accuracy"])
    return TABLE1[dataset][0][2] - seeds.interpolate(rows, efficiency, "accuracy")


def accuracy_finding(dataset: str, runs: list[Published], missing: NotRun | None) -> Finding:
    """Table 1's last row: its efficiency for its accuracy drop. Compared at equal efficiency: the paper's last
    A-E, or the furthest every seed of ours reached if less; ours' drop (generation 1 minus the accuracy interpolated
    in log A-E, per seed) is reproduced when its mean is at most the paper's drop + ``TOLERANCE['accuracy']``."""
    gen, ae, acc = TABLE1[dataset][-1]
    drop = TABLE1[dataset][0][2] - acc
    claim = f"{display_name(dataset)}: {ae:.3g}X fewer synapses after {gen} generations, accuracy drop {drop:.4f}"
    paper_value = f"{ae:.2f}X, {TABLE1[dataset][0][2]:.4f} -> {acc:.4f}"
    if not runs:
        return Finding("1", claim, paper_value, "no results", NOT_TESTABLE, missing.reason if missing else "")
    reach = min(float(seeds.frame(r)["architectural_efficiency"].max()) for r in runs)
    at = min(ae, reach)
    drops = [float(seeds.frame(r)["accuracy"].iloc[0]) - seeds.interpolate(seeds.frame(r), at, "accuracy")
             for r in runs]
    paper_drop = _paper_drop_at(dataset, at)
    mean = seeds.mean_sd(drops)[0]
    verdict = REPRODUCED if mean <= paper_drop + TOLERANCE["accuracy"] else NOT_REPRODUCED
    last = seeds.values_at(runs, gen, "architectural_efficiency")
    ours = f"drop {seeds.mean_text(drops)} at {at:.2f}X"
    note = (f"compared at equal efficiency, where the paper's drop is {paper_drop:.4f}"
            + (f"; ours reach {seeds.mean_text(last, '.1f', 'X', count=False)} at generation {gen}" if last else "")
            + (f"; the paper's {ae:.2f}X is beyond our {len(seeds.frame(runs[0]))} generations" if reach < ae else ""))
    return Finding("1", claim, paper_value, ours, verdict, note)


def cluster_finding(dataset: str, runs: list[Published], missing: NotRun | None) -> Finding:
    """Tables 2-3: E at the last reported generation, as the paper defines it (mean of per-layer values). Ours at
    the paper's efficiency (interpolated in log-log), or at our last generation when that is less efficient (E only
    grows with pruning, so ours at a lower efficiency can only understate it); reproduced when the mean is at least
    (1 - ``TOLERANCE['clusters']``) x the paper's."""
    last = max(TABLE2_3[dataset])
    e = TABLE2_3[dataset][last]["E"]
    ae = {g: a for g, a, _ in TABLE1[dataset]}[last]
    claim = f"{display_name(dataset)}: {e:.3g}X fewer live kernels (E) at generation {last}"
    paper_value = f"E {e:.2f}X at {ae:.2f}X"
    if not runs:
        return Finding("1", claim, paper_value, "no results", NOT_TESTABLE, missing.reason if missing else "")
    reach = min(float(seeds.frame(r)["architectural_efficiency"].max()) for r in runs)
    at = min(ae, reach)
    vals = seeds.at_efficiency(runs, at, "paper_E", log_value=True)
    if not vals:
        return Finding("1", claim, paper_value, "no per-layer cluster counts", NOT_TESTABLE, "")
    verdict = REPRODUCED if seeds.mean_sd(vals)[0] >= (1 - TOLERANCE["clusters"]) * e else NOT_REPRODUCED
    pooled = seeds.values_at(runs, int(seeds.frame(runs[0])["generation"].max()), "cluster_efficiency")
    return Finding("1", claim, paper_value, f"E {seeds.mean_text(vals, '.2f', 'X')} at {at:.2f}X", verdict,
                   f"E as the paper computes it (mean of the per-layer values); pooled over all kernels, ours is "
                   f"{seeds.mean_text(pooled, '.2f', 'X', count=False)} at our last generation")


def gpu_finding(mnist: list[Published]) -> Finding:
    """The paper's "near 9.7-fold potential speed-up on embedded GPUs": no embedded GPU here; what our CPU measures."""
    speed = [r.speed for r in mnist if r.speed is not None]
    b1 = [float(s["speedup_compact_b1"].iloc[-1]) for s in speed if "speedup_compact_b1" in s]
    b64 = [float(s["speedup_compact_b64"].iloc[-1]) for s in speed if "speedup_compact_b64" in s]
    ours = (f"CPU, compacted network: {seeds.mean_text(b1, '.2f', 'X', count=False)} at batch 1, "
            f"{seeds.mean_text(b64, '.2f', 'X')} at batch 64" if b1 and b64 else "not measured")
    return Finding("1", "MNIST: a potential speed-up near 9.7-fold on embedded GPUs", "9.7X (potential, from E)",
                   ours, NOT_TESTABLE, "no embedded GPU here; the CPU numbers are the generation-13 network's measured "
                   "speed-up over generation 1 (PyTorch eager, one thread), a different device")


def _deployed_note(run: Published) -> str:
    from .granularities import summary

    s = summary(run)
    if math.isnan(s["speedup"]):
        return ""
    return (f"; the fastest deployed engine (seed {run.config.get('seed', 0)}, Parse-27k page) reaches "
            f"{s['speedup']:.2f}X ({s['speedup_variant']})")


def paper2_findings(runs: list[Published], missing: NotRun | None) -> list[Finding]:
    """Paper 2 on our stand-in: ten-fold fewer synapses, 7 -> 37 fps, precision and recall retained, and their
    direction (+2 % precision, -2 % recall). Mean over the seeds of the detector run."""
    ref = PARSE27K
    runs = [r for r in runs if {"precision", "recall", "synapses"} <= set(r.generations.columns)]
    claims = [("ten-fold fewer synapses in 13 generations", f"about {ref['synapse_reduction']:.0f}X"),
              (f"inference {ref['fps_first']:.0f} -> {ref['fps_last']:.0f} fps",
               f"{ref['fps_last'] / ref['fps_first']:.2f}X ({ref['hardware']})"),
              ("precision and recall retained", "largely consistent over 13 generations"),
              ("precision up about 2 %, recall down about 2 %",
               f"{ref['precision_change']:+.2f} / {ref['recall_change']:+.2f}")]
    if not runs:
        return [Finding("2", c, p, "no results", NOT_TESTABLE, missing.reason if missing else "") for c, p in claims]
    stand_in = display_name(runs[0].dataset)
    frames = [seeds.frame(r) for r in runs]
    red = [float(f["synapses"].iloc[0] / f["synapses"].iloc[-1]) for f in frames]
    dp = [float(f["precision"].iloc[-1] - f["precision"].iloc[0]) for f in frames]
    dr = [float(f["recall"].iloc[-1] - f["recall"].iloc[0]) for f in frames]
    cap = runs[0].config.get("cap")
    out = [Finding("2", claims[0][0], claims[0][1], f"{seeds.mean_text(red, '.2f', 'X')}",
                   REPRODUCED if abs(seeds.mean_sd(red)[0] / ref["synapse_reduction"] - 1) <= TOLERANCE["synapses"]
                   else NOT_REPRODUCED,
                   f"by construction: our environment keeps at most {cap} of the parent's synapses, the rate that "
                   f"ten-fold in 13 generations implies; on {stand_in}, not Parse-27k")]
    speed = [r.speed for r in runs if r.speed is not None and "speedup_compact_b1" in r.speed]
    paper_speedup = ref["fps_last"] / ref["fps_first"]
    if speed:
        s = [float(x["speedup_compact_b1"].iloc[-1]) for x in speed]
        out.append(Finding("2", claims[1][0], claims[1][1], f"{seeds.mean_text(s, '.2f', 'X')} (CPU, PyTorch eager)",
                           REPRODUCED if seeds.mean_sd(s)[0] >= (1 - TOLERANCE["speed"]) * paper_speedup
                           else NOT_REPRODUCED,
                           "measured on our CPU, not a Jetson TX1" + _deployed_note(runs[0])))
    else:
        out.append(Finding("2", claims[1][0], claims[1][1], "not measured", NOT_TESTABLE, ""))
    retained = seeds.mean_sd(dp)[0] >= -TOLERANCE["retained"] and seeds.mean_sd(dr)[0] >= -TOLERANCE["retained"]
    out.append(Finding("2", claims[2][0], claims[2][1],
                       f"precision {seeds.mean_text(dp, '+.3f', count=False)}, recall {seeds.mean_text(dr, '+.3f')}",
                       REPRODUCED if retained else NOT_REPRODUCED, f"changes from generation 1 to 13 on {stand_in}"))
    same = (math.copysign(1, seeds.mean_sd(dp)[0]) == math.copysign(1, ref["precision_change"])
            and math.copysign(1, seeds.mean_sd(dr)[0]) == math.copysign(1, ref["recall_change"]))
    noisy = any(abs(seeds.mean_sd(v)[0]) < seeds.mean_sd(v)[1] for v in (dp, dr) if len(v) > 1)
    out.append(Finding("2", claims[3][0], claims[3][1],
                       f"{seeds.mean_sd(dp)[0]:+.3f} / {seeds.mean_sd(dr)[0]:+.3f} (means)",
                       REPRODUCED if same else NOT_REPRODUCED,
                       "the direction of both changes" + ("; each mean is smaller than its spread over seeds"
                                                           if noisy else "")))
    return out


def collect(profile: str, results_dir="results", mnist_runs=None, cifar_runs=None, detector_runs=None) -> list[Finding]:
    """Every finding of the landing page, from ``results/<profile>/``."""
    mnist, m_missing = _runs(profile, mnist_runs or ["mnist"], results_dir)
    stl, s_missing = _runs(profile, ["stl10"], results_dir)
    cifar, c_missing = _runs(profile, cifar_runs or ["cifar10"], results_dir)
    det, d_missing = _runs(profile, detector_runs or ["parse27k"], results_dir)
    return [accuracy_finding("mnist", mnist, m_missing), accuracy_finding("stl10", stl, s_missing),
            accuracy_finding("cifar10", cifar, c_missing), cluster_finding("mnist", mnist, m_missing),
            cluster_finding("stl10", stl, s_missing), cluster_finding("cifar10", cifar, c_missing),
            gpu_finding(mnist), *paper2_findings(det, d_missing)]


def findings_markdown(findings: list[Finding]) -> str:
    """Two short lists, one per paper: verdict, claim, the paper's number and ours, and how they were compared."""
    titles = {"1": "[Paper 1](https://arxiv.org/abs/1609.01360) (cluster-driven genetic encoding, Tables 1-3)",
              "2": "[Paper 2](https://arxiv.org/abs/1707.00095) (synaptic precision restriction, Figures 2-3)"}
    lines = ["", _summary(findings)]
    for paper in ("1", "2"):
        lines += ["", f"**{titles[paper]}**", ""]
        for f in (f for f in findings if f.paper == paper):
            lines.append(f"- **{f.verdict}**: {f.claim}. Paper: {f.paper_value}; ours: {f.ours}"
                         + (f"; {f.note}" if f.note else "") + ".")
    return "\n".join(lines[1:]) + "\n"


def _summary(findings: list[Finding]) -> str:
    """``Of 11 claims, 6 reproduced, 2 not reproduced, 3 not testable here.``"""
    counts = {v: sum(f.verdict == v for f in findings) for v in (REPRODUCED, NOT_REPRODUCED, NOT_TESTABLE)}
    return (f"Of the papers' {len(findings)} claims below, " + ", ".join(f"{n} {v}" for v, n in counts.items())
            + ". " + " ".join(f"*{v.capitalize()}:* " + "; ".join(f.claim for f in findings if f.verdict == v) + "."
                               for v in (NOT_REPRODUCED, NOT_TESTABLE) if counts[v]))


def tolerance_markdown() -> str:
    """The rule of each verdict, with its one tolerance."""
    t = TOLERANCE
    return ("How each verdict is decided (one tolerance per claim): accuracy, our mean drop from generation 1 at the "
            f"paper's efficiency at most the paper's drop + {t['accuracy']}; cluster efficiency, our mean E at least "
            f"{1 - t['clusters']:.0%} of the paper's; paper 2's ten-fold, within {t['synapses']:.0%} of it; its speed-up, "
            f"at least {1 - t['speed']:.0%} of 37/7; precision and recall retained, neither mean change below "
            f"-{t['retained']}; their direction, the signs of both mean changes. Means and standard deviations are "
            "over the seeds of each run; a claim without our data or hardware is *not testable here*.")


def plot_findings(mnist: list[Published], cifar: list[Published], detector: list[Published]):
    """The landing page's figure: Table 1 (MNIST, CIFAR-10) and E per efficiency, ours per seed beside the paper;
    paper 2's precision and recall change per generation, mean ± sd over seeds, beside its end points."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    fig, axes = plt.subplots(2, 2, figsize=(9, 7.5))
    for ax, dataset, runs in ((axes[0, 0], "mnist", mnist), (axes[0, 1], "cifar10", cifar)):
        for i, r in enumerate(runs):
            df = seeds.frame(r)
            ax.plot(df["architectural_efficiency"], df["accuracy"], "o-", ms=3, lw=1, color="tab:blue",
                    alpha=0.8, label=f"ours ({seeds.seeds_word(len(runs))})" if i == 0 else None)
        _, ae, acc = zip(*TABLE1[dataset])
        ax.plot(ae, acc, "s--", color="black", label="paper (Table 1)")
        ax.set(xscale="log", xlabel="architectural efficiency (log)", ylabel="test accuracy",
               title=f"{display_name(dataset)}: accuracy")
    ax = axes[1, 0]
    for dataset, runs, color in (("mnist", mnist, "tab:blue"), ("cifar10", cifar, "tab:green")):
        for i, r in enumerate(runs):
            df = seeds.frame(r)
            ax.plot(df["architectural_efficiency"], seeds.paper_e(df), "o-", ms=3, lw=1, color=color,
                    label=f"ours, {display_name(dataset)}" if i == 0 else None)
        last = max(TABLE2_3[dataset])
        ax.plot([{g: a for g, a, _ in TABLE1[dataset]}[last]], [TABLE2_3[dataset][last]["E"]], "s", color=color,
                mec="black", ms=8, label=f"paper, {display_name(dataset)}")
    ax.set(xscale="log", yscale="log", xlabel="architectural efficiency (log)",
           ylabel="E (mean of the layers)", title="Cluster efficiency E")
    ax = axes[1, 1]
    detector = [r for r in detector if {"precision", "recall"} <= set(r.generations.columns)]
    if detector:
        both = pd.concat([seeds.frame(r).assign(seed=r.config.get("seed")) for r in detector])
        for col, color, change in (("precision", "tab:blue", "precision_change"),
                                   ("recall", "tab:orange", "recall_change")):
            d = both.groupby("generation")[col].agg(list)
            first = np.array(d.iloc[0], dtype=float)
            ch = [np.array(v, dtype=float) - first for v in d]
            ax.errorbar(d.index, [c.mean() for c in ch], yerr=[c.std(ddof=1) if len(c) > 1 else 0 for c in ch],
                        fmt="o-", ms=3, capsize=2, color=color, label=f"ours, {col}")
            ax.plot([1, PARSE27K["generations"]], [0, PARSE27K[change]], "s--", color=color, mec="black",
                    label=f"paper, {col}")
        ax.set_title(f"Paper 2 on {display_name(detector[0].dataset)}")
    else:
        ax.text(0.5, 0.5, "paper 2: no results", ha="center", transform=ax.transAxes)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="generation", ylabel="change from generation 1")
    for a in axes.flat:
        a.grid(True, which="both", alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_findings(profile: str, folder, results_dir="results", mnist=None, cifar=None, det=None) -> None:
    """``findings.md`` (the two lists and the rule) and ``findings.png`` (:func:`plot_findings`) into ``folder``,
    for the runs named (the seeds the Table 1 and Parse-27k pages compare; :func:`.status.write_status` reads them)."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mnist, cifar, det = mnist or ["mnist"], cifar or ["cifar10"], det or ["parse27k"]
    found = collect(profile, results_dir, mnist, cifar, det)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "findings.md").write_text(findings_markdown(found) + "\n" + tolerance_markdown() + "\n")
    fig = plot_findings(*(_runs(profile, names, results_dir)[0] for names in (mnist, cifar, det)))
    fig.savefig(folder / "findings.png", dpi=100)
    plt.close(fig)
