"""Shared ancestors: a run adopts generation 1 from another run of the store that trained the same ancestor.

Runs that differ only in what acts on offspring (:data:`~evosynth_lib.config.OFFSPRING_ONLY`: a baseline's
pruning, the cap, the normaliser, ...) train bit-identical ancestors, so the second one adopts the first one's
checkpoint instead of training it again; its manifest entry names the donor under ``ancestor_from``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..config import OFFSPRING_ONLY, EvolutionConfig
from .manifest import CONFIG, verify_checkpoint
from .store import Run, read_verified, save_generation


def ancestor_id(config: EvolutionConfig) -> str:
    """A hash of what makes generation 1, the ancestor: the run id without the fields that act only on
    offspring (:data:`~evosynth_lib.config.OFFSPRING_ONLY`), the ancestor's epochs resolved. Two runs with the
    same ancestor id (and the same recorded settings) train bit-identical ancestors, so one may adopt the
    other's; tests/run/test_shared_ancestor.py holds every field of the list to that."""
    defaults = {k: EvolutionConfig.__dataclass_fields__[k].default for k in OFFSPRING_ONLY}
    first = config.first_epochs if config.first_epochs is not None else config.epochs
    return config.replace(**defaults, epochs=first, first_epochs=None).run_id()


def find_ancestor(config: EvolutionConfig, settings: dict[str, Any], runs_dir: str | os.PathLike,
                  exclude: Path) -> tuple[Path, dict[str, Any]] | None:
    """A run in ``runs_dir`` whose finished, verified generation 1 is the ancestor ``config`` would train: the
    same :func:`ancestor_id` and the same recorded settings (threads, device, ...). Returns its
    folder and manifest entry, or ``None``. Unreadable or corrupt candidates are passed over."""
    key = ancestor_id(config)
    for folder in sorted(Path(runs_dir).glob(f"{config.dataset}-{config.model}-*")):
        if folder.resolve() == Path(exclude).resolve() or not (folder / CONFIG).exists():
            continue
        try:
            if ancestor_id(EvolutionConfig.from_yaml(folder / CONFIG)) != key:
                continue
            manifest = read_verified(folder, entries=slice(0, 1))  # checksum, identity, generation 1's checkpoint
            if manifest is None or not manifest["generations"] or manifest.get("settings") != settings:
                continue
            entry = manifest["generations"][0]
        except Exception:  # noqa: BLE001 - a candidate we cannot trust is simply not used
            continue
        return folder, entry
    return None


def adopt_ancestor(run: Run, config: EvolutionConfig, donor: Path, entry: dict[str, Any]) -> None:
    """Commit ``donor``'s generation 1 as this run's (its weights, masks and metrics row unchanged; the
    checkpoint's configuration is this run's; the manifest entry names the donor under ``ancestor_from``)."""
    payload = torch.load(verify_checkpoint(donor, entry), map_location="cpu", weights_only=False)
    payload["config"] = config.to_dict()
    save_generation(run, 1, payload, entry["metrics"], note={"ancestor_from": entry.get("ancestor_from", donor.name)})
