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
# # Reproducibility
#
# How this book was made: the command, the commit, the environment and hardware, and for each page
# its parameters and how long it took (from `book/notebooks/run_log.json`, written by
# `python -m evosynth_lib.book`); then every published run it reads, with the commit and machine that
# trained it (from `results/<profile>/*/provenance.json`). Each executed notebook also carries
# papermill's record of its parameters and timings in its metadata.
#
# To rebuild: `make book PROFILE=<profile>` (reuses the published results whose parameters match);
# `python -m evosynth_lib.book --profile <profile> --retrain` trains everything again.

# %% tags=["parameters", "remove-cell"]
profile = "smoke"
results_dir = "results"
run_log = "book/notebooks/run_log.json"
# runs computed at 1 and at 2 threads (same commit, same machine): {what: [1-thread run, 2-thread run]} under
# results/reference/ (configs/reference-mnist.yaml and configs/mnist-3gen.yaml)
thread_runs = {"CI reference (MNIST subset, 3 generations)": ["mnist-prefix", "mnist-prefix-2threads"],
               "MNIST, full data, 3 generations": ["mnist-3gen", "mnist-3gen-2threads"]}
_defaults = dict(globals())

# %% tags=["hide-input"]
import json

from evosynth_lib.book import display, results, studies
from evosynth_lib.run import provenance
from evosynth_lib.book.parameters import check_parameters

check_parameters(globals(), _defaults)

log = studies.load_run_log(run_log)
if not log:
    display.show(f"No run log at `{run_log}`: this page was not executed by `python -m evosynth_lib.book`.")
else:
    display.show(f"Built with `{log.get('command')}` (profile `{log.get('profile')}`) at commit "
                f"`{log.get('commit')}`" + (" with uncommitted changes" if log.get("dirty") else "")
                + f", started {log.get('started')} (this page is the last one executed).")
    for partial in log.get("partial_runs", []):
        display.show(f"Then re-ran `{partial['command']}` at commit `{partial.get('commit')}` ({partial.get('started')}).")

# %% [markdown]
# ## Environment and hardware

# %% tags=["hide-input"]
display.show(f"```json\n{json.dumps(log.get('environment', provenance.environment_info()), indent=2)}\n```")

# %% [markdown]
# ## Pages: duration and parameters

# %% tags=["hide-input"]
display.show(studies.run_log_table(log))
for page, entry in log.get("pages", {}).items():
    display.show(f"**{page}** (`{entry.get('source')}`, {entry.get('duration_s')} s): "
                f"`{json.dumps(entry.get('parameters', {}), sort_keys=True)}`")

# %% [markdown]
# ## Published runs read by this book

# %% tags=["hide-input"]
table = studies.results_table(profile, results_dir)
display.show(table if len(table) else f"No results are published for profile `{profile}`.")

# %% [markdown]
# ## What is exact, and what is not
#
# *Exact* (bit for bit, every metric of every generation): the same configuration on the same machine kind
# with the same thread count and the same commit. Every random draw is seeded from (seed, generation), and
# the run store records the thread count when a run starts (`manifest.json`, `settings`); a resumed run runs
# at the recorded count, or refuses. CI recomputes a short reference run (`configs/reference-mnist.yaml`,
# committed in `results/reference/mnist-prefix/`) and fails when any number differs. Runs that differ only in
# what acts on offspring (the baselines of an evolution, its other readings) train the same ancestor; the run
# store trains it once and the others adopt it (`ancestor_from` in their manifest and provenance), with the same
# bits as training it again (`tests/run/test_shared_ancestor.py`).
#
# *Not exact*: another thread count, another CPU (other vector units), a GPU, or another PyTorch version.
# These change the order of floating-point sums, so the last bits of the weights; over many generations
# the difference can grow into different masks and a different accuracy digit. Measured here: the reference
# run at 1 and at 2 threads, same commit, same machine.

# %% tags=["hide-input"]
for what, names in thread_runs.items():
    pair = [results.load_published("reference", name, results_dir) for name in names]
    if all(isinstance(r, results.Published) for r in pair):
        commits = sorted({r.provenance.get("commit", "?")[:12] for r in pair})
        display.show(f"**{what}**: 1 thread / 2 threads (commit {', '.join(f'`{c}`' for c in commits)})")
        display.show(studies.thread_comparison(*pair))
    else:
        display.show(f"**{what}**: not published (`results/reference/{names[0]}`).")
