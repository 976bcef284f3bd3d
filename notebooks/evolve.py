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
# (`profiles/<profile>/<page>.yaml`, with the keys of the page it `extends`); the run of each seed of `seeds` is published in
# `results/<profile>/<name>/` (the first seed) or `results/<profile>/<name>-seed<k>/`. Run with other
# parameters, the page computes into the run store and shows that run as a local run; the published results
# change only when the profile's runs are published (`publish = True`).

# %% tags=["parameters", "remove-cell"]
# book parameters
profile = "smoke"  # smoke | quick | paper (the YAML folder under profiles/)
page = None  # the page of profiles/<profile>/ to run; None -> the page given below (its dataset), else evolve-synthetic
overrides = {}  # EvolutionConfig fields changed from the page's, e.g. {"generations": 3} (then a local run)
name = None  # results/<profile>/<name>; None -> the page's name (its name, else its file name without evolve-)
runs_dir = "runs"  # the run store (relative to the repository root)
results_dir = "results"  # the published results
retrain = False  # True: delete the run folder (in runs_dir) first, then train again
publish = False  # True: publish the profile's runs into results/<profile>/ (refused for other parameters)
seeds = None  # one evolution per seed (the first is shown in full; all of them in the spread over seeds); None -> the page's
# The page's own keys, as `papermill -f profiles/<profile>/<page>.yaml` gives them; None -> from the page.
# A value set here changes the page's (see evosynth_lib/config.py for the fields, evosynth_lib/book/pages.py for the keys).
extends = None  # the page this one extends
targets_from = None  # the published run whose synapse counts are a baseline's targets
dataset = None
model = None
generations = None
epochs = None
first_epochs = None
lr = None
momentum = None
weight_decay = None
schedule = None
batch_size = None
cap = None
factor_level = None
normaliser = None
quantile = None
tau = None
granularity = None
fp16 = None
inherit = None
data_dir = None
train_subset = None
test_subset = None
num_workers = None
device = None
half_inference = None
synthetic_shape = None
synthetic_size = None
download = None
threads = None
detection = None
precision = None
pruning = None
environment = None
targets = None
validation = None
_defaults = dict(globals())

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

from evosynth_lib.book import display, plots, results, tables
from evosynth_lib.book.names import display_name
from evosynth_lib.book.parameters import check_parameters

check_parameters(globals(), _defaults)

# %% tags=["hide-input"]
evolutions = results.page_evolutions(globals())  # every seed and parameter checked before anything trains
name, dataset = evolutions[0].name, evolutions[0].config.dataset
runs = {ev.config.seed: results.ensure_results(ev.config, profile, ev.name, runs_dir, results_dir, retrain=retrain,
                                               page=page, publish=publish) for ev in evolutions}
seeds = list(runs)
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
display.show_result(result, lambda r: display.show(tables.summary_table(r.generations)),
                    absent=f"No generations: {display_name(name)} was not run (see above).")

# %% [markdown]
# ## Accuracy vs architectural efficiency

# %% tags=["hide-input"]
def plot_metric_vs_efficiency(result):
    metric = "accuracy" if "accuracy" in result.generations else "precision"
    fig, ax = plt.subplots(figsize=(8, 5))
    plots.plot_accuracy_vs_efficiency(ax, result, paper_dataset=dataset, metric=metric,
                                      label=f"ours ({display_name(dataset)})")
    ax.set_title(f"{display_name(dataset)}: {metric} vs architectural efficiency")
    plt.show()


display.show_result(result, plot_metric_vs_efficiency, absent=f"No plot: {display_name(name)} was not run (see above).")

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
    display.show(tables.potential_speedup_table(result) if not isinstance(speed, str) else speed)
