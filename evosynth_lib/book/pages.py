"""A profile page or a configuration file, read into named evolutions: the one reader of both.

A page (``profiles/<profile>/<page>.yaml``) or a configuration file is a mapping of ``EvolutionConfig`` fields,
read strictly (a repeated key or an unknown field is an error naming it), with these keys besides:

* ``extends: <page>`` starts from another page of the same folder (``evolve-mnist``; from elsewhere a path
  relative to the file's folder, ``../profiles/quick/evolve-mnist``) and changes only the keys given here.
  Chains are followed; a cycle is an error naming its pages. ``name`` is not inherited: each file names its runs;
  a ``seed`` given here replaces an inherited ``seeds`` (and ``seeds`` a ``seed``), as in ``overrides``.
* ``targets_from: <run>``: a baseline's ``targets`` are the synapses of the run it pairs with, the ``synapses``
  column of ``results/<profile>/<run>/generations.csv`` (its first ``generations`` rows, at the page's
  ``generations``: asking for fewer keeps the same run).
* ``seeds: [...]``: one evolution per seed, instead of one ``seed``;
* keys that say where a page publishes, not what runs (:data:`BOOK_KEYS`).

Evolutions are named as the book publishes them: ``<name>`` for the first seed, ``<name>-seed<k>`` for the
others, where ``<name>`` is the file's ``name``, else its file name without ``evolve-``. A study page with
``readings`` (the normaliser study) makes one evolution per reading, ``<page>/<reading>``, from its ``base``.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..config import FIELD_NAMES, ConfigError, EvolutionConfig
from ..locations import resolve
from ..run.sweep import Evolution
from ..yaml_io import read_mapping
from .paths import RESULTS, relative

# keys of a page that say where the book publishes, not what runs
BOOK_KEYS = ("profile", "name", "page", "runs_dir", "results_dir", "retrain", "publish")
FIELDS = FIELD_NAMES  # a configuration's fields and its settings, as a page writes them


def read_page(path: str | Path) -> dict[str, Any]:
    """The mapping of a page or configuration file with its ``extends`` chain merged in (its own keys win; a
    ``detection`` mapping is merged key by key); ``name`` is the file's own."""
    return _merged(Path(path), [])


def _merged(path: Path, chain: list[Path]) -> dict[str, Any]:
    return extended(read_mapping(path), path, chain)


def extended(d: dict[str, Any], path: Path, chain: list[Path] = ()) -> dict[str, Any]:
    """The mapping ``d``, read from (or standing for) the file ``path``, with its ``extends`` chain merged in."""
    d, chain = dict(d), list(chain)
    here = path.resolve()
    if here in chain:
        loop = " -> ".join(str(relative(p)) for p in chain[chain.index(here):] + [here])
        raise ConfigError(f"extends makes a cycle: {loop}")
    base_name = d.pop("extends", None)
    if base_name is None:
        return d
    if not isinstance(base_name, str) or not base_name.strip():
        raise ConfigError(f"{relative(path)}: invalid extends={base_name!r}: must name a page (e.g. evolve-mnist)")
    base_path = path.parent / (base_name if base_name.endswith(".yaml") else f"{base_name}.yaml")
    if not base_path.is_file():
        raise ConfigError(f"{relative(path)}: extends {base_name!r}, but there is no {relative(base_path)}")
    base = _without_other_seeds(_merged(base_path, chain + [here]), d)
    base.pop("name", None)
    for key, value in d.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            value = {**base[key], **value}
        base[key] = value
    return base


def evolutions_of(path: str | Path, overrides: dict[str, Any] | None = None) -> list[Evolution]:
    """Every evolution a page or configuration file describes, checked, named as published (module docstring);
    ``overrides`` changes fields of every one of them (``seeds`` too)."""
    path = Path(path)
    source = str(relative(path))
    try:
        d = read_page(path)
        stem = path.stem.removeprefix("evolve-")
        folder_profile = d.get("profile") or path.parent.name
        if "readings" in d or "base" in d:
            return _study(d, path.stem, source, folder_profile, overrides or {})
        return evolutions_of_mapping(d, d.get("name") or stem, source, folder_profile, overrides)
    except TypeError as e:  # a value of a wrong type inside a dataclass' __post_init__
        raise ConfigError(f"{source}: {e}") from None


def evolutions_of_mapping(d: dict[str, Any], name: str, source: str, profile: str,
                          overrides: dict[str, Any] | None = None) -> list[Evolution]:
    """The evolutions of a page's merged mapping ``d`` (:func:`read_page`): one per seed, ``overrides`` applied (a
    ``seed`` there runs that seed of the page's ``seeds``, named as the page names it)."""
    values = {k: v for k, v in d.items() if k not in BOOK_KEYS}
    try:
        values = with_targets(values, profile)
        if overrides:
            page_seeds, seed = values.get("seeds"), overrides.get("seed")
            if isinstance(page_seeds, list) and page_seeds and isinstance(seed, int) and "seeds" not in overrides:
                name = seed_run_name(name, page_seeds, seed)  # one seed of the page: named as the page names it
            kept = {k: v for k, v in values.items() if not ("targets_from" in overrides and k == "targets")}
            values = with_targets({**_without_other_seeds(kept, overrides), **overrides}, profile)
        seeds = values.pop("seeds", None)
        if seeds is None:
            return [Evolution(name, EvolutionConfig.from_dict(values).validate(), source)]
        if "seed" in values:
            raise ConfigError("give either seed or seeds, not both")
        check_seeds(seeds)
        return [Evolution(seed_run_name(name, seeds, s), EvolutionConfig.from_dict({**values, "seed": s}).validate(),
                          source) for s in seeds]
    except (ConfigError, TypeError) as e:
        raise ConfigError(f"{source}: {e}") from None


def _without_other_seeds(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` without its ``seeds`` where ``changes`` gives a ``seed`` (and the other way round): one replaces
    the other."""
    drop = {"seed": "seeds", "seeds": "seed"}
    return {k: v for k, v in base.items() if not any(k == drop[c] for c in changes if c in drop)}


def _study(d: dict[str, Any], page: str, source: str, profile: str, overrides: dict[str, Any]) -> list[Evolution]:
    readings = d.get("readings") or {}
    if not isinstance(readings, dict) or not isinstance(d.get("base", {}), dict):
        raise ConfigError(f"{source}: base and readings must be mappings of fields")
    out = []
    for key, change in readings.items():
        try:
            values = with_targets({**d.get("base", {}), **change, **overrides}, profile)
            out.append(Evolution(f"{page}/{key}", EvolutionConfig.from_dict(values).validate(), source))
        except (ConfigError, TypeError) as e:
            raise ConfigError(f"{source}: reading {key}: {e}") from None
    return out


def with_targets(values: dict[str, Any], profile: str) -> dict[str, Any]:
    """``values`` with ``targets_from: <run>`` replaced by that published run's synapse counts (``targets``), or its
    compacted FLOPs (``flops_compact``) for the structured baseline at equal compute."""
    if "targets_from" not in values:
        return values
    values = dict(values)
    run = values.pop("targets_from")
    if "targets" in values:
        raise ConfigError("give either targets or targets_from, not both")
    generations = values.get("generations", EvolutionConfig.generations)
    csv_path = resolve(RESULTS) / profile / str(run) / "generations.csv"
    if not isinstance(run, str) or not csv_path.is_file():
        raise ConfigError(f"targets_from={run!r}: no published run {profile}/{run} ({relative(csv_path)} is missing)")
    column = "flops_compact" if values.get("pruning") == "structured" else "synapses"
    with open(csv_path, newline="") as f:
        synapses = [int(float(row[column])) for row in csv.DictReader(f)]
    if not isinstance(generations, int) or len(synapses) < generations:
        raise ConfigError(f"targets_from={run!r}: {relative(csv_path)} has {len(synapses)} generations, "
                          f"fewer than generations={generations!r}")
    values["targets"] = synapses[:generations]
    return values


def check_seeds(seeds: Any) -> None:
    """A ``seeds`` list: non-empty, distinct integers >= 0."""
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError(f"invalid seeds={seeds!r}: must be a non-empty list of integers >= 0")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad or len(set(seeds)) != len(seeds):
        raise ConfigError(f"invalid seeds={seeds!r}: must be distinct integers >= 0" + (f" (not {bad})" if bad else ""))


def seed_run_name(name: str, seeds: list[int], seed: int) -> str:
    """Where the run of ``seed`` is published: ``name`` for the first seed, ``<name>-seed<k>`` for the others."""
    return name if seed == seeds[0] else f"{name}-seed{seed}"
