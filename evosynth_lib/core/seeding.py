"""Deterministic seeds: every random draw of a generation is seeded from (config seed, generation, purpose).

Because no generation depends on RNG state carried over from an earlier one, an evolution resumed from a
checkpoint draws exactly what an uninterrupted one draws.
"""
from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def derive_seed(seed: int, *keys: object) -> int:
    blob = ":".join(str(k) for k in (seed, *keys)).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "little") & ((1 << 63) - 1)


def generator(seed: int, *keys: object) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from ``(seed, *keys)``."""
    return torch.Generator().manual_seed(derive_seed(seed, *keys))


def seed_everything(seed: int, *keys: object) -> None:
    s = derive_seed(seed, *keys)
    random.seed(s)
    np.random.seed(s % (1 << 32))
    torch.manual_seed(s)


def rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
