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
# # One evolution
#
# One run over successive generations (`evosynth_lib.run.evolve.evolve`). On an evolution page each
# generation is synthesised from its parent's synaptic-cluster-driven genetic encoding under the
# environmental factor (at most `cap` of the parent's synapses), then trained. On a *baseline* page (its
# title says which, and so does the box under this text) each generation is instead pruned from its parent
# (at random, by magnitude, or by the synapse-only encoding of 2016) and trained the same way; the Table 1
# page compares them with the evolution. The parameters are this page's profile
# (`profiles/<profile>/<page>.yaml`); the run of each seed of `seeds` is published in
# `results/<profile>/<name>/` (the first seed) or `results/<profile>/<name>-seed<k>/`. Run with other
# parameters, the page computes into the run store and shows that run as a local run; the published results
# change only when the profile's runs are published (`publish = True`).

# %% tags=["parameters", "remove-cell"]
# book parameters
profile = "smoke"  # smoke | quick | paper (the YAML folder under profiles/)
name = None  # results/<profile>/<name>; None -> the dataset's name
page = None  # this page's name in the profile (for the "how to run it" command); None -> evolve-<name>
runs_dir = "runs"  # the run store (relative to the repository root)
results_dir = "results"  # the published results
retrain = False  # True: delete the run folder (in runs_dir) first, then train again
publish = False  # True: publish the profile's runs into results/<profile>/ (refused for other parameters)
seeds = [0]  # one evolution per seed (the first is shown in full; all of them in the spread over seeds)
# EvolutionConfig fields (see evosynth_lib/config.py), but the seed
dataset = "synthetic"
model = "lenet5"
generations = 2
epochs = 1.0
first_epochs = None
lr = 0.01
momentum = 0.9
weight_decay = 5e-4
schedule = "cosine"
batch_size = 64
cap = 0.8
factor_level = "synapse"
normaliser = "quantile"
quantile = 0.75
tau = 0.0
granularity = "kernel"
fp16 = False
inherit = True
data_dir = None
train_subset = None
test_subset = None
num_workers = 0
device = "auto"
half_inference = False
synthetic_shape = [1, 28, 28]
synthetic_size = [512, 256]
download = None
threads = None
detection = {}
precision = "fp32"  # training arithmetic: fp32 | bf16 (autocast + channels-last, where the device runs it fast)
pruning = "evolutionary"  # | synapse_only (2016 encoding) | magnitude | random (baselines; need targets)
targets = None  # synapses per generation, for the magnitude / random baselines
validation = 0  # training examples held out (val_accuracy), to choose schedules without the test set
_defaults = dict(globals())

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

from evosynth_lib.book import display, plots, results, tables
from evosynth_lib.book.names import display_name
from evosynth_lib.book.parameters import check_parameters

check_parameters(globals(), _defaults)

# %% tags=["hide-input"]
name = name or dataset
configs = results.configs_for_seeds(globals(), seeds)  # every seed and parameter checked before anything trains
runs = {}
for seed, config in configs.items():
    runs[seed] = results.ensure_results(config, profile, results.seed_run_name(name, seeds, seed), runs_dir,
                                        results_dir, retrain=retrain, page=page, publish=publish)
result = runs[seeds[0]]
if results.local_note(list(runs.values())):
    display.show(results.local_note(list(runs.values())))
display.show(result)

# %% [markdown]
# ## Generations
#
# One row per generation: live synapses (weights of conv and fully connected layers, biases not
# counted), architectural efficiency (ancestor synapses / synapses), the task's metric, the
# overall cluster efficiency E (ancestor kernels / live kernels), the fraction of the parent's synapses
# kept and the environmental factor that enforced the cap. Every column (per-layer synapses and
# cluster efficiencies, FLOPs, timings, commit) is in the published `generations.csv`.

# %% tags=["hide-input"]
if isinstance(result, results.Published):
    display.show(tables.summary_table(result.generations))
else:
    display.show(f"No generations: {display_name(name)} was not run (see above).")

# %% [markdown]
# ## Accuracy vs architectural efficiency

# %% tags=["hide-input"]
if isinstance(result, results.Published):
    metric = "accuracy" if "accuracy" in result.generations else "precision"
    fig, ax = plt.subplots(figsize=(8, 5))
    plots.plot_accuracy_vs_efficiency(ax, result, paper_dataset=dataset, metric=metric,
                                      label=f"ours ({display_name(dataset)})")
    ax.set_title(f"{display_name(dataset)}: {metric} vs architectural efficiency")
    plt.show()
else:
    display.show(f"No plot: {display_name(name)} was not run (see above).")

# %% [markdown]
# ## Spread over seeds
#
# The same evolution with every seed of `seeds` (the seed drives the initial weights, the data order, the
# augmentation and every draw of the genetic encoding; everything else is equal).

# %% tags=["hide-input"]
seeded = [r for r in runs.values() if isinstance(r, results.Published)]
if len(seeded) > 1:
    metrics = ["accuracy"] if "accuracy" in seeded[0].generations else ["precision", "recall"]
    display.show(tables.spread_over_seeds(seeded, ["architectural_efficiency", *metrics]))
else:
    display.show(f"One seed only (`seeds = {seeds}`).")

# %% [markdown]
# ## Measured speed
#
# For classification runs (a detector's speed is on the Parse-27k page). The paper reports *potential* speed-ups (cluster efficiency). Here every generation's masked network and
# its compacted version (`core.compaction.compact`: dead channels physically removed, same outputs) are timed
# on this machine's CPU (`run.measure.measure_run_speed`: one thread, medians of 30 passes at batch 1 and of 10
# at batch 64, after 3 warm-up passes); the speed-up is relative to generation 1's dense network. Measured once
# from the run's checkpoints and published as `speed.csv` beside the metrics.

# %% tags=["hide-input"]
if isinstance(result, results.Published) and "accuracy" in result.generations:
    speed = results.ensure_speed(result, runs_dir, publish=publish)
    display.show(tables.speedup_table(result) if not isinstance(speed, str) else speed)
