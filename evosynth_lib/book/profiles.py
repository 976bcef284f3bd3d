"""A profile's pages and the evolutions they publish: configurations from profile files and notebook parameters.

A profile is a folder ``profiles/<profile>/`` of YAML files, one per page. An ``evolve-*`` page publishes one run
per seed of its ``seeds`` list (``<name>`` for the first, ``<name>-seed<k>`` for the others), the normaliser
study one per reading (``normalisation/<reading>``). A configuration is *the profile's* when it equals the one the
profile publishes under that name (:func:`differences` says what differs otherwise).
"""
from __future__ import annotations

import re
from typing import Any

from ..config import ConfigError, EvolutionConfig
from ..run.sweep import Evolution
from ..yaml_io import parse_yaml, read_mapping
from .pages import FIELDS, evolutions_of, evolutions_of_mapping, extended, seed_run_name  # noqa: F401
from .parameters import strict_bool, strict_list
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


def profile_evolutions(profile: str, pages: list[str] | None = None,
                       overrides: dict[str, Any] | None = None) -> list[Evolution]:
    """Every evolution the pages of ``profile`` train, named as they are published: each seed of an ``evolve-*``
    page (``<name>``, ``<name>-seed<k>``) and each reading of the normaliser study (``normalisation/<reading>``);
    read by :func:`~evosynth_lib.book.pages.evolutions_of`, as the command line reads a file (``overrides``
    changes fields of every one)."""
    out = []
    for path in sorted((profiles_dir() / profile).glob("*.yaml")):
        page = path.stem
        if (pages is not None and page not in pages) or not (page.startswith("evolve") or page == "normalisation"):
            continue
        out += evolutions_of(path, overrides)
    return out


DEFAULT_PAGE = "evolve-synthetic"  # the evolve notebook's page when it is given neither a page nor a page's keys
PAGE_KEYS = (*FIELDS, "seeds", "extends", "targets_from")  # what a page says about its evolutions


def page_evolutions(namespace: dict[str, Any]) -> list[Evolution]:
    """The evolutions a notebook's parameters (its globals) describe, every one checked, named as published.

    ``profile`` and ``page`` name the page (``profiles/<profile>/<page>.yaml``, read by the rules of
    :mod:`~evosynth_lib.book.pages`); page keys given as parameters (papermill ``-f`` of a page injects them all;
    ``None`` means "from the page") change it; without a ``page``, keys that name a ``dataset`` or a page they
    ``extends`` are the page, others change :data:`DEFAULT_PAGE`. Then ``overrides`` (a mapping of fields)
    apply, and ``name`` replaces the page's name."""
    profile, page = namespace.get("profile") or "smoke", namespace.get("page")
    given = {k: _read(k, namespace[k]) for k in PAGE_KEYS if namespace.get(k) is not None}
    overrides = _read("overrides", namespace.get("overrides") or {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"invalid overrides={overrides!r}: must be a mapping of fields (-y 'overrides: {{...}}')")
    overrides = {k: _read(k, v) for k, v in overrides.items()}
    if page is None and not {"dataset", "extends"} & set(given):  # the keys given are changes, not a page
        page = DEFAULT_PAGE
    folder = profiles_dir() / profile
    if page is not None:
        path = folder / f"{page}.yaml"
        if not path.is_file():
            raise ConfigError(f"invalid page={page!r}: profile {profile!r} has no {relative(path)}")
        d, source = {**read_mapping(path), **given}, str(relative(path))
    else:
        d, source = given, f"the parameters of profile {profile!r}"
    d = extended(d, folder / f"{page or 'parameters'}.yaml")
    name = namespace.get("name") or (page.removeprefix("evolve-") if page else d.get("dataset", "mnist"))
    return evolutions_of_mapping(d, name, source, profile, overrides)


def _read(key: str, value: Any) -> Any:
    """A parameter's value read strictly by the type of the field (papermill's ``-p fp16 false`` is a string)."""
    default = EvolutionConfig().to_dict().get(key)
    try:
        if isinstance(default, bool):
            return strict_bool(key, value)
        if key == "seeds" or (key in ("targets", "synthetic_shape", "synthetic_size") and isinstance(value, str)):
            return strict_list(key, value)
    except TypeError as e:
        raise ConfigError(str(e)) from None
    if key in ("overrides", "detection") and isinstance(value, str):
        return parse_yaml(value, key)
    return value
