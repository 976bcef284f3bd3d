"""Published results change only when a person publishes; a page run with other parameters computes a local run.

The smoke profile's synthetic page (profiles/smoke/evolve-synthetic.yaml) is the profile run; results and run
stores are temporary folders."""
import json
from pathlib import Path

import papermill
import pytest

from evosynth_lib.book import build, results
from evosynth_lib.book.pages import evolutions_of
from evosynth_lib.config import ConfigError, EvolutionConfig

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "profiles" / "smoke" / "evolve-synthetic.yaml"


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def published(tmp_path):
    """The smoke synthetic run, published into a temporary results folder by an explicit publish."""
    config = evolutions_of(PAGE)[0].config
    out = results.ensure_results(config, "smoke", "synthetic", tmp_path / "runs", tmp_path / "results", publish=True)
    assert isinstance(out, results.Published) and not out.local
    return config, tmp_path


def test_without_publish_results_are_only_read(tmp_path):
    config = evolutions_of(PAGE)[0].config
    found = results.ensure_results(config, "smoke", "synthetic", tmp_path / "runs", tmp_path / "results")
    assert found.local and not (tmp_path / "results").exists()  # computed, shown as local, nothing published
    assert found.provenance["run_id"] == config.run_id()


def test_the_profiles_run_is_reused_and_other_parameters_never_touch_it(published):
    config, tmp = published
    before = _snapshot(tmp / "results")
    again = results.ensure_results(config, "smoke", "synthetic", tmp / "nowhere", tmp / "results")
    assert not again.local and not (tmp / "nowhere").exists()  # reused: nothing trained
    other = results.ensure_results(config.replace(generations=1, cap=0.7), "smoke", "synthetic", tmp / "runs",
                                   tmp / "results")
    assert other.local and list(other.generations["generation"]) == [1]
    assert other.provenance["differs_from_profile"] == {"generations": 1, "cap": 0.7}
    assert "Local run, not published" in results.local_note([other]) and "cap=0.7" in results.local_note([other])
    assert _snapshot(tmp / "results") == before


def test_publishing_other_parameters_is_refused(published):
    config, tmp = published
    before = _snapshot(tmp / "results")
    with pytest.raises(results.PublishError, match="differ from profiles/smoke/evolve-synthetic.yaml.*generations=1"):
        results.ensure_results(config.replace(generations=1), "smoke", "synthetic", tmp / "runs", tmp / "results",
                               publish=True)
    assert _snapshot(tmp / "results") == before


def test_retrain_deletes_the_run_folder_only_and_says_so(published, capsys):
    config, tmp = published
    before = _snapshot(tmp / "results")
    found = results.ensure_results(config, "smoke", "synthetic", tmp / "runs", tmp / "results", retrain=True)
    assert "retrain: deleting the run folder" in capsys.readouterr().out
    assert found.local and found.provenance["run_id"] == config.run_id()  # trained again, shown as a local run
    assert _snapshot(tmp / "results") == before


def test_missing_data_is_an_error_unless_publishing(tmp_path, monkeypatch):
    monkeypatch.delenv("EVOSYNTH_DATA", raising=False)
    missing = EvolutionConfig(dataset="mnist", generations=2, data_dir=str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="EVOSYNTH_DATA"):
        results.ensure_results(missing, "t", "mnist", tmp_path / "runs", tmp_path / "results")
    assert not (tmp_path / "results").exists()


def test_papermill_with_one_changed_parameter_leaves_published_results_alone(published):
    """The README's recipe with a changed parameter: the page shows a local run, results/ is byte-identical."""
    config, tmp = published
    before = _snapshot(tmp / "results")
    ipynb = build.convert(ROOT / "notebooks" / "evolve.py")
    params = {**{k: v for k, v in __import__("yaml").safe_load(PAGE.read_text()).items()}, "generations": 1,
              "runs_dir": str(tmp / "runs"), "results_dir": str(tmp / "results"), "retrain": "false"}
    out = tmp / "out.ipynb"
    papermill.execute_notebook(str(ipynb), str(out), parameters=params, cwd=str(ROOT), progress_bar=False,
                               kernel_name="python3")
    assert "Local run, not published" in out.read_text()
    assert _snapshot(tmp / "results") == before


@pytest.mark.parametrize("parameters, words", [
    ({"retrain": "flase"}, "invalid retrain='flase': must be true or false"),
    ({"seeds": -1}, "invalid seeds=-1: must be a list"),
    ({"seeds": "[]"}, "invalid seeds=[]: must be a non-empty list"),
    ({"seeds": "[0, -3]"}, "invalid seeds=[0, -3]: must be distinct integers >= 0"),
])
def test_papermill_values_are_read_strictly_and_checked_before_training(tmp_path, parameters, words):
    ipynb = build.convert(ROOT / "notebooks" / "evolve.py")
    with pytest.raises(papermill.PapermillExecutionError, match=words.replace("[", r"\[").replace("]", r"\]")):
        papermill.execute_notebook(str(ipynb), str(tmp_path / "out.ipynb"), cwd=str(ROOT), progress_bar=False,
                                   kernel_name="python3", parameters={**parameters, "runs_dir": str(tmp_path / "runs"),
                                                                      "results_dir": str(tmp_path / "results")})
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results").exists()  # nothing trained


def test_a_false_string_is_false():
    from evosynth_lib.book.parameters import check_parameters

    ns = {"retrain": "false", "publish": "True", "seeds": "[0, 1]"}
    check_parameters(ns, {"retrain": False, "publish": False, "seeds": [0]})
    assert ns == {"retrain": False, "publish": True, "seeds": [0, 1]}


def test_profile_evolutions_refuse_bad_seeds(tmp_path, monkeypatch):
    (tmp_path / "profiles" / "x").mkdir(parents=True)
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "profiles" / "x" / "evolve-synthetic.yaml").write_text("dataset: synthetic\nseeds: [0, -3]\n")
    monkeypatch.setenv("EVOSYNTH_ROOT", str(tmp_path))
    with pytest.raises(ConfigError, match="seeds"):
        results.profile_evolutions("x")


def test_a_missing_dataset_is_published_as_awaiting_data_when_publishing(tmp_path, monkeypatch):
    """With publish, a missing dataset is recorded as not run of kind "awaits data" (the status table reads the
    kind, not the message)."""
    monkeypatch.delenv("EVOSYNTH_DATA", raising=False)
    config = evolutions_of(ROOT / "profiles" / "paper" / "evolve-stl10.yaml")[0].config.replace(
        data_dir=str(tmp_path / "empty"))
    nr = results.ensure_results(config, "paper", "stl10", tmp_path / "runs", tmp_path / "results", publish=True)
    assert isinstance(nr, results.NotRun) and nr.kind == "awaits data"
    again = results.load_published("paper", "stl10", tmp_path / "results")
    assert again.kind == "awaits data" and "not found" in again.reason
