# ---
# jupyter:
#   jupytext:
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
# Evolutionary synthesis of one ancestor network over successive generations
# (`evosynth_lib.evolution.evolve`): each generation is synthesised from its parent's
# synaptic-cluster-driven genetic encoding under the environmental factor (at most `cap` of the
# parent's synapses), then trained. The parameters below are this page's profile
# (`profiles/<profile>/<page>.yaml`); the run is published in `results/<profile>/<name>/` and reused
# on later builds with the same parameters.

# %% tags=["parameters", "remove-cell"]
# book parameters
profile = "smoke"  # smoke | quick | paper (the YAML folder under profiles/)
name = None  # results/<profile>/<name>; None -> the dataset's name
page = None  # this page's name in the profile (for the "how to run it" command); None -> evolve-<name>
runs_dir = "runs"  # the run store (relative to the repository root)
results_dir = "results"  # the published results
retrain = False  # True: delete the published results and the run first, then train again
# EvolutionConfig fields (see evosynth_lib/config.py)
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
seed = 0
cap = 0.8
factor_level = "synapse"
normaliser = "max"
quantile = 0.5
tau = 0.0
granularity = "kernel"
fp16 = False
inherit = True
data_dir = None
train_subset = None
test_subset = None
num_workers = 0
device = "auto"
extra = {}

# %%
import matplotlib.pyplot as plt

from evosynth_lib import report

config = report.config_from_parameters(globals())
name = name or config.dataset
result = report.ensure_results(config, profile, name, runs_dir, results_dir, retrain=retrain, page=page)
report.show(result)

# %% [markdown]
# ## Generations
#
# One row per generation: live synapses (weights of conv and fully connected layers, biases not
# counted), architectural efficiency (ancestor synapses / synapses), the task's metric, the
# overall cluster efficiency E (ancestor kernels / live kernels), the fraction of the parent's synapses
# kept and the environmental factor that enforced the cap. Every column (per-layer synapses and
# cluster efficiencies, FLOPs, timings, commit) is in the published `generations.csv`.

# %%
if isinstance(result, report.Published):
    report.show(report.summary_table(result.generations))
else:
    report.show(f"No generations: {report.display_name(name)} was not run (see above).")

# %% [markdown]
# ## Accuracy vs architectural efficiency

# %%
if isinstance(result, report.Published):
    metric = "accuracy" if "accuracy" in result.generations else "precision"
    fig, ax = plt.subplots(figsize=(6, 4))
    report.plot_accuracy_vs_efficiency(ax, result, paper_dataset=config.dataset, metric=metric,
                                       label=f"ours ({report.display_name(config.dataset)})")
    ax.set_title(f"{report.display_name(config.dataset)}: {metric} vs architectural efficiency")
    plt.show()
else:
    report.show(f"No plot: {report.display_name(name)} was not run (see above).")

# %% [markdown]
# ## Measured speed (classification runs)
#
# The paper reports *potential* speed-ups (cluster efficiency). Here every generation's masked network and
# its compacted version (`compaction.compact`: dead channels physically removed, same outputs) are timed
# on this machine's CPU (`speed.measure_run_speed`: 1 thread, medians of 30 passes at batch 1 and of 10
# at batch 64, after 3 warm-up passes); the speed-up is relative to generation 1's dense network. Measured once from
# the run's checkpoints and published as `speed.csv` beside the metrics.

# %%
if isinstance(result, report.Published) and "accuracy" in result.generations:
    speed = report.ensure_speed(result, runs_dir)
    report.show(report.speedup_table(result) if not isinstance(speed, str) else speed)
