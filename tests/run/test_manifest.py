"""The manifest is sealed by its own sha256 and belongs to its folder (run/manifest.py): a metric altered in place,
a garbage config.yaml or another run's folder copied under this run's id are refused, never used nor rewritten;
manifests written before the checksum are checked against their checkpoints' metrics instead."""
import ast
import inspect
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evosynth_lib.run import files, lock, store
from evosynth_lib.run import manifest as run_manifest
from evosynth_lib.run.manifest import CHECKSUM
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.store import CorruptCheckpointError, RunStoreError, load_generations

from .test_store import TIMING, small


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return evolve(small(), tmp_path_factory.mktemp("finished"), progress=False)


@pytest.fixture
def run(finished, tmp_path):
    """A copy of a finished run, to damage (under its own run id, in a store of its own)."""
    return shutil.copytree(finished, tmp_path / finished.name)


def _edit(run, change):
    manifest = json.loads((run / store.MANIFEST).read_text())
    change(manifest)
    (run / store.MANIFEST).write_text(json.dumps(manifest, indent=1))


def test_every_manifest_write_seals_it(run):
    manifest = json.loads((run / store.MANIFEST).read_text())
    assert manifest["run_id"] == run.name and len(manifest[CHECKSUM]) == 64


@pytest.mark.parametrize("field", ["metric", "settings"])
def test_a_manifest_altered_in_place_is_refused_and_the_csv_left_alone(run, field):
    csv = (run / store.CSV).read_bytes()
    if field == "metric":  # still valid JSON, one accuracy changed
        _edit(run, lambda m: m["generations"][1]["metrics"].update(accuracy=0.999))
    else:
        _edit(run, lambda m: m["settings"].update(threads=2))
    (run / store.CSV).write_text(csv.decode().splitlines(keepends=True)[0])  # short: would be repaired
    short = (run / store.CSV).read_bytes()
    for open_it in (lambda: load_generations(run), lambda: evolve(small(), run.parent, progress=False)):
        with pytest.raises(CorruptCheckpointError) as e:
            open_it()
        assert str(run / store.MANIFEST) in str(e.value) and "nothing was changed" in str(e.value)
        assert "Restore it from a copy" in str(e.value)
    assert (run / store.CSV).read_bytes() == short  # never rewritten from an altered manifest


def test_a_manifest_from_before_the_checksum_is_checked_against_the_checkpoints(run, finished):
    _edit(run, lambda m: [m.pop(CHECKSUM), m.pop("run_id")])  # as written before the checksum existed
    pd.testing.assert_frame_equal(load_generations(run), load_generations(finished))
    _edit(run, lambda m: m["generations"][2]["metrics"].update(synapses=1))
    with pytest.raises(CorruptCheckpointError, match=r"metrics of generation 3 differ from those stored in its "
                                                     r"checkpoint .*gen_003\.pt.*nothing was changed.*--rewind 2"):
        load_generations(run)
    store.rewind(run, 2)  # keeps generations 1-2, verified against their checkpoints, and seals the manifest
    manifest = json.loads((run / store.MANIFEST).read_text())
    assert CHECKSUM in manifest and manifest["run_id"] == run.name
    run_dir = evolve(small(), run.parent, progress=False)
    pd.testing.assert_frame_equal(load_generations(run_dir).drop(columns=TIMING),
                                  load_generations(finished).drop(columns=TIMING))


def test_a_garbage_config_is_an_error_naming_it(run):
    (run / store.CONFIG).write_text("{{{ not: a configuration")
    with pytest.raises(CorruptCheckpointError, match=r"config\.yaml is not a valid run configuration"):
        load_generations(run)
    (run / store.CONFIG).write_text("dataset: synthetic\nlearning_rate: 3\n")  # YAML, not an EvolutionConfig
    with pytest.raises(CorruptCheckpointError, match="config.yaml is not a valid run configuration.*learning_rate"):
        evolve(small(), run.parent, progress=False)


def test_another_runs_folder_copied_under_this_runs_id_is_refused(tmp_path):
    mine, other = small(generations=1), small(generations=1, seed=1)
    evolve(other, tmp_path, progress=False)
    copied = shutil.copytree(store.run_dir_for(other, tmp_path), store.run_dir_for(mine, tmp_path))
    with pytest.raises(RunStoreError) as e:
        evolve(mine, tmp_path, progress=False)
    message = str(e.value)
    assert f"does not hold run {mine.run_id()} (seed 0)" in message
    assert f"its config.yaml is run {other.run_id()} (seed 1)" in message and "Nothing was changed" in message
    (copied / store.CONFIG).write_text(mine.to_yaml_text())  # only the configuration replaced: the manifest says
    with pytest.raises(RunStoreError, match=f"manifest.json records run {other.run_id()}"):
        load_generations(copied)


def test_the_store_validates_without_assert():
    """``python -O`` strips asserts: the store's checks are explicit (an ``assert`` there would vanish)."""
    for module in (files, lock, run_manifest, store):
        asserts = [n.lineno for n in ast.walk(ast.parse(inspect.getsource(module))) if isinstance(n, ast.Assert)]
        assert not asserts, f"{module.__name__} validates with assert at lines {asserts}"
    with pytest.raises(CorruptCheckpointError, match="entry 1 is not generation 1"):
        run_manifest._check_structure(Path("m.json"), {"generations": [{"generation": 2}]})
