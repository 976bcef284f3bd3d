"""Bad input gets a clear error before any training; the configuration round-trips and hashes."""

import dataclasses

import pytest

from evosynth_lib.config import ConfigError, EvolutionConfig
from evosynth_lib.run import evolve as evolve_module


@pytest.mark.parametrize("field,value", [
    ("dataset", "imagenet"), ("model", "resnet"), ("cap", 0.0), ("cap", 1.5), ("cap", -0.2),
    ("generations", 0), ("generations", 2.5), ("epochs", -1), ("tau", -0.1), ("normaliser", "median"),
    ("schedule", "linear"), ("granularity", "layer"), ("first_epochs", -2), ("batch_size", 0),
])
def test_bad_input_is_a_value_error_naming_the_parameter(field, value, tmp_path, monkeypatch):
    cfg = EvolutionConfig(dataset="synthetic").replace(**{field: value})
    with pytest.raises(ValueError, match=field):
        cfg.validate()

    def no_training(*a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr(evolve_module, "make_task", no_training)
    with pytest.raises(ValueError, match=field):
        evolve_module.evolve(cfg, tmp_path)
    assert not any(tmp_path.iterdir())


def test_unknown_field_in_yaml(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("dataset: mnist\ngenerationz: 3\n")
    with pytest.raises(ValueError, match="generationz"):
        EvolutionConfig.from_yaml(p)


def test_yaml_round_trip_and_hash(tmp_path):
    cfg = EvolutionConfig(dataset="cifar10", model="alexnet", generations=6, tau=0.01, half_inference=True)
    cfg.to_yaml(tmp_path / "c.yaml")
    back = EvolutionConfig.from_yaml(tmp_path / "c.yaml")
    assert back == cfg and back.run_id() == cfg.run_id()
    assert cfg.replace(data_dir="/elsewhere", device="cpu").run_id() == cfg.run_id()  # where, not what
    assert cfg.replace(seed=1).run_id() != cfg.run_id()
    assert cfg.replace(generations=13).run_id() == cfg.run_id()  # more generations extend the same run
    assert cfg.replace(epochs=2).run_id() == cfg.replace(epochs=2.0).run_id()


def test_where_a_run_happens_is_apart_from_what_it_computes():
    """data_dir, device, num_workers, download and threads are the configuration's settings (RunSettings): given
    as fields (constructor, replace, YAML), written flat, never in the run id."""
    from evosynth_lib.settings import SETTINGS, RunSettings

    assert set(SETTINGS) == {"data_dir", "device", "num_workers", "download", "threads"}
    assert not set(SETTINGS) & {f.name for f in dataclasses.fields(EvolutionConfig)}  # not fields of what it computes
    here = EvolutionConfig(dataset="synthetic", threads=2, device="cpu")
    assert here.settings == RunSettings(device="cpu", threads=2)
    moved = here.replace(data_dir="/elsewhere", threads=4, num_workers=2)
    assert moved.settings == RunSettings(data_dir="/elsewhere", device="cpu", num_workers=2, threads=4)
    assert moved.run_id() == here.run_id() == EvolutionConfig(dataset="synthetic").run_id()
    written = moved.to_dict()
    assert "settings" not in written and written["threads"] == 4 and written["data_dir"] == "/elsewhere"
    assert EvolutionConfig.from_dict(written) == moved
    with pytest.raises(ConfigError, match="invalid device='tpu'"):
        here.replace(device="tpu").validate()
