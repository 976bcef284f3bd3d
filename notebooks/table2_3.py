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
# # Tables 2 and 3: cluster efficiency per layer
#
# Cluster efficiency of a layer is the number of kernels (synaptic clusters) of that layer in the
# first-generation ancestor divided by the number still alive in the generation. The paper's overall E is
# the plain mean of its per-layer values (Table 2: 3.6, 12.96, 8.83, 13.47 -> 9.71; Table 3 -> 2.82); we
# show E computed that way beside the paper's, and, labelled as ours, the ratio pooled over all kernels
# of the network (every ancestor kernel / every live kernel), which weighs the large layers. Ours are the
# mean ± standard deviation over the seeds we ran, at the paper's generation and at the paper's
# architectural efficiency (interpolated in log-log between our generations). The paper reports it at the first and last reported generations: Table 2 for
# LeNet-5 on MNIST (generation 13) and STL-10 (generation 10), Table 3 for AlexNet on CIFAR-10
# (generation 6). For LeNet-5 the paper's layers 1-3 are "convolutional" and layer 4 fully connected:
# layer 3 is Caffe's `ip1`, a fully connected layer over the 50x4x4 map that we treat as a conv whose
# kernels are 4x4 (see the method page). Ours are read from `results/<profile>/<run>/`.

# %% tags=["parameters", "remove-cell"]
profile = "smoke"  # which published results to read: results/<profile>/...
results_dir = "results"
# the paper's dataset -> the name of our run under results/<profile>/ (a stand-in may be declared here)
runs = {"mnist": "mnist", "stl10": "stl10", "cifar10": "cifar10"}
# the paper's dataset -> the runs that repeat it with other seeds (the first is runs[dataset]); none: one seed
seed_runs = {}
# the paper's dataset -> published runs of the same evolution with other cluster granularities (structured offspring)
granularity_runs = {}
loss_tolerance = None  # a reading "keeps" accuracy when it falls by at most this; None: the accuracy claim's tolerance
_declared = set(dir())

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

from evosynth_lib.book import display, facts, findings, granularities, names, paper, plots, results, seeds, speedups, tables
from evosynth_lib.book.parameters import check_parameters

check_parameters(globals(), _declared)

ours = {d: results.load_published(profile, runs[d], results_dir) for d in paper.TABLE2_3}
seeded = {d: seeds.loaded(results.load_published(profile, n, results_dir) for n in seed_runs.get(d, [runs[d]]))
          for d in paper.TABLE2_3}
loss_tolerance = findings.TOLERANCE["accuracy"] if loss_tolerance is None else loss_tolerance


def show_table(dataset):
    if not seeded[dataset]:
        display.show_comparison(dataset, ours[dataset], tables.table2_3_side_by_side)
        return
    first = seeded[dataset][0]
    display.show(f"{seeds.seeds_word(len(seeded[dataset])).capitalize()} "
                 f"({', '.join(str(r.config.get('seed')) for r in seeded[dataset])}); the first:")
    display.show(first)
    display.show(tables.table2_3_over_seeds(dataset, seeded[dataset]))
    f = findings.cluster_finding(dataset, seeded[dataset], None)
    display.show(f"**{f.verdict.capitalize()}** ({f.claim}): paper {f.paper_value}; ours {f.ours}. The rule: our "
                 f"mean E at least {1 - findings.TOLERANCE['clusters']:.0%} of the paper's, at no higher efficiency.")

# %% [markdown]
# ## Table 2: MNIST (LeNet-5)

# %% tags=["hide-input"]
show_table("mnist")
if seeded["mnist"]:
    df = seeds.frame(seeded["mnist"][0])
    display.show(facts.width_sentence("Layer 1 (conv1)", paper.TABLE2_3["mnist"][13]["layers"][0],
                                      int(df["clusters_conv1"].iloc[0])))

# %% [markdown]
# ## Table 2: STL-10 (LeNet-5)

# %% tags=["hide-input"]
show_table("stl10")

# %% [markdown]
# ## Table 3: CIFAR-10 (AlexNet)

# %% tags=["hide-input"]
show_table("cifar10")
if seeded["cifar10"]:
    df = seeds.frame(seeded["cifar10"][0])
    in_channels = 3  # CIFAR-10 images: each conv1 filter has one kernel per colour channel
    display.show(facts.width_sentence("Layer 1 (conv1)", paper.TABLE2_3["cifar10"][6]["layers"][0],
                                      int(df["clusters_conv1"].iloc[0]), in_channels,
                                      (96 * in_channels, "AlexNet's original 96 filters")))

# %% [markdown]
# ## Potential vs measured speed-up
#
# The paper reads cluster efficiency as a "potential speed-up" on embedded GPUs. Beside it: the FLOPs
# ratio of the compacted network (dead channels removed, `compaction.compact`) and the speed-up we
# measured for it in PyTorch eager (fp32, NCHW; `speed.csv`). Then the network as it is deployed
# (`run/deploy.py`, from a published `deploy.csv`): exported and run through PyTorch eager (NCHW and
# channels-last), ONNX Runtime and OpenVINO, in float32 and in the half precisions the CPU runs fast, channel
# counts aligned by measurement, outputs checked against the masked float32 network and accuracy evaluated
# through each engine. *Measured speed-up*: last generation over first in the same engine and precision;
# *FLOP ratio*: the physical limit of a dense speed-up; the paper's E is its "potential" one. The protocol
# (threads, warm-up, repetitions, median, device features) is printed under each table.

# %% tags=["hide-input"]
for dataset in paper.TABLE2_3:
    run = ours[dataset]
    if isinstance(run, results.Published):
        last = max(paper.TABLE2_3[dataset])
        display.show(f"**{names.display_name(dataset)}** (ours: {names.display_name(run.dataset)})")
        display.show(tables.potential_speedup_table(run, [1, last]))
        display.show(f"Deployed ({names.display_name(run.dataset)}):")
        speedups.show_deployment(run, run.dataset, paper.TABLE2_3[dataset][last]["E"],
                               f"paper's potential (E, gen {last})")

# %% [markdown]
# ## Structured offspring: kernels or filters
#
# The paper's cluster is a kernel; it also allows "a set of kernels". With filter clusters (all kernels of one
# output channel; in a dense layer, all inputs of one unit) a death removes a whole channel, so the compacted
# network shrinks in FLOPs, not only in synapses. The same evolution (data, schedule, normaliser, seed) under each
# reading, from the published runs: synapses, accuracy, the FLOP ratio and the measured speed-ups (each run's
# `deploy.csv`, protocol as above). The environmental factor can also act on whole clusters (F_c); where it never
# binds (every offspring already below the cap), that choice changes nothing, and the table says so.

# %% tags=["hide-input"]
for dataset, names_ in granularity_runs.items():
    found = {n: results.load_published(profile, n, results_dir) for n in names_}
    found = {n: r for n, r in found.items() if isinstance(r, results.Published)}
    if len(found) < 2:
        display.show(f"{names.display_name(dataset)}: fewer than two readings published in profile `{profile}`.")
        continue
    display.show(f"**{names.display_name(dataset)}**")
    display.show(granularities.granularities_table(found, loss_tolerance))
    for n, r in found.items():
        factor = r.generations["environmental_factor"].iloc[1:]
        display.show(f"`{n}`: the environmental factor bound (was below 1) in {int((factor < 1).sum())} of "
                     f"{len(factor)} offspring" + ("; the cluster-level factor would change nothing."
                                                   if (factor >= 1).all() else "."))

# %% [markdown]
# ## Per layer, at the last reported generation
#
# Grey: the paper; blue: ours at the same generation (our layer names under the paper's numbers).
# LeNet-5 (MNIST, STL-10) in the first row, AlexNet (CIFAR-10) in the second.

# %% tags=["hide-input"]
fig, axes = plt.subplot_mosaic([["mnist", "stl10"], ["cifar10", "cifar10"]], figsize=(9, 8.5))
for dataset, ax in axes.items():
    run = ours[dataset]
    last = max(paper.TABLE2_3[dataset])
    plots.plot_cluster_bars(ax, dataset, run if isinstance(run, results.Published) else None, last)
fig.tight_layout()
plt.show()
