"""Bad input and impossible settings: one line naming the cause, exit status 2, nothing trained or written."""
from pathlib import Path

import pytest
import torch

from evosynth_lib import cli
from evosynth_lib.sweep_command import evolutions_from
from evosynth_lib.config import ConfigError
from evosynth_lib.tasks.data_dir import data_root

SYNTH = "dataset: synthetic\ngenerations: 2\nepochs: 0.5\nsynthetic_size: [128, 64]\n"


def _run(tmp_path, capsys, text: str | bytes, *sets: str):
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(text if isinstance(text, bytes) else text.encode())
    runs = tmp_path / "runs"
    argv = [str(cfg), "--runs-dir", str(runs)]
    for s in sets:
        argv += ["--set", s]
    rc = cli.main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert not runs.exists() or not any(p.name != ".locks" for p in runs.iterdir())  # nothing started
    return err


@pytest.mark.parametrize("text, sets, words", [
    (SYNTH, ["seed=["], "--set 'seed=[' is not valid YAML"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", [], "is not a text (UTF-8) YAML file"),
    ("", [], "is empty"),
    ("# only a comment\n", [], "is empty"),
    (SYNTH + "epochs: 2.0\n", [], "key 'epochs' is given twice"),
    ("- a\n- list\n", [], "must hold a mapping"),
    (SYNTH, ["epochs=1e-12"], "invalid epochs=1e-12: 2 batches per epoch, so it trains 0 steps"),
    (SYNTH, ["train_subset=100000"], "invalid train_subset=100000: the data has only 128 examples"),
    (SYNTH, ["validation=500"], "invalid validation=500: the training set has only 128 examples"),
    (SYNTH, ["batch_size=100000000000000000000"], "invalid batch_size=100000000000000000000"),
    ("dataset: synthetic\nseeds: []\n", [], "invalid seeds=[]"),
    ("dataset: synthetic\nseeds: [0, -3]\n", [], "invalid seeds=[0, -3]"),
    ("dataset: synthetic\nseeds: -1\n", [], "invalid seeds=-1"),
])
def test_bad_input_is_one_line(tmp_path, capsys, text, sets, words):
    assert words in _run(tmp_path, capsys, text, *sets)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: device=cuda is valid here")
def test_cuda_without_a_gpu_is_one_line(tmp_path, capsys):
    assert "invalid device='cuda': this machine has 0 CUDA device" in _run(tmp_path, capsys, SYNTH, "device=cuda")


def test_seeds_are_all_checked_before_any_trains(tmp_path, capsys):
    _run(tmp_path, capsys, SYNTH.replace("generations: 2\n", "") + "seeds: [0, 1, -3]\n")


def test_sweep_set_applies_to_a_profile_and_is_checked():
    evs = evolutions_from([], "smoke", None, ["cap=0.7"])
    assert evs and all(ev.config.cap == 0.7 for ev in evs)
    with pytest.raises(ConfigError, match="invalid cap=1.5"):
        evolutions_from([], "smoke", None, ["cap=1.5"])


def test_data_is_found_beside_the_repository(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "profiles").mkdir(parents=True)
    (repo / "_config.yml").write_text("title: t\n")
    (repo / "notebooks").mkdir()
    (tmp_path / "shared" / "data").mkdir(parents=True)
    monkeypatch.delenv("EVOSYNTH_DATA", raising=False)
    monkeypatch.delenv("EVOSYNTH_ROOT", raising=False)
    monkeypatch.chdir(repo / "notebooks")  # JupyterLab runs a notebook in its folder
    assert data_root() == (tmp_path / "shared" / "data").resolve()
    assert data_root("mydata") == repo / "mydata"  # a relative data_dir: from the repository root, as runs_dir
    monkeypatch.setenv("EVOSYNTH_DATA", str(tmp_path / "elsewhere"))
    assert data_root() == tmp_path / "elsewhere"


def test_run_commands_name_pages_that_exist(tmp_path):
    from evosynth_lib.book import results

    seed = results.load_published("quick", "mnist-seed1", tmp_path)
    assert "--only evolve-mnist" in seed.command and "seed1" not in seed.command
    smoke = results.load_published("smoke", "mnist", tmp_path)
    assert "--profile smoke" not in smoke.command and "--only evolve-mnist" in smoke.command
    assert Path("profiles", smoke.command.split("--profile ")[1].split()[0], "evolve-mnist.yaml").exists()
