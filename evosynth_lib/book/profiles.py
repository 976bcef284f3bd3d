"""A profile's pages and the evolutions they publish: configurations from profile files and notebook parameters.

A profile is a folder ``profiles/<profile>/`` of YAML files, one per page. An ``evolve-*`` page publishes one run
per seed of its ``seeds`` list (``<name>`` for the first, ``<name>-seed<k>`` for the others), the normaliser
study one per reading (``normalisation/<reading>``). A configuration is *the profile's* when it equals the one the
profile publishes under that name (:func:`differences` says what differs otherwise).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..config import ConfigError, EvolutionConfig
from ..run.sweep import Evolution
from .pages import check_seeds, evolutions_of, seed_run_name  # noqa: F401  (the one definition)
from .paths import profiles_dir


def page_of(name: str) -> str:
    """The page that trains the run published as ``name`` (``mnist-seed1`` -> ``evolve-mnist``)."""
    base = re.sub(r"-seed\d+$", "", name)
    return "normalisation" if base.startswith("normalisation/") else f"evolve-{base.replace('/', '-')}"


def profile_config(profile: str, name: str) -> EvolutionConfig | None:
    """The configuration the profile publishes as ``name`` (``None``: the profile has no such run)."""
    try:
        found = [ev for ev in profile_evolutions(profile, [page_of(name)]) if ev.name == name]
    except FileNotFoundError:
        return None
    return found[0].config if found else None


def differences(config: EvolutionConfig, reference: EvolutionConfig | None) -> dict[str, Any]:
    """The fields of ``config`` that differ from ``reference`` (what makes a run local, not the profile's)."""
    if reference is None:
        return {"profile": "has no such run"}
    a, b = config.to_dict(), reference.to_dict()
    return {k: a[k] for k in a if a[k] != b.get(k) and k not in ("data_dir", "num_workers", "download")}


def profile_evolutions(profile: str, pages: list[str] | None = None) -> list[Evolution]:
    """Every evolution the pages of ``profile`` train, named as they are published: each seed of an ``evolve-*``
    page (``<name>``, ``<name>-seed<k>``) and each reading of the normaliser study (``normalisation/<reading>``);
    read by :func:`~evosynth_lib.book.pages.evolutions_of`, as the command line reads a file."""
    out = []
    for path in sorted((profiles_dir() / profile).glob("*.yaml")):
        page = path.stem
        if (pages is not None and page not in pages) or not (page.startswith("evolve") or page == "normalisation"):
            continue
        out += evolutions_of(path)
    return out


def config_from_parameters(namespace: dict[str, Any], seed: int | None = None) -> EvolutionConfig:
    """An ``EvolutionConfig`` from a notebook's parameters (its globals): every field found there.

    ``seed`` overrides the namespace's (a page with ``seeds = [0, 1, 2]`` makes one configuration per seed)."""
    names = [f.name for f in dataclasses.fields(EvolutionConfig)]
    values = {k: namespace[k] for k in names if k in namespace}
    if seed is not None:
        values["seed"] = seed
    return EvolutionConfig.from_dict(values).validate()


def configs_for_seeds(namespace: dict[str, Any], seeds: Any) -> dict[int, EvolutionConfig]:
    """One checked configuration per seed of a page's ``seeds`` (all of them checked before any trains)."""
    check_seeds(seeds)
    return {seed: config_from_parameters(namespace, seed=seed) for seed in seeds}
