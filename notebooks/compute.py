# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-jupytext.text_representation.format_version
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Speed as the environment
#
# Both papers read fewer synapses as speed: the seed paper calls its cluster efficiency a *potential* speed-up
# (Table 2: 9.71X on MNIST, Table 3: 2.82X on CIFAR-10), and paper 2 reports the detector going from 7 to 37
# frames per second (5.3X) over 13 generations. Measured, the evolved networks run far slower than that: the
# synapses die in the deep layers, while the compute sits in the full-resolution early layers, whose filters
# survive. The papers define the environment as "quantitative environmental conditions that offspring networks
# must adapt to" (seed paper, eq. 2-3); a compute budget is such a condition. This page sets side by side, per
# task, at the last generation:
#
# * the evolution with the **synapse environment** (the papers': at most a fraction of the parent's synapses);
# * the evolution with the **compute environment** (ours: at most a fraction of the parent's dense FLOPs after
#   compaction; the cluster and synapse probabilities of eq. 4-5 unchanged; the method page states the reading);
# * **magnitude pruning at equal synapses** (the evolution's synapse counts, the same training);
# * **Torch-Pruning at equal FLOPs** (L1-norm filter pruning through Torch-Pruning's dependency graph, to the
#   compute-environment evolution's FLOPs, the same training).
#
# Latency is measured, not estimated: the first and last generation of every run, exported to ONNX, timed side by
# side in one process on one machine (same engine, precision, layout, batch 1 and input; round-robin rounds,
# medians), so that the machine's load falls on all of them alike. The table gives the measured speed-up (last
# generation over first) beside the paper's, and what fraction of it is reached. A run published without its
# exported networks (here seed 0 of the CIFAR-10 magnitude baseline) counts in the synapse and FLOP ratios but
# not in the latency; the table says how many runs of each method were timed.

# %% tags=["parameters", "remove-cell"]
profile = "smoke"  # which published results to read: results/<profile>/...
results_dir = "results"
engine = "onnxruntime"  # the engine whose side-by-side latency the tables and figures use
# per task: its methods ({method: [published runs, one per seed]}), the latency file under results/<profile>/, and
# the paper's speed-up it is measured against ("detector": paper 2's fps ratio; others: the seed paper's E)
tasks = {}
_declared = set(dir())

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

from evosynth_lib.book import compute, display, paper, results, tables
from evosynth_lib.book.parameters import check_parameters

check_parameters(globals(), _declared)

PAPER_SPEEDUP = {task: compute.paper_speedup(task) for task in compute.LABEL}
LABEL = compute.LABEL


def show_task(task):
    spec = tasks[task]
    methods = compute.load_methods(profile, spec["methods"], results_dir)
    latency = compute.load_latency(profile, spec.get("latency"), results_dir)
    detection = task == "detector"
    metric = "ap50" if detection else "accuracy"
    rows = compute.run_rows(methods, latency, engine, metric)
    absent = compute.absent_markdown(methods)
    if absent:
        display.show(absent)
    if rows.empty:
        display.show(f"No published run of {LABEL[task]} yet.")
        return
    if latency is not None:
        first = latency.iloc[0]
        display.show(f"Latency: {engine}, {first['dtype']}, {first['layout']}, batch {int(first['batch_size'])}, "
                     f"input {first['input']}, timed side by side on {first['cpu']} ({first['capability']}) at "
                     f"commit `{str(first['commit'])[:10]}` ({first['date']}); median of {int(first['passes'])} "
                     f"passes per network.")
    else:
        display.show("No side-by-side latency measurement is published for this task: the table gives FLOP ratios.")
    display.show(compute.speedup_table(rows, PAPER_SPEEDUP[task], "precision" if detection else metric, detection))
    for other in (sorted(set(latency.engine) - {engine}) if latency is not None else []):
        display.show(f"The same networks timed in {other} (same protocol, same process):")
        other_rows = compute.run_rows(methods, latency, other, metric)
        display.show(compute.speedup_table(other_rows, PAPER_SPEEDUP[task], "precision" if detection else metric,
                                           detection)[["measured speed-up", "paper", "measured / paper"]])
    panels = [("ap50", "AP@0.5 (last generation)"), ("precision", "precision"), ("recall", "recall")] \
        if detection else [(metric, "test accuracy (last generation)")]
    panels = [(m, l) for m, l in panels if m in rows and rows[m].notna().any()]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    for ax, (m, label) in zip(axes[0], panels):
        compute.plot_tradeoff(ax, rows, m, label)
    fig.suptitle(f"Accuracy against measured latency: {LABEL[task]}")
    fig.tight_layout()
    plt.show()
    firsts = {m: runs[0] for m, runs in methods.items() if runs and isinstance(runs[0], results.Published)}
    layers = compute.where_time_goes(firsts, tables.published_layer_names(next(iter(firsts.values()))))
    if layers is not None:
        display.show("Where the time goes: each weighted layer's share of the first generation's FLOPs, and the "
                     "fraction of them the last generation keeps (first seed of each method with exported networks; "
                     "dense FLOPs of the exported networks at the input they were exported for).")
        display.show(layers)
    return rows


# %% [markdown]
# ## The detector (paper 2's task)
#
# Paper 2's 5.3X (7 -> 37 fps on a Jetson TX1) is the mark. Detection quality is given as AP@0.5 (where a run
# recorded it) and as precision and recall at the detector's threshold; "within one standard error" compares each
# seed's last generation with its first, using the binomial standard error of the first generation's value on the
# test set. Every method has three seeds. The baselines prune to the seed-0 run of the evolution they are paired
# with: magnitude pruning to the synapse environment's synapse counts, Torch-Pruning to the compute environment's
# FLOPs. Magnitude pruning removes single synapses wherever they are smallest, so that few filters die and
# compaction removes about as little compute as under the synapse environment: at equal synapses it is no faster,
# and in two of its three seeds the last generation loses much of its precision and recall.

# %% tags=["hide-input"]
detector_rows = show_task("detector") if "detector" in tasks else display.show("Not part of this profile.")

# %% [markdown]
# ## LeNet-5 on MNIST
#
# The seed paper's Table 2 gives an overall cluster efficiency of 9.71X at generation 13, which it calls a
# potential speed-up. The compute environment is shown under two normalisers: the lower quartile (as for the
# detector: the encoding is permissive, so the cap decides how much compute survives; three seeds) and the upper
# quartile that the synapse-environment evolution uses (one seed); with the latter the encoding alone removes more
# filters per generation than the cap asks (its environmental factor is mostly 1), and the network collapses in
# the last generations.
#
# With the lower quartile, too, accuracy holds only until generation 10 or 11 and then falls in every seed (the
# figure, and the evolution's own page per generation). Two things meet there. With one to three filters left in
# a layer, one filter more or less is a large step in compute, so the largest sample within the cap may keep far
# less than the cap allows. And the offspring also lose synapses inside the filters that survive (eq. 5), which
# costs capacity and saves no dense compute. Torch-Pruning, pruned to seed 0's FLOPs generation by generation,
# keeps every weight of the filters it keeps and loses much less accuracy at the same FLOPs: the compute
# environment's speed-up at generation 13 is not bought at equal accuracy, and at equal compute the plain
# baseline is the better network. Neither reaches the paper's potential speed-up at batch 1: their last generations
# run in about the same time whatever their FLOP ratio, since at this size the fixed cost of a call to the engine,
# not the arithmetic, sets the time. Both train in float32 (the machine of seed 0 had no fast bfloat16; seeds 1 and 2
# were kept in float32 to match it); the synapse environment and magnitude pruning train in bfloat16 autocast,
# as published for Table 1.

# %% tags=["hide-input"]
mnist_rows = show_task("mnist") if "mnist" in tasks else display.show("Not part of this profile.")

# %% [markdown]
# ## AlexNet on CIFAR-10
#
# Table 3 gives 2.82X at generation 6. The compute environment caps each offspring at 0.7 x its parent's dense
# FLOPs (0.7^5 = 1/6 by generation 6, the order of the detector's 1/7), with filter clusters, the factor on
# clusters and the lower-quartile normaliser, and otherwise the published evolution's schedule (30 epochs for the
# ancestor, 8 per offspring, all 50,000 training images, bfloat16 training); one seed (each row says over how
# many seeds it is taken). Magnitude pruning at equal synapses has three seeds, all pruned to seed 0's synapse
# counts; seed 0 was published without its exported networks, so seeds 1 and 2 are timed. Torch-Pruning is pruned
# to the compute environment's FLOPs generation by generation, from the ancestor of the evolution's seed 1 (one
# seed).

# %% tags=["hide-input"]
cifar_rows = show_task("cifar10") if "cifar10" in tasks else display.show("Not part of this profile.")

# %% [markdown]
# At generation 6 both methods that budget compute run faster than Table 3's potential 2.82X, measured at batch 1.
# At the same FLOPs, Torch-Pruning runs about as fast as the compute environment (faster in ONNX Runtime, within
# a few percent of it in OpenVINO) and loses less accuracy (one seed each; the gap in accuracy is of the order of
# the spread between the synapse environment's three seeds).
# Magnitude pruning at equal synapses leaves the dense shape of every layer in place and runs at about the
# ancestor's speed, although it keeps the most accuracy.
