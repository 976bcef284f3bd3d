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
# To rebuild: `make book PROFILE=<profile>` (reuses the published results whose parameters match; `results/`
# is only read unless `PUBLISH=1` asks to publish the profile's runs there); `RETRAIN=1` trains them again.

# %% tags=["parameters", "remove-cell"]
profile = "smoke"
results_dir = "results"
run_log = "book/notebooks/run_log.json"
# runs computed at 1 and at 2 threads (same commit, same machine): {what: [1-thread run, 2-thread run]} under
# results/reference/ (configs/reference-mnist.yaml and configs/mnist-3gen.yaml)
thread_runs = {"CI reference (MNIST subset, 3 generations)": ["mnist-prefix", "mnist-prefix-2threads"],
               "MNIST, full data, 3 generations": ["mnist-3gen", "mnist-3gen-2threads"]}
verifications = "results/reference/verify"  # published `evosynth verify` of the reference, one folder per machine
arithmetic_study = "results/quick/verify"  # published runs re-computed in the other training arithmetic
verify_here = 0  # > 0: re-compute the reference's first `verify_here` generations on this machine, in this page
_defaults = dict(globals())

# %% tags=["hide-input"]

from evosynth_lib.book import display, reproduction, results, studies
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
env = log.get("environment") or provenance.environment_info()
display.show(reproduction.environment_table(env))

# %% [markdown]
# ## Pages: duration and parameters

# %% tags=["hide-input"]
display.show(studies.run_log_table(log))

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

# %% [markdown]
# ## Which arithmetic computed each run
#
# `precision: bf16` asks for bfloat16 training (autocast, fp32 master weights) where the device runs it fast
# (CPUs with AMX or AVX512-BF16, recent GPUs), and fp32 elsewhere, where bf16 would be emulated and several times
# slower. The arithmetic a run used is recorded in it; a run resumes in the arithmetic it started in. Runs
# published before the arithmetic was recorded trained in their configuration's `precision`: bf16 was refused then
# on devices that did not run it fast.

# %% tags=["hide-input"]
display.show(reproduction.arithmetic_table(profile, results_dir))

# %% [markdown]
# ## Check a published result on your machine
#
# `evosynth verify` re-computes a published run, or its first generations, on the reader's machine into a scratch
# run store (never into `results/`), prints a time estimate first, then the difference from the published numbers
# column by column, judged against the tolerance for how this machine differs from the one that computed the
# run, and ends with one verdict: reproduced exactly, reproduced within the tolerance of this machine kind, or
# differs (which numbers, by how much):
#
# ```bash
# .venv/bin/evosynth verify reference/mnist-prefix                      # the CI reference, ~1 min
# .venv/bin/evosynth verify evolve-mnist --profile quick --generations 3  # the first generations of a page
# ```
#
# In a notebook: `from evosynth_lib.run.verify import verify; verify("reference/mnist-prefix")` (or set
# `verify_here` in this page's parameters). The tolerances: equal numbers on the machine kind that computed the
# run (CPU model, instruction set torch dispatches to, torch release) at its thread count; float noise only
# (relative 1e-5, counts and accuracy equal) on another CPU with the same instruction set; 1% of the synapses and
# 0.01 accuracy on another instruction set or thread count, where a draw can flip from generation 2 on; wider
# across training arithmetics (`evosynth_lib/run/verify.py`, `TOLERANCES`).
#
# Published verifications of the reference run (`configs/reference-mnist.yaml`: MNIST, 6,000 training images,
# 3 generations, 1 thread), computed by the command on the machine that computed the reference and with torch
# capped at AVX2 (`ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2`, the instruction set of an older CPU):

# %% tags=["hide-input"]
docs = reproduction.published_verifications(verifications)
if docs:
    display.show(reproduction.verification_summary(docs))
    for d in docs:
        cols = d["columns"]
        differing = cols[cols["difference"] > 0][["column", "generation", "published", "ours", "difference", "allowed"]]
        if len(differing):
            display.show(f"**{d['label']}**: the columns that are not bit-identical (largest difference, where)")
            display.show(differing.rename(columns={"ours": "here"}))
else:
    display.show(f"No verification is published in `{verifications}`.")
if verify_here:
    from evosynth_lib.run.verify import verify

    display.show(verify("reference/mnist-prefix", generations=verify_here, progress=False))

# %% [markdown]
# ## What a re-run in the other arithmetic gives
#
# The quick MNIST evolution (13 generations, 3 seeds) was published from bf16 training. Re-computed by
# `evosynth verify evolve-mnist --profile quick --all-seeds --threads 1` on a CPU without fast bf16, it trains in
# fp32: every generation's synapses and accuracy in both arithmetics, mean over the seeds, and the change (mean,
# smallest and largest over the seeds). The seed drives every draw, so the two arithmetics start from the same
# ancestor weights and data order; they part in the last bits of the first training step, and the draws of the
# genetic encoding follow the weights.

# %% tags=["hide-input"]
study = [d for d in reproduction.published_verifications(arithmetic_study)
         if d.get("published_settings", {}).get("arithmetic") != d.get("settings", {}).get("arithmetic")]
if study:
    first = study[0]
    display.show(f"Published: {first['published_settings']['arithmetic']} at {first['published_settings']['threads']} "
                 f"threads. Re-computed: {first['settings']['arithmetic']} at {first['settings']['threads']} "
                 f"{'thread' if first['settings']['threads'] == 1 else 'threads'}, on {first['here']['kind']['cpu']} "
                 f"(commit `{str(first.get('commit'))[:12]}`); {len(study)} seeds.")
    display.show(reproduction.arithmetic_comparison(study))
else:
    display.show(f"Not published yet (`{arithmetic_study}`).")

