"""The command line: one-line errors (exit 2) for every bad value, profile files with a list of seeds, rewind."""
import subprocess
import sys
from pathlib import Path

import pytest

from evosynth_lib import cli
from evosynth_lib.book.pages import evolutions_of
from evosynth_lib.config import ConfigError, EvolutionConfig

ROOT = Path(__file__).resolve().parents[1]

BAD = [  # --set value -> the words the one-line error must hold
    ("seed=-1", "invalid seed=-1: must be an integer in [0, 2**31)"),
    ("seed=abc", "invalid seed='abc': must be an integer in [0, 2**31)"),
    ("fp16=maybe", "invalid fp16='maybe': must be true or false"),
    ("inherit=nope", "invalid inherit='nope': must be true or false"),
    ("cap=true", "invalid cap=True: must be a number in (0, 1]"),
    ("epochs=0", "invalid epochs=0"),
    ("first_epochs=0", "invalid first_epochs=0"),
    ("lr=fast", "invalid lr='fast': must be a number > 0"),
    ("quantile=high", "invalid quantile='high'"),
    ("momentum=lots", "invalid momentum='lots'"),
    ("weight_decay=x", "invalid weight_decay='x'"),
    ("normalizer=mean", "unknown field(s) normalizer"),
    ("generation=5", "unknown field(s) generation"),
    ("detection={widht: 4}", "unknown detection.field(s) widht"),
    ("batch_size=1.5", "invalid batch_size=1.5"),
    ("threads=0", "invalid threads=0"),
]


@pytest.mark.parametrize("setting,message", BAD, ids=[b[0] for b in BAD])
def test_bad_value_is_one_line_and_exit_2(setting, message, tmp_path, capsys):
    rc = cli.main([str(ROOT / "configs" / "mnist-3gen.yaml"), "--set", setting, "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not any(tmp_path.iterdir())  # nothing started


def test_detection_option_typo_in_a_detection_config(tmp_path, capsys):
    p = tmp_path / "c.yaml"
    p.write_text("dataset: synthetic_scenes\nmodel: detectnet\ndetection: {stride: 12}\n")
    assert cli.main([str(p), "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "invalid detection.stride=12: must be 8 or 16" in capsys.readouterr().err


def test_traceback_flag_shows_the_exception(tmp_path):
    with pytest.raises(ConfigError, match="seed"):
        cli.main([str(ROOT / "configs" / "mnist-3gen.yaml"), "--set", "seed=-1", "--traceback"])


def test_missing_file_and_bad_yaml(tmp_path, capsys):
    assert cli.main([str(tmp_path / "nope.yaml")]) == 2
    (tmp_path / "bad.yaml").write_text("dataset: [mnist\n")
    assert cli.main([str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: no configuration file") and err[1].startswith("error: ") and len(err) == 2


def test_every_profile_file_is_accepted_seed_by_seed():
    for path in sorted((ROOT / "profiles").glob("*/evolve-*.yaml")):
        configs = [ev.config for ev in evolutions_of(path)]
        assert configs and all(isinstance(c, EvolutionConfig) for c in configs)
    mnist = [ev.config for ev in evolutions_of(ROOT / "profiles" / "quick" / "evolve-mnist.yaml")]
    assert [c.seed for c in mnist] == [0, 1, 2]
    published = EvolutionConfig.from_yaml(ROOT / "results" / "quick" / "mnist-seed1" / "config.yaml")
    assert mnist[1].run_id() == published.run_id()


def test_a_profile_file_runs_from_the_command_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "evosynth_lib.cli", str(ROOT / "profiles" / "smoke" / "evolve-synthetic.yaml"),
                          "--runs-dir", str(tmp_path), "--set", "epochs=0.5", "--set", "generations=1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "run folder:" in out.stdout and "(seed 0)" in out.stdout


def test_rewind_from_the_command_line(tmp_path, capsys):
    from evosynth_lib.run.evolve import evolve

    run = evolve(EvolutionConfig(dataset="synthetic", generations=2, epochs=0.5, synthetic_size=(128, 64)), tmp_path,
                 progress=False)
    assert cli.main(["--rewind", "1", str(run)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"rewind {run}: deleting generation 2 and its checkpoint gen_002.pt"  # said before it is done
    assert "generations 1..1 kept" in out[1]
    assert not (run / "gen_002.pt").exists()


def test_rewind_refuses_what_drops_nothing_and_a_missing_run(tmp_path, capsys):
    from evosynth_lib.run.evolve import evolve

    run = evolve(EvolutionConfig(dataset="synthetic", generations=2, epochs=0.5, synthetic_size=(128, 64)), tmp_path,
                 progress=False)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    capsys.readouterr()  # the training's progress
    for g in ("-1", "2", "7"):
        assert cli.main(["--rewind", g, str(run)]) == 2
        err = capsys.readouterr().err
        assert err == (f"error: cannot rewind {run} to generation {g}: it has 2 finished generation(s), so give "
                       f"0..1 (the generations after it are dropped)\n")
    assert cli.main(["--rewind", "0", str(tmp_path / "no-such-run")]) == 2
    assert capsys.readouterr().err == f"error: no run in {tmp_path / 'no-such-run'} (no manifest.json)\n"
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # nothing was changed
    assert cli.main(["--rewind", "0", str(run)]) == 0
    assert capsys.readouterr().out.startswith(f"rewind {run}: deleting generations 1..2 and their checkpoints "
                                              f"gen_001.pt, gen_002.pt\n")


def test_runs_dir_naming_a_file_is_a_one_line_error(tmp_path, capsys):
    EvolutionConfig(dataset="synthetic", generations=1, epochs=0.5, synthetic_size=(128, 64)).to_yaml(tmp_path / "c.yaml")
    (tmp_path / "runs").write_text("not a folder")
    for runs in (tmp_path / "runs", tmp_path / "runs" / "sub"):
        assert cli.main([str(tmp_path / "c.yaml"), "--runs-dir", str(runs)]) == 2
        assert capsys.readouterr().err == f"error: run store {runs} is not a folder: {tmp_path / 'runs'} is a file\n"


@pytest.mark.parametrize("flag, adopted", [([], True), (["--no-shared-ancestor"], False)])
def test_shared_ancestor_from_the_command_line(tmp_path, flag, adopted):
    import json

    from evosynth_lib.run.evolve import evolve

    base = dict(dataset="synthetic", generations=1, epochs=0.5, synthetic_size=(128, 64), device="cpu")
    evolve(EvolutionConfig(**base), tmp_path, progress=False)
    config = EvolutionConfig(**base, cap=0.5)
    config.to_yaml(tmp_path / "c.yaml")
    assert cli.main([str(tmp_path / "c.yaml"), "--runs-dir", str(tmp_path), *flag]) == 0
    entry = json.loads((tmp_path / config.run_id() / "manifest.json").read_text())["generations"][0]
    assert ("ancestor_from" in entry) == adopted
