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
from ..yaml_io import read_mapping
from .paths import profiles_dir, relative


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
    page (``<name>``, ``<name>-seed<k>``) and each reading of the normaliser study (``normalisation/<reading>``)."""
    fields = {f.name for f in dataclasses.fields(EvolutionConfig)}
    out = []
    for path in sorted((profiles_dir() / profile).glob("*.yaml")):
        page, source = path.stem, str(relative(path))
        if (pages is not None and page not in pages) or not (page.startswith("evolve") or page == "normalisation"):
            continue
        d = read_mapping(path)
        try:
            if page.startswith("evolve"):
                name, seeds = d.get("name") or d.get("dataset", "synthetic"), d.get("seeds", [0])
                check_seeds(seeds)
                values = {k: v for k, v in d.items() if k in fields}
                out += [Evolution(seed_run_name(name, seeds, s), EvolutionConfig.from_dict({**values, "seed": s}),
                                  source) for s in seeds]
            elif page == "normalisation":
                out += [Evolution(f"normalisation/{key}", EvolutionConfig.from_dict({**d.get("base", {}), **change}),
                                  source) for key, change in (d.get("readings") or {}).items()]
        except (ConfigError, TypeError) as e:
            raise ConfigError(f"{source}: {e}") from None
    return out


def config_from_parameters(namespace: dict[str, Any], seed: int | None = None) -> EvolutionConfig:
    """An ``EvolutionConfig`` from a notebook's parameters (its globals): every field found there.

    ``seed`` overrides the namespace's (a page with ``seeds = [0, 1, 2]`` makes one configuration per seed)."""
    names = [f.name for f in dataclasses.fields(EvolutionConfig)]
    values = {k: namespace[k] for k in names if k in namespace}
    if seed is not None:
        values["seed"] = seed
    return EvolutionConfig.from_dict(values).validate()


def check_seeds(seeds: Any) -> None:
    """A ``seeds`` list: non-empty, distinct integers >= 0."""
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError(f"invalid seeds={seeds!r}: must be a non-empty list of integers >= 0")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad or len(set(seeds)) != len(seeds):
        raise ConfigError(f"invalid seeds={seeds!r}: must be distinct integers >= 0" + (f" (not {bad})" if bad else ""))


def configs_for_seeds(namespace: dict[str, Any], seeds: Any) -> dict[int, EvolutionConfig]:
    """One checked configuration per seed of a page's ``seeds`` (all of them checked before any trains)."""
    check_seeds(seeds)
    return {seed: config_from_parameters(namespace, seed=seed) for seed in seeds}


def seed_run_name(name: str, seeds: list[int], seed: int) -> str:
    """Where the run of ``seed`` is published: ``name`` for the first seed, ``<name>-seed<k>`` for the others."""
    return name if seed == seeds[0] else f"{name}-seed{seed}"
