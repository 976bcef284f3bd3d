"""The book's infrastructure: notebook sources, profiles, the papers' reference numbers, report helpers."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from evosynth_lib.book import build, display, paper, results, tables
from evosynth_lib.book.pages import evolutions_of, read_page
from evosynth_lib.config import FIELD_NAMES, ConfigError, EvolutionConfig

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
PROFILE_FILES = sorted((ROOT / "profiles").glob("*/*.yaml"))
PAPERS = ROOT.parent / "shared" / "papers"
MAIN_TEXT = PAPERS / "000_1ee60e884049c993.txt"
FP16_TEXT = PAPERS / "003_d1771171bd592a72.txt"


def _parameters_cell(path: Path):
    import jupytext

    nb = jupytext.read(path, fmt="py:percent")
    return next(c for c in nb.cells if c.cell_type == "code")


def notebook_parameters(path: Path) -> dict:
    """Names assigned in the parameters cell, with their literal default values."""
    tree = ast.parse(_parameters_cell(path).source)
    return {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name) and not t.id.startswith("_")}


# ------------------------------------------------------------------------------------------ notebooks
def test_there_are_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"evolve", "table1", "table2_3", "normalisation", "parse27k", "reproducibility"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_parses_and_first_code_cell_is_parameters(path):
    cell = _parameters_cell(path)
    assert "parameters" in cell.metadata.get("tags", []), f"{path.name}: first code cell is not tagged parameters"
    params = notebook_parameters(path)
    assert "profile" in params
    compile(path.read_text(), str(path), "exec")  # the whole source is valid Python


def test_evolve_notebook_exposes_every_config_field():
    params = notebook_parameters(ROOT / "notebooks" / "evolve.py")
    fields = set(FIELD_NAMES) - {"seed"} | {"seeds", "extends", "targets_from"}  # settings too
    assert fields <= set(params), f"missing: {sorted(fields - set(params))}"  # papermill -f of any page works
    assert {"profile", "page", "overrides", "name", "runs_dir", "results_dir", "retrain", "publish"} <= set(params)
    assert all(params[k] is None for k in fields)  # None: from the page
    [default] = results.page_evolutions(params)  # the smoke profile's evolve-synthetic page
    assert default.name == "synthetic" and default.config == results.profile_config("smoke", "synthetic")


def test_evolve_notebook_reads_a_page_its_keys_and_overrides_the_same_way():
    """The build's parameters (page + its YAML), papermill -f's (the YAML alone) and the page name alone give the
    profile's evolutions; overrides and papermill's strings change them, read strictly."""
    params = notebook_parameters(ROOT / "notebooks" / "evolve.py")
    for path in sorted((ROOT / "profiles").glob("*/evolve-*.yaml")):
        profile, page, raw = path.parent.name, path.stem, yaml.safe_load(path.read_text())
        published = [(ev.name, ev.config) for ev in results.profile_evolutions(profile, [page])]
        for given in ({**raw, "page": page}, raw, {"profile": profile, "page": page}):
            found = results.page_evolutions({**params, **given})
            assert [(ev.name, ev.config) for ev in found] == published, (path, given)
    quick = {**params, "profile": "quick", "page": "evolve-mnist-magnitude"}
    [changed] = results.page_evolutions({**quick, "seeds": "[1]", "overrides": {"generations": 3, "fp16": "true"}})
    assert changed.name == "mnist-magnitude" and changed.config.seed == 1 and changed.config.fp16 is True
    assert changed.config.targets == results.profile_config("quick", "mnist-magnitude").targets  # the page's
    with pytest.raises(ConfigError, match="invalid fp16='maybe'"):
        results.page_evolutions({**quick, "fp16": "maybe"})
    with pytest.raises(ConfigError, match="no profiles/quick/evolve-nope.yaml"):
        results.page_evolutions({**quick, "page": "evolve-nope"})


# ------------------------------------------------------------------------------------------ profiles
@pytest.mark.parametrize("path", PROFILE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_profile_keys_match_notebook_parameters(path):
    params = yaml.safe_load(path.read_text()) or {}
    profile, page = path.parent.name, path.stem
    source = build.page_source(page)
    declared = notebook_parameters(source)
    assert set(params) <= set(declared), f"{path}: unknown {sorted(set(params) - set(declared))}"
    assert params.get("profile") == profile, f"{path}: profile must be {profile!r} (papermill -f uses it as is)"
    if source.stem == "evolve":
        assert evolutions_of(path)  # every seed checked
    if source.stem == "normalisation":
        base = params.get("base", declared["base"])
        for change in params.get("readings", declared["readings"]).values():
            EvolutionConfig.from_dict({**base, **change}).validate()


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_profile_has_every_reading_page(profile):
    pages = build.profile_pages(profile)
    assert all(p in pages for p in build.READING_PAGES)
    assert pages[: len([p for p in pages if p.startswith("evolve")])] == sorted(p for p in pages if p.startswith("evolve"))
    assert pages[-1] == "reproducibility"


def test_toc_lists_the_reading_pages():
    toc = (ROOT / "book" / "_toc.yml").read_text()
    for page in build.READING_PAGES:
        assert f"book/notebooks/{page}" in toc
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"


# ------------------------------------------------------------------------------------------ paper.py
def _main_text() -> str:
    if not MAIN_TEXT.is_file():
        pytest.skip(f"{MAIN_TEXT} not present")
    return MAIN_TEXT.read_text()


def _x(s: str) -> float:
    return float(s.rstrip("X"))


def test_table1_matches_the_paper_text():
    rows = [line.split("\t") for line in _main_text().splitlines()
            if re.fullmatch(r"(\d+\t[\d.]+X\t0\.\d{4}\t?){3}", line.strip() + "\t")]
    assert len(rows) == 6
    for i, dataset in enumerate(["mnist", "stl10", "cifar10"]):
        got = [(int(r[3 * i]), _x(r[3 * i + 1]), float(r[3 * i + 2])) for r in rows]
        assert got == paper.TABLE1[dataset], dataset


def test_tables2_3_match_the_paper_text():
    text = _main_text()
    t2 = next(line for line in text.splitlines() if line.startswith("13\t0.9775")).split("\t")
    mnist, stl = t2[:7], t2[7:]
    assert [_x(v) for v in mnist[2:6]] == paper.TABLE2_3["mnist"][13]["layers"]
    assert _x(mnist[6]) == paper.TABLE2_3["mnist"][13]["E"]
    assert (int(stl[0]), float(stl[1])) == (10, paper.TABLE2_3["stl10"][10]["accuracy"])
    assert [_x(v) for v in stl[2:6]] == paper.TABLE2_3["stl10"][10]["layers"]
    assert _x(stl[6]) == paper.TABLE2_3["stl10"][10]["E"]
    t3 = next(line for line in text.splitlines() if line.startswith("6\t0.8459")).split("\t")
    assert [_x(v) for v in t3[2:9]] == paper.TABLE2_3["cifar10"][6]["layers"]
    assert _x(t3[9]) == paper.TABLE2_3["cifar10"][6]["E"]
    for d, gens in paper.TABLE2_3.items():  # baseline rows and accuracies agree with Table 1
        acc = {g: a for g, _, a in paper.TABLE1[d]}
        for g, ref in gens.items():
            assert ref["accuracy"] == acc[g]


def test_paper2_end_points_match_the_text():
    if not FP16_TEXT.is_file():
        pytest.skip(f"{FP16_TEXT} not present")
    text = " ".join(FP16_TEXT.read_text().split())
    assert "from 7 fps to 37 fps" in text and "13 generations" in text and "ten-fold decrease in synapses" in text
    assert paper.PARSE27K["fps_first"] == 7 and paper.PARSE27K["fps_last"] == 37
    assert paper.PARSE27K["generations"] == 13 and paper.PARSE27K["synapse_reduction"] == 10


def test_table1_implied_retention():
    assert paper.table1_retention("mnist") == pytest.approx(0.669, abs=0.001)


# ------------------------------------------------------------------------------------------ report
def _fake_results(tmp_path, generations=2):
    import pandas as pd

    out = tmp_path / "results" / "p" / "mnist"
    out.mkdir(parents=True)
    df = pd.DataFrame({"generation": range(1, generations + 1), "synapses": [430500 // (2 ** i) for i in range(generations)],
                       "architectural_efficiency": [2.0 ** i for i in range(generations)],
                       "accuracy": [0.99 - 0.001 * i for i in range(generations)],
                       **{f"cluster_efficiency_{n}": [1.0 + i for i in range(generations)]
                          for n in ("conv1", "conv2", "ip1", "ip2")},
                       "cluster_efficiency": [1.0 + i for i in range(generations)]})
    df.to_csv(out / "generations.csv", index=False)
    EvolutionConfig(generations=generations).to_yaml(out / "config.yaml")
    return tmp_path / "results"


def test_side_by_side_tables_have_no_empty_cells(tmp_path):
    pub = results.load_published("p", "mnist", _fake_results(tmp_path))
    assert isinstance(pub, results.Published)
    t1 = tables.table1_side_by_side("mnist", pub)
    assert list(t1.index) == [g for g, _, _ in paper.TABLE1["mnist"]]
    assert not t1.isna().any().any() and not (t1 == "").any().any()
    assert "not reached" in t1.loc[13, "A-E (ours)"]
    assert t1.loc[1, "ΔACC."] == "-0.0047"
    t2 = tables.table2_3_side_by_side("mnist", pub)
    assert not t2.isna().any().any()
    assert display.provenance_markdown(pub)


def test_missing_results_say_why_and_how(tmp_path):
    found = results.load_published("quick", "stl10", tmp_path / "nothing")
    assert isinstance(found, results.NotRun)
    assert "python -m evosynth_lib.book --profile" in found.command and "evolve-stl10" in found.command
    md = found.markdown()
    assert "not run" in md and found.command in md


def test_reading_pages_render_not_run_without_results(tmp_path):
    """table1 / parse27k with no results at all: executed without error, each dataset says 'not run'."""
    import papermill

    for page in ("table1", "parse27k"):
        ipynb = build.convert(ROOT / "notebooks" / f"{page}.py")
        out = tmp_path / f"{page}.ipynb"
        papermill.execute_notebook(str(ipynb), str(out), parameters={"profile": "quick",
                                   "results_dir": str(tmp_path / "results")}, cwd=str(ROOT), progress_bar=False,
                                   kernel_name="python3")
        text = out.read_text()
        assert "not run" in text and "--only evolve-" in text


def test_seed_spread_summarises_runs_that_differ_in_seed(tmp_path):
    import pandas as pd


    def pub(seed, acc):
        df = pd.DataFrame({"generation": [1, 5], "architectural_efficiency": [1.0, 4.0 + seed],
                           "accuracy": [0.99, acc]})
        return results.Published(f"s{seed}", tmp_path, df, {"seed": seed}, {})

    t = tables.seed_spread([pub(0, 0.98), pub(1, 0.96)], "mnist")
    assert t.loc[5, "seeds"] == 2
    assert t.loc[5, "A-E mean"] == "4.50X" and t.loc[5, "A-E min-max"] == "4.00-5.00X"
    assert t.loc[5, "ACC. mean"] == "0.9700" and t.loc[5, "ACC. min-max"] == "0.9600-0.9800"
    assert t.loc[5, "A-E (paper)"] == "5.20X"  # Table 1, MNIST generation 5
    g = tables.spread_over_seeds([pub(0, 0.98), pub(1, 0.96)], ["accuracy"])
    assert g.loc[5, "accuracy mean"] == "0.970" and g.loc[5, "accuracy min-max"] == "0.960-0.980"


def test_jupytext_pairs_notebook_sources_for_jupyterlab(tmp_path):
    """The repository's jupytext.toml pairs notebooks/*.py with .ipynb; a sync writes the pair, parameters first."""
    import shutil

    import jupytext
    from jupytext.cli import jupytext as jupytext_cli
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    root = ROOT
    config = load_jupytext_configuration_file(find_jupytext_configuration_file(str(root / "notebooks")))
    assert "ipynb,py:percent" in config.formats
    shutil.copy(root / "jupytext.toml", tmp_path)
    (tmp_path / "notebooks").mkdir()
    src = tmp_path / "notebooks" / "table1.py"
    shutil.copy(root / "notebooks" / "table1.py", src)
    jupytext_cli(["--sync", str(src)])
    nb = jupytext.read(src.with_suffix(".ipynb"))
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])
    assert [c.source for c in nb.cells] == [c.source for c in jupytext.read(src).cells]


def test_every_trained_profile_states_its_reading():
    """quick and paper evolutions must say which Z/z reading and cap they use (the default 'max' collapses),
    themselves or through the page they extend."""
    root = ROOT / "profiles"
    for profile in ("quick", "paper"):
        for f in sorted((root / profile).glob("evolve-*.yaml")):
            d = read_page(f)
            assert "normaliser" in d and "cap" in d, f
            if d["normaliser"] == "quantile":
                assert "quantile" in d, f
