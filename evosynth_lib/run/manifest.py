"""A run's manifest (``manifest.json``): read with every check, written with its checksum.

The manifest holds the run id, the settings that change the bits and, per finished generation, its checkpoint
file, the checkpoint's sha256 and its metrics row. Its own content is covered by ``manifest_sha256``: the
sha256 of its canonical JSON (sorted keys, no spaces) without that field, written by every manifest write
and checked by every read, so that a metric altered in place is refused like an altered checkpoint.
Manifests written before the checksum existed are checked entry by entry instead: each metrics row must equal
the one stored inside its checkpoint (:func:`verify_unsealed`); the next write seals them.

A manifest also belongs to its folder: ``config.yaml`` must parse as an :class:`EvolutionConfig` whose run
id is the folder's name and the manifest's ``run_id`` (:func:`check_identity`), so that another run's folder
copied under this run's id is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from ..config import EvolutionConfig
from .files import CorruptCheckpointError, RunStoreError, atomic_write_text, sha256

CONFIG = "config.yaml"
MANIFEST = "manifest.json"
CHECKSUM = "manifest_sha256"
CHECKPOINT_GLOB = "gen_*.pt"


def checkpoint_name(generation: int) -> str:
    return f"gen_{generation:03d}.pt"


def folder_id(run_dir: Path) -> str:
    """The run id a folder claims by its name."""
    return Path(os.path.abspath(run_dir)).name


def canonical_sha256(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest`` (atomically, sealed by its checksum); the in-memory dict is left unsealed."""
    body = {k: v for k, v in manifest.items() if k != CHECKSUM}
    atomic_write_text(run_dir / MANIFEST, json.dumps({**body, CHECKSUM: canonical_sha256(body)}, indent=1))


def _unreadable(path: Path, why: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"run manifest {path} is unreadable ({why}); nothing was changed. Move the folder {path.parent} away "
        f"(or delete it) to compute the run again.")


def _check_structure(path: Path, manifest: Any) -> None:
    """Explicit checks (never ``assert``: ``python -O`` strips them) of what the store relies on."""
    if not isinstance(manifest, dict):
        raise _unreadable(path, f"a JSON {type(manifest).__name__}, not an object")
    gens = manifest.get("generations")
    if not isinstance(gens, list):
        raise _unreadable(path, "no list of generations")
    if not isinstance(manifest.get("settings", {}), dict) or not isinstance(manifest.get("run_id", ""), str):
        raise _unreadable(path, "settings or run_id of the wrong type")
    for i, entry in enumerate(gens, start=1):
        if not isinstance(entry, dict) or entry.get("generation") != i:
            raise _unreadable(path, f"entry {i} is not generation {i}")
        if entry.get("checkpoint") != checkpoint_name(i) or not isinstance(entry.get("sha256"), str) \
                or not isinstance(entry.get("metrics"), dict):
            raise _unreadable(path, f"generation {i} lacks its checkpoint {checkpoint_name(i)}, sha256 or metrics")


def read_manifest(run_dir: Path) -> tuple[dict[str, Any], bool] | None:
    """The manifest of ``run_dir`` (without its checksum) and whether it was sealed by one; ``None`` if absent.

    An unreadable manifest, or a sealed one whose content does not match its checksum, raises
    :class:`CorruptCheckpointError`; nothing is written.
    """
    path = run_dir / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _unreadable(path, f"{type(e).__name__}: {e}") from e
    sealed = isinstance(manifest, dict) and CHECKSUM in manifest
    if sealed and manifest[CHECKSUM] != canonical_sha256(manifest):
        raise CorruptCheckpointError(
            f"run manifest {path} was altered after it was written: its content does not match the sha256 it "
            f"holds ({CHECKSUM}); it was not used and nothing was changed (generations.csv neither). Restore it "
            f"from a copy, or move the folder {run_dir} away (or delete it) to compute the run again.")
    _check_structure(path, manifest)
    manifest.pop(CHECKSUM, None)
    return manifest, sealed


def check_identity(run_dir: Path, manifest: dict[str, Any], expected: EvolutionConfig | None = None) -> None:
    """Refuse a folder whose ``config.yaml`` is not a configuration, or is another run's (the folder's name,
    the configuration's run id and the manifest's must agree). Records the run id in a manifest that lacks it."""
    path = run_dir / CONFIG
    try:
        config = EvolutionConfig.from_yaml(path)
    except Exception as e:  # noqa: BLE001 - whatever the parser says, the file is not a configuration
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CorruptCheckpointError(
            f"{path} is not a valid run configuration ({why}); nothing was changed. Restore it from a copy, or "
            f"move the folder {run_dir} away (or delete it) to compute the run again.") from e
    name, found = folder_id(run_dir), config.run_id()
    recorded = manifest.setdefault("run_id", name)
    if found != name or recorded != name:
        asked = f" (seed {expected.seed})" if expected is not None else ""
        raise RunStoreError(
            f"run folder {run_dir} does not hold run {name}{asked}: its {CONFIG} is run {found} (seed "
            f"{config.seed}) and its {MANIFEST} records run {recorded}; was another run's folder copied here? "
            f"Nothing was changed. Move it to {run_dir.parent / found} if it is that run, or move it away (or "
            f"delete it) to compute run {name} again.")


def how_to_recover(run_dir: Path, generation: int) -> str:
    return (f"To recompute generation {generation} and the later ones: "
            f"evosynth evolve --rewind {generation - 1} {run_dir}")


def verify_checkpoint(run_dir: Path, entry: dict[str, Any]) -> Path:
    """The checkpoint of a manifest entry, after checking that its sha256 is the recorded one."""
    g, path = entry["generation"], run_dir / entry["checkpoint"]
    if not path.exists():
        raise CorruptCheckpointError(f"checkpoint {path} of generation {g} is missing; {how_to_recover(run_dir, g)}")
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise CorruptCheckpointError(
            f"checkpoint {path} of generation {g} is corrupt or truncated (sha256 {digest[:12]}... != "
            f"{entry['sha256'][:12]}... recorded in {MANIFEST}); it was not used. {how_to_recover(run_dir, g)}")
    return path


def _canonical(metrics: dict[str, Any]) -> str:
    return json.dumps(metrics, sort_keys=True, default=str)


def verify_unsealed(run_dir: Path, entries: list[dict[str, Any]]) -> None:
    """For a manifest without checksum: each entry's metrics must be those stored in its (verified) checkpoint."""
    for entry in entries:
        path = verify_checkpoint(run_dir, entry)
        stored = torch.load(path, map_location="cpu", weights_only=False).get("metrics")
        if _canonical(entry["metrics"]) != _canonical(stored or {}):
            g = entry["generation"]
            raise CorruptCheckpointError(
                f"run manifest {run_dir / MANIFEST}: the metrics of generation {g} differ from those stored in "
                f"its checkpoint {path}; the manifest was altered and was not used, nothing was changed "
                f"(generations.csv neither). {how_to_recover(run_dir, g)}")
