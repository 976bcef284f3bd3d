"""Build the book: ``python -m evosynth_lib.book --profile quick [--retrain] [--only PAGE]`` (``make book``).

1. Each page of the profile is a YAML file ``profiles/<profile>/<page>.yaml`` holding the parameters of
   one notebook: ``notebooks/<page>.py`` or, for ``<prefix>-<suffix>`` pages such as ``evolve-mnist``,
   ``notebooks/<prefix>.py``. The same file works by hand:
   ``papermill -f profiles/quick/evolve-mnist.yaml notebook.ipynb out.ipynb``.
2. The jupytext sources (percent format) are converted to ``.ipynb`` (``_build/jupytext/``) and executed
   with papermill, with the page's parameters, into ``book/notebooks/<page>.ipynb`` (outputs kept;
   papermill records the parameters and timings in the notebook's metadata, and this module adds the
   commit). ``evolve-*`` pages run first, the reading pages after, ``reproducibility`` last.
3. ``book/notebooks/run_log.json`` records the command, commit, environment, and per page its source,
   parameters, start time and duration; the reproducibility page shows it.
4. ``book/_generated/status.md`` (the intro's table of what was produced) is computed from
   ``results/<profile>/`` (:mod:`.status`).
5. The HTML book is built with jupyter-book 1 (``_config.yml``, ``book/_toc.yml``; notebooks are not
   executed again) with warnings as errors, into ``_build/html``.

Training happens only where published results (``results/<profile>/``) are missing or were made with
other parameters. ``results/`` is only read unless ``--publish`` asks to publish the profile's runs there. Before the pages run, :func:`.results.train_missing` trains those evolutions at once, as
one sweep on Ray (``run/sweep.py``; ``--jobs N`` at a time, default one per core), into the run store
``runs/``; the pages' :func:`.results.ensure_results` then find the runs finished (and publish them with
``--publish``). When nothing is missing, Ray is not imported. ``--retrain`` deletes the run folders of the
executed pages' evolutions first, so that they are all trained again.

Data: ``EVOSYNTH_DATA`` (``tasks/data_dir.py``; ``make`` sets it to ``../shared/data`` when that exists).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ..run.provenance import environment_info, git_state
from .names import display_name
from .pages import read_page
from .paths import RUN_LOG, executed_dir, notebooks_dir, profiles_dir, repo_root
from .missing import train_missing
from .status import write_status

# the reading pages, in the order they run (after the evolve-* pages); they are fixed entries of book/_toc.yml
READING_PAGES = ("table1", "table2_3", "normalisation", "parse27k", "compute", "reproducibility")


def profile_pages(profile: str) -> list[str]:
    """The pages of ``profile`` in execution order: ``evolve-*`` first, then :data:`READING_PAGES`, then others."""
    folder = profiles_dir() / profile
    if not folder.is_dir():
        known = ", ".join(sorted(p.name for p in profiles_dir().iterdir() if p.is_dir())) \
            if profiles_dir().is_dir() else "none"
        raise SystemExit(f"unknown profile {profile!r}: no folder {folder} (profiles: {known})")
    names = sorted(p.stem for p in folder.glob("*.yaml"))

    def order(name: str) -> tuple[int, int, str]:
        if name in READING_PAGES:
            return (1, READING_PAGES.index(name), name)
        return (0 if name.startswith("evolve") else 2, 0, name)

    return sorted(names, key=order)


def page_source(page: str) -> Path:
    """The jupytext source of ``page``: ``notebooks/<page>.py``, else ``notebooks/<part before '-'>.py``."""
    for name in (page, page.split("-", 1)[0]):
        if (notebooks_dir() / f"{name}.py").is_file():
            return notebooks_dir() / f"{name}.py"
    raise SystemExit(f"page {page!r}: neither notebooks/{page}.py nor notebooks/{page.split('-', 1)[0]}.py exists")


def profile_page_overrides(profile: str, page: str) -> dict:
    """The notebook parameters a profile sets for ``page`` (``profiles/<profile>/<page>.yaml``), as papermill gets them."""
    return yaml.safe_load((profiles_dir() / profile / f"{page}.yaml").read_text()) or {}


def convert(source: Path) -> Path:
    """jupytext percent source -> ``_build/jupytext/<name>.ipynb`` (no outputs)."""
    import jupytext

    nb = jupytext.read(source, fmt="py:percent")
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    converted = repo_root() / "_build" / "jupytext"
    converted.mkdir(parents=True, exist_ok=True)
    out = converted / f"{source.stem}.ipynb"
    jupytext.write(nb, out, fmt="ipynb")
    return out


def notebook_parameters(ipynb: Path) -> set[str]:
    """Names set in the notebook's ``parameters`` cell."""
    import papermill

    return set(papermill.inspect_notebook(str(ipynb)))


def execute(page: str, profile: str, retrain: bool, log_output: bool, kernel: str, publish: bool = False) -> dict:
    """Convert and execute one page; return its run-log entry."""
    import nbformat
    import papermill

    source = page_source(page)
    ipynb = convert(source)
    params = profile_page_overrides(profile, page)
    declared = notebook_parameters(ipynb)
    unknown = sorted(set(params) - declared)
    if unknown:
        raise SystemExit(f"profiles/{profile}/{page}.yaml sets {unknown}, which notebooks/{source.name} does not declare")
    if "page" in declared and params.get("page") is None:
        params["page"] = page
    if retrain and "retrain" in declared:
        params["retrain"] = True
    if publish and "publish" in declared:
        params["publish"] = True
    executed_dir().mkdir(parents=True, exist_ok=True)
    out = executed_dir() / f"{page}.ipynb"
    git = git_state()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    t0 = time.time()
    entry = {"source": str(source.relative_to(repo_root())), "profile": profile, "parameters": params,
             "started": started, **git}
    try:
        papermill.execute_notebook(str(ipynb), str(out), parameters=params, kernel_name=kernel, cwd=str(repo_root()),
                                   progress_bar=True, log_output=log_output)
    except BaseException:
        entry.update(status="failed", duration_s=round(time.time() - t0, 1))
        raise
    finally:
        if out.exists():  # papermill writes the notebook even when a cell fails
            entry.setdefault("status", "ok")
            entry.setdefault("duration_s", round(time.time() - t0, 1))
            nb = nbformat.read(out, as_version=4)
            nb.metadata["evosynth"] = {k: entry[k] for k in ("source", "profile", "commit", "dirty", "started",
                                                              "duration_s", "status")}
            _retitle(nb, page, {**params, **read_page(profiles_dir() / profile / f"{page}.yaml")})
            for cell in nb.cells:  # papermill's injected parameters are plumbing: kept in the notebook, not shown
                if "injected-parameters" in cell.metadata.get("tags", []):
                    cell.metadata["tags"] = [*cell.metadata["tags"], "remove-cell"]
            nbformat.write(nb, out)
        _log_update(page, entry)
    return entry


def _retitle(nb, page: str, params: dict) -> None:
    """Pages sharing a notebook (``evolve-mnist``, ``evolve-cifar10``) get distinct titles: ``# One evolution: MNIST``;
    a baseline page (``pruning`` other than evolutionary) is titled as the baseline it is: ``# Baseline: random
    pruning, MNIST``. Such pages' standard output (log lines of the results store) is not shown in the book."""
    if "-" not in page:
        return
    what = display_name(params.get("dataset") or page.split("-", 1)[1])
    pruning = params.get("pruning", "evolutionary")
    kinds = {"random": "random pruning", "magnitude": "magnitude pruning",
             "synapse_only": "synapse-only encoding (2016)"}
    seeds = params.get("seeds") or [0]
    if pruning in kinds:
        title = f"# Baseline: {kinds[pruning]}, {what}" + (f" ({len(seeds)} seeds)" if len(seeds) > 1 else "")
    else:
        if params.get("name") and params["name"] != params.get("dataset"):
            what += f" ({params['name']})"
        title = None
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata["tags"] = list(dict.fromkeys([*cell.metadata.get("tags", []), "remove-stdout"]))
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            first, _, rest = cell.source.partition("\n")
            cell.source = (title or f"{first}: {what}") + (f"\n{rest}" if rest else "")
            return


def _log_update(page: str, entry: dict) -> None:
    run_log = repo_root() / RUN_LOG
    log = json.loads(run_log.read_text()) if run_log.is_file() else {}
    log.setdefault("pages", {})[page] = entry
    run_log.write_text(json.dumps(log, indent=2, default=str) + "\n")


def build_html(strict: bool = True) -> int:
    """``jupyter-book build`` of the repository root with ``book/_toc.yml``; warnings are errors when ``strict``."""
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book"), "build", str(repo_root()),
           "--config", str(repo_root() / "_config.yml"), "--toc", str(repo_root() / "book" / "_toc.yml")]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    html = repo_root() / "_build" / "html"
    if html.is_dir():  # no stale pages of another profile's build (Sphinx rewrites every page then: seconds)
        shutil.rmtree(html)
    print("$", " ".join(shlex.quote(c) for c in cmd), flush=True)
    return subprocess.run(cmd, cwd=repo_root()).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evosynth_lib.book",
        description="Execute the book's notebooks for a profile (reusing published results) and build the HTML book.")
    parser.add_argument("--profile", default="quick", help="profiles/<PROFILE>/ (smoke | quick | paper); default quick")
    parser.add_argument("--retrain", action="store_true",
                        help="delete the run folders of the executed pages' evolutions and train them again")
    parser.add_argument("--publish", action="store_true",
                        help="publish the profile's runs that the pages computed into results/PROFILE/ (without it, "
                             "results/ is only read: runs that are not published show as local runs)")
    parser.add_argument("--only", action="append", metavar="PAGE",
                        help="execute only this page (repeatable); the HTML is rebuilt if every page of the book exists")
    parser.add_argument("--no-html", action="store_true", help="execute the notebooks but do not build the HTML")
    parser.add_argument("--no-strict", action="store_true", help="do not turn jupyter-book warnings into errors")
    parser.add_argument("--log-output", action="store_true", help="stream the notebooks' output (training progress)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name; default python3")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="missing evolutions trained at once (Ray; default: one per core)")
    parser.add_argument("--list", action="store_true", help="list the profile's pages and exit")
    args = parser.parse_args(argv)

    run_log = repo_root() / RUN_LOG
    pages = profile_pages(args.profile)
    if args.list:
        for p in pages:
            print(f"{p:24s} {page_source(p).relative_to(repo_root())}  profiles/{args.profile}/{p}.yaml")
        return 0
    missing_pages = [p for p in READING_PAGES if p not in pages]
    if missing_pages:
        raise SystemExit(f"profile {args.profile} lacks {missing_pages}: book/_toc.yml needs them")
    todo = pages
    if args.only:
        unknown = sorted(set(args.only) - set(pages))
        if unknown:
            raise SystemExit(f"--only {unknown}: not a page of profile {args.profile} ({', '.join(pages)})")
        todo = [p for p in pages if p in args.only]
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    executed_dir().mkdir(parents=True, exist_ok=True)
    if not args.only:  # a full build: start a fresh log and drop pages of other profiles
        for stale in executed_dir().glob("*.ipynb"):
            if stale.stem not in pages:
                stale.unlink()
        run_log.unlink(missing_ok=True)
    log = json.loads(run_log.read_text()) if run_log.is_file() else {}
    if log.get("profile") not in (None, args.profile):
        log = {}  # the log of another profile's build
    command = "python -m evosynth_lib.book " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    if args.only:  # the book's command stays the full build's; partial re-runs are listed after it
        log.setdefault("partial_runs", []).append({"command": command, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                                                   **git_state()})
        log.setdefault("command", command)
    else:
        log.update(command=command, started=time.strftime("%Y-%m-%d %H:%M:%S"), **git_state())
    log.update(profile=args.profile, environment=environment_info())
    log.setdefault("pages", {})
    run_log.write_text(json.dumps(log, indent=2, default=str) + "\n")

    t0 = time.time()
    trained = train_missing(args.profile, todo, retrain=args.retrain, jobs=args.jobs)  # at once, on Ray
    log.update(retrain=args.retrain, trained={o.name: o.status for o in trained})
    run_log.write_text(json.dumps(log, indent=2, default=str) + "\n")
    for i, page in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] {page} ({page_source(page).relative_to(repo_root())}, "
              f"profiles/{args.profile}/{page}.yaml)", flush=True)
        # retrain=False: train_missing did the retraining; the pages publish its runs
        entry = execute(page, args.profile, False, args.log_output, args.kernel, publish=args.publish)
        print(f"[{i}/{len(todo)}] {page}: {entry['status']} in {entry['duration_s']:.1f} s", flush=True)
    log = json.loads(run_log.read_text())
    log.update(finished=time.strftime("%Y-%m-%d %H:%M:%S"), duration_s=round(time.time() - t0, 1))
    run_log.write_text(json.dumps(log, indent=2, default=str) + "\n")
    print(f"executed {len(todo)} page(s) in {time.time() - t0:.0f} s; run log: {run_log.relative_to(repo_root())}")

    status = write_status(args.profile)  # the intro's table of what is produced, from results/<profile>/
    print(f"status of the experiments: {status.relative_to(repo_root())}")
    if args.no_html:
        return 0
    absent = [p for p in pages if not (executed_dir() / f"{p}.ipynb").exists()]
    if absent:
        print(f"HTML not built: pages {absent} were never executed (run without --only first)")
        return 1
    rc = build_html(strict=not args.no_strict)
    if rc == 0:
        print(f"book: {(repo_root() / '_build' / 'html' / 'index.html').relative_to(repo_root())}")
    return rc
