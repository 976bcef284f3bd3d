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

# %%
import json

from evosynth_lib import report

log = report.load_run_log(run_log)
if not log:
    report.show(f"No run log at `{run_log}`: this page was not executed by `python -m evosynth_lib.book`.")
else:
    report.show(f"Built with `{log.get('command')}` (profile `{log.get('profile')}`) at commit "
                f"`{log.get('commit')}`" + (" with uncommitted changes" if log.get("dirty") else "")
                + f", started {log.get('started')} (this page is the last one executed).")
    for partial in log.get("partial_runs", []):
        report.show(f"Then re-ran `{partial['command']}` at commit `{partial.get('commit')}` ({partial.get('started')}).")

# %% [markdown]
# ## Environment and hardware

# %%
report.show(f"```json\n{json.dumps(log.get('environment', report.environment_info()), indent=2)}\n```")

# %% [markdown]
# ## Pages: duration and parameters

# %%
report.show(report.run_log_table(log))
for page, entry in log.get("pages", {}).items():
    report.show(f"**{page}** (`{entry.get('source')}`, {entry.get('duration_s')} s): "
                f"`{json.dumps(entry.get('parameters', {}), sort_keys=True)}`")

# %% [markdown]
# ## Published runs read by this book

# %%
table = report.results_table(profile, results_dir)
report.show(table if len(table) else f"No results are published for profile `{profile}`.")
