"""Speed of every generation of a finished run, re-measured from its checkpoints."""
from evosynth_lib.config import EvolutionConfig
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.measure import measure_run_speed


def test_measure_run_speed_on_a_finished_run(tmp_path):
    run = evolve(EvolutionConfig(dataset="synthetic", generations=2, epochs=0.5, device="cpu",
                                 synthetic_size=(128, 64)), tmp_path, progress=False)
    df = measure_run_speed(run, batch_sizes=(1, 4), repetitions=2, half_repetitions=1)
    assert list(df.generation) == [1, 2]
    for col in ("fps_masked_b1", "fps_compact_b1", "fps_masked_b4", "fps_compact_b4"):
        assert (df[col] > 0).all()
    assert df.speedup_compact_b1.iloc[0] == df.fps_compact_b1.iloc[0] / df.fps_masked_b1.iloc[0]
