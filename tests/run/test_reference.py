"""Published numbers come back: CI recomputes a short committed reference run and every number must match.

The reference (results/reference/mnist-prefix/, from configs/reference-mnist.yaml) was computed at a clean
commit with 1 thread on this machine kind (x86-64, AVX-512); another CPU may differ in the last bits (the
reproducibility page says by how much)."""
import json
from pathlib import Path

import pandas as pd

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.store import load_generations

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "results" / "reference" / "mnist-prefix"
NOT_NUMBERS = ["train_time_s", "wall_time_s", "commit"]


def test_reference_run_is_recomputed_exactly(mnist_dir, tmp_path):
    config = EvolutionConfig.from_yaml(ROOT / "configs" / "reference-mnist.yaml").replace(data_dir=str(mnist_dir))
    provenance = json.loads((REFERENCE / "provenance.json").read_text())
    assert provenance["run_id"] == config.run_id() and not provenance["dirty"]
    assert provenance["run_commits"] and not any(c.endswith("+dirty") for c in provenance["run_commits"])
    assert provenance["run_settings"]["threads"] == 1
    ours = load_generations(evolve(config, tmp_path, progress=False)).drop(columns=NOT_NUMBERS)
    # read as text, then Python's float(): the shortest repr written reads back exactly, whatever pandas' own parser
    raw = pd.read_csv(REFERENCE / "generations.csv", dtype=str).drop(columns=NOT_NUMBERS)
    reference = pd.DataFrame({c: raw[c].map(float).astype(ours[c].dtype) for c in ours.columns})
    pd.testing.assert_frame_equal(ours, reference, check_exact=True)
