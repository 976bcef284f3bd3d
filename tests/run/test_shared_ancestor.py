"""A run adopts the ancestor another run already trained only when it is the ancestor it would train itself
(``ancestor.ancestor_id``, ``ancestor.find_ancestor``): the result is bit-identical to training it."""
import json

import pandas as pd
import pytest
import torch

from evosynth_lib.config import OFFSPRING_ONLY, EvolutionConfig
from evosynth_lib.run import ancestor, store
from evosynth_lib.run.evolve import evolve

TIMES = ["train_time_s", "wall_time_s", "commit"]
BASE = dict(dataset="synthetic", generations=3, first_epochs=0.5, epochs=0.5, batch_size=64, lr=0.02,
            device="cpu", synthetic_size=(128, 64), threads=1)
# a value other than the default for every field that acts only on offspring
OTHER = {"generations": 2, "cap": 0.6, "factor_level": "cluster", "normaliser": "mean", "quantile": 0.5,
         "tau": 0.01, "inherit": False, "pruning": "random", "targets": (1000, 900, 800),
         "environment": "flops"}


def _same_run(a, b):
    da, db = store.load_generations(a), store.load_generations(b)
    pd.testing.assert_frame_equal(da.drop(columns=TIMES), db.drop(columns=TIMES))
    for g in range(1, len(da) + 1):
        ma, mb = store.load_checkpoint(a, g), store.load_checkpoint(b, g)
        assert all(torch.equal(ma["model"][k], mb["model"][k]) for k in ma["model"])
        assert all(torch.equal(ma["masks"][k], mb["masks"][k]) for k in ma["masks"])


def test_the_offspring_only_fields_are_every_field_that_leaves_the_ancestor_alone():
    assert set(OTHER) == set(OFFSPRING_ONLY)
    base = EvolutionConfig(**BASE)
    for name, value in OTHER.items():
        changed = base.replace(**{name: value})
        assert changed.run_id() != base.run_id() or name == "generations", name
        assert ancestor.ancestor_id(changed) == ancestor.ancestor_id(base), name
    # the ancestor's epochs are first_epochs when set, else epochs
    assert ancestor.ancestor_id(base.replace(epochs=1.0)) == ancestor.ancestor_id(base)
    assert ancestor.ancestor_id(base.replace(first_epochs=None, epochs=0.5)) == ancestor.ancestor_id(base)
    for name, value in {"lr": 0.03, "seed": 1, "first_epochs": 1.0, "granularity": "filter", "fp16": True,
                        "batch_size": 32, "precision": "bf16", "validation": 16}.items():
        assert ancestor.ancestor_id(base.replace(**{name: value})) != ancestor.ancestor_id(base), name


def test_offspring_only_fields_do_not_change_the_trained_ancestor(tmp_path):
    """Trained (not adopted): the ancestor of each variant equals the base run's, bit for bit."""
    base = EvolutionConfig(**BASE)
    ref = evolve(base.replace(generations=1), tmp_path / "ref", progress=False)
    targets = tuple(store.load_generations(ref)["synapses"]) + (900, 800)
    for name, value in OTHER.items():
        pruning = {"targets": targets, "pruning": "random"} if name in ("pruning", "targets") else {name: value}
        run = evolve(base.replace(**pruning), tmp_path / name, stop_after=1, progress=False, share_ancestor=False)
        _same_run(ref, run)


def test_an_adopted_ancestor_gives_exactly_the_run_trained_from_scratch(tmp_path):
    donor = EvolutionConfig(**BASE)
    config = donor.replace(cap=0.6, normaliser="mean", epochs=1.0)
    scratch = evolve(config, tmp_path / "scratch", progress=False, share_ancestor=False)
    donor_dir = evolve(donor, tmp_path / "shared", progress=False)
    shared = evolve(config, tmp_path / "shared", progress=False)
    _same_run(scratch, shared)
    entry = json.loads((shared / store.MANIFEST).read_text())["generations"][0]
    assert entry["ancestor_from"] == donor_dir.name
    assert "ancestor_from" not in json.loads((scratch / store.MANIFEST).read_text())["generations"][0]
    assert store.load_checkpoint(shared, 1)["config"]["cap"] == 0.6


@pytest.mark.parametrize("change", [{"lr": 0.03}, {"threads": 2}])
def test_no_adoption_when_the_ancestor_or_the_settings_differ(tmp_path, change):
    evolve(EvolutionConfig(**BASE).replace(generations=1), tmp_path, progress=False)
    run = evolve(EvolutionConfig(**BASE).replace(cap=0.6, generations=1, **change), tmp_path, progress=False)
    assert "ancestor_from" not in json.loads((run / store.MANIFEST).read_text())["generations"][0]
