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
# # Reading the normalisers Z, z and the truncation
#
# Equations 4 and 5 divide a cluster's truncated weight sum by $Z$ and a synapse's weight by a
# layer-wise $z$, "to make (4) a probability distribution", but the paper does not say what $Z$ and
# $z$ are, nor the truncation threshold. Each reading gives a different amount of the network kept
# from one generation to the next. Table 1 fixes that amount for MNIST: from 1.00X at generation 1 to
# 125.09X at generation 13, i.e. about 0.67 of the synapses kept per generation (under the 0.8 cap).
#
# This page runs short evolutions with several readings (normaliser = max, a quantile such as the
# median, or the mean of the layer's |w| (or cluster sums); truncation tau = 0 or > 0) and compares
# their retention per generation and accuracy with the paper's trajectory. The conclusion at the end
# is computed from the runs, not written by hand.

# %% tags=["parameters", "remove-cell"]
profile = "smoke"
runs_dir = "runs"
results_dir = "results"
retrain = False  # True: delete this page's run folders first, then train again
publish = False  # True: publish the profile's runs into results/<profile>/normalisation/
paper_dataset = "mnist"  # whose Table 1 trajectory the readings are compared with
book_run = "mnist"  # the published run whose reading the other pages use: results/<profile>/<book_run>/
# EvolutionConfig fields shared by every reading
base = {"dataset": "synthetic", "model": "lenet5", "generations": 2, "epochs": 0.25, "quantile": 0.5}
# reading name (results/<profile>/normalisation/<name>) -> the fields that differ
readings = {
    "max": {"normaliser": "max", "tau": 0.0},
    "median": {"normaliser": "quantile", "quantile": 0.5, "tau": 0.0},
    "upper-quartile": {"normaliser": "quantile", "quantile": 0.75, "tau": 0.0},
    "mean": {"normaliser": "mean", "tau": 0.0},
    "max-tau": {"normaliser": "max", "tau": 0.01},
}
_defaults = dict(globals())

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd

from evosynth_lib import EvolutionConfig
from evosynth_lib.book import display, names, paper, plots, results, studies, tables  # plots: the figures' style
from evosynth_lib.book.parameters import check_parameters

check_parameters(globals(), _defaults)

page = "normalisation"
found = {}
for key, change in readings.items():
    config = EvolutionConfig.from_dict({**base, **change})
    found[key] = results.ensure_results(config, profile, f"normalisation/{key}", runs_dir, results_dir,
                                         retrain=retrain, page=page, publish=publish)
done = {k: r for k, r in found.items() if isinstance(r, results.Published)}
for key, r in found.items():
    if isinstance(r, results.NotRun):
        display.show(r.markdown(f"Reading `{key}`"))

# %% [markdown]
# ## Retention and accuracy per generation
#
# Top: fraction of the ancestor's synapses still alive (1 / A-E, log scale); bottom: the task's metric.
# Black squares: the paper's Table 1 for the reference dataset. The dotted line is the 0.8 cap
# compounded over generations: no reading can lie above it.

# %% tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 10))
ref = paper.table1_frame(paper_dataset)
for key, r in done.items():
    df = r.generations
    metric = "accuracy" if "accuracy" in df else "precision"
    label = f"{key}: {studies.reading_label(r.config)}"
    ax1.plot(df["generation"], 1 / df["architectural_efficiency"], "o-", label=label)
    ax2.plot(df["generation"], df[metric], "o-", label=label)
gens = range(1, int(max([ref["generation"].max()] + [r.generations["generation"].max() for r in done.values()])) + 1)
ax1.plot(list(gens), [base.get("cap", paper.CAP) ** (g - 1) for g in gens], ":", color="grey", label="cap compounded")
ax1.plot(ref["generation"], 1 / ref["architectural_efficiency"], "s--", color="black",
         label=f"paper, Table 1 ({names.display_name(paper_dataset)})")
ax2.plot(ref["generation"], ref["accuracy"], "s--", color="black",
         label=f"paper, Table 1 ({names.display_name(paper_dataset)})")
ax1.set_yscale("log")
ax1.set_xlabel("generation")
ax1.set_ylabel("synapses / ancestor synapses (log)")
ax2.set_xlabel("generation")
ax2.set_ylabel("accuracy")
for ax in (ax1, ax2):
    ax.grid(True, alpha=0.3)
    ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Retention per generation, each reading

# %% tags=["hide-input"]
if done:
    per_gen = {f"{k}: {studies.reading_label(r.config)}": tables.retention(r.generations) for k, r in done.items()}
    display.show(pd.DataFrame(per_gen).rename_axis("generation").dropna(how="all").round(3))
    summary = studies.retention_summary(done, paper_dataset)
    display.show(summary.round(4))
else:
    summary = None
    display.show("No reading was run (see above).")

# %% [markdown]
# ## Conclusion

# %% tags=["hide-input"]
target = paper.table1_retention(paper_dataset)
book = results.load_published(profile, book_run, results_dir)
if isinstance(book, results.Published):
    used = studies.reading_label(book.config)
    used_from = f"the published run `{book_run}` of profile `{profile}`"
else:
    used = studies.reading_label(EvolutionConfig().to_dict())
    used_from = "the library's defaults (`EvolutionConfig`), as no run `{}` is published for profile `{}`".format(
        book_run, profile)
best = studies.closest_reading(summary) if summary is not None else None
lines = [f"Table 1 implies that {target:.3f} of the synapses are kept per generation on "
         f"{names.display_name(paper_dataset)} (geometric mean, generations 1 to "
         f"{int(paper.table1_frame(paper_dataset)['generation'].max())})."]
if best is None:
    lines.append("No reading was run on this profile, so none can be compared.")
else:
    row = summary.loc[best]
    lines.append(f"Of the readings run here on {names.display_name(base.get('dataset', 'mnist'))} "
                 f"({int(row['generations'])} generations), **{best}** ({row['reading']}) is the closest: "
                 f"{row['retention per generation']:.3f} kept per generation.")
lines.append(f"The other pages use **{used}** (from {used_from}).")
if best is not None:
    same = summary.loc[best, "reading"] == used
    lines.append("That is the closest reading found here." if same else
                 "That is not the closest reading found here: see the table above for how far each one lies.")
display.show(" ".join(lines))
