"""The one reader of pages and configuration files (book/pages.py): extends, targets_from, names, errors."""
import json
from pathlib import Path

import pytest

from evosynth_lib.book.pages import evolutions_of, read_page
from evosynth_lib.book.profiles import profile_evolutions
from evosynth_lib.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with a profile ``t`` and one published run ``t/base`` of 3 generations."""
    (tmp_path / "profiles" / "t").mkdir(parents=True)
    (tmp_path / "_config.yml").write_text("title: t\n")
    published = tmp_path / "results" / "t" / "base"
    published.mkdir(parents=True)
    published.joinpath("generations.csv").write_text("generation,synapses,accuracy\n1,900,0.9\n2,500,0.9\n3,200,0.8\n")
    monkeypatch.setenv("EVOSYNTH_ROOT", str(tmp_path))
    return tmp_path / "profiles" / "t"


def page(folder: Path, name: str, text: str) -> Path:
    (folder / f"{name}.yaml").write_text(text)
    return folder / f"{name}.yaml"


BASE = "profile: t\ndataset: synthetic\ngenerations: 2\nepochs: 0.5\ncap: 0.7\nseeds: [0, 1]\ndetection: {}\n"


def test_extends_changes_only_what_it_gives_and_names_its_own_runs(repo):
    page(repo, "evolve-base", BASE)
    page(repo, "evolve-mid", "extends: evolve-base\ncap: 0.6\nseeds: [3]\n")
    child = page(repo, "evolve-child", "extends: evolve-mid\nname: kid\nfp16: true\n")
    [ev] = evolutions_of(child)
    assert ev.name == "kid" and ev.config.cap == 0.6 and ev.config.fp16 and ev.config.seed == 3
    assert ev.config.epochs == 0.5 and ev.config.generations == 2
    assert [e.name for e in evolutions_of(repo / "evolve-base.yaml")] == ["base", "base-seed1"]
    assert [e.name for e in evolutions_of(repo / "evolve-mid.yaml")] == ["mid"]  # the base's name is not inherited
    assert [e.name for e in profile_evolutions("t")] == ["base", "base-seed1", "kid", "mid"]
    one = page(repo, "evolve-one", "extends: evolve-base\nseed: 4\n")  # a seed replaces the inherited seeds
    assert [(e.name, e.config.seed) for e in evolutions_of(one)] == [("one", 4)]


def test_a_cycle_a_missing_base_a_repeated_key_and_an_unknown_field_are_errors(repo):
    page(repo, "evolve-a", "extends: evolve-b\ncap: 0.5\n")
    page(repo, "evolve-b", "extends: evolve-a\n")
    with pytest.raises(ConfigError, match=r"cycle: profiles/t/evolve-a.yaml -> profiles/t/evolve-b.yaml -> profiles/t/evolve-a"):
        evolutions_of(repo / "evolve-a.yaml")
    page(repo, "evolve-self", "extends: evolve-self\n")
    with pytest.raises(ConfigError, match="cycle"):
        read_page(repo / "evolve-self.yaml")
    with pytest.raises(ConfigError, match="extends 'evolve-nope', but there is no profiles/t/evolve-nope.yaml"):
        evolutions_of(page(repo, "evolve-c", "extends: evolve-nope\n"))
    page(repo, "evolve-base", BASE)
    with pytest.raises(ConfigError, match="key 'cap' is given twice"):
        evolutions_of(page(repo, "evolve-d", "extends: evolve-base\ncap: 0.5\ncap: 0.6\n"))
    with pytest.raises(ConfigError, match=r"evolve-e.yaml: unknown field\(s\) capp"):
        evolutions_of(page(repo, "evolve-e", "extends: evolve-base\ncapp: 0.5\n"))


def test_targets_from_reads_the_paired_runs_synapses(repo):
    page(repo, "evolve-base", BASE)
    pruned = page(repo, "evolve-pruned", "extends: evolve-base\npruning: magnitude\ntargets_from: base\n")
    evs = evolutions_of(pruned)
    assert [e.config.targets for e in evs] == [(900, 500), (900, 500)]  # its first `generations` rows
    shorter = evolutions_of(pruned, {"generations": 1})  # fewer generations: the same run, as before
    assert shorter[0].config.targets == (900, 500) and shorter[0].config.run_id() == evs[0].config.run_id()
    missing = page(repo, "evolve-lost", "extends: evolve-base\npruning: random\ntargets_from: gone\n")
    with pytest.raises(ConfigError, match=r"targets_from='gone': no published run t/gone \(results/t/gone/generations.csv"):
        evolutions_of(missing)
    too_long = page(repo, "evolve-long", "extends: evolve-pruned\ngenerations: 5\n")
    with pytest.raises(ConfigError, match="has 3 generations, fewer than generations=5"):
        evolutions_of(too_long)
    both = page(repo, "evolve-both", "extends: evolve-pruned\ntargets: [9, 8]\n")
    with pytest.raises(ConfigError, match="either targets or targets_from"):
        evolutions_of(both)


def test_every_profile_page_gives_the_committed_run_ids():
    """Every published run of every profile is the one its page describes (pages written with extends and
    targets_from give the configurations their copied-out versions gave)."""
    for profile in ("quick", "paper", "smoke"):
        for ev in profile_evolutions(profile):
            provenance = ROOT / "results" / profile / ev.name / "provenance.json"
            if provenance.is_file():
                assert json.loads(provenance.read_text())["run_id"] == ev.config.run_id(), (profile, ev.name)
    quick = {ev.name: ev.config for ev in profile_evolutions("quick")}
    assert quick["mnist-magnitude"].targets == (430500, 280820, 188113, 128842, 88924, 60727, 40313, 25851, 16286,
                                                10213, 6280, 3887, 2345)
    assert quick["cifar10-random"].targets == (4819648, 2868673, 1738359, 1066102, 652012, 400101)
    assert quick["mnist-filter"].replace(granularity="kernel") == quick["mnist"]
    assert quick["parse27k-median-cap80"].replace(cap=0.825, quantile=0.25) == quick["parse27k"]


def test_overrides_apply_through_the_loader_for_files_and_profiles(repo):
    """The command line's and the sweep's --set: a seed of a page is named as the page names it; the sweep's
    --profile reads its pages with the same overrides."""
    from evosynth_lib.sweep_command import evolutions_from

    base = page(repo, "evolve-base", BASE)
    assert [e.name for e in evolutions_of(base, {"seed": 1})] == ["base-seed1"]
    assert [e.name for e in evolutions_of(base, {"seed": 0, "cap": 0.5})] == ["base"]
    assert [(e.name, e.config.cap) for e in evolutions_of(base, {"seeds": [2, 0]})] == [("base", 0.7), ("base-seed0", 0.7)]
    swept = evolutions_from([], "t", None, ["cap=0.5"])
    assert [(e.name, e.config.cap) for e in swept] == [("base", 0.5), ("base-seed1", 0.5)]
    assert [e.name for e in evolutions_from([str(base)], None, None, [])] == ["base", "base-seed1"]
