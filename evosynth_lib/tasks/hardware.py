"""What the machine offers, read at run time: the CPU's name and feature flags, and oneDNN's own checks; and
how many of its CPU threads torch uses (:func:`torch_threads`).

One reading for every user: bf16 training (``training.bf16_training_support``), the deployment engines
(``run/engines.py``) and the benchmarks. Nothing here assumes a feature; a machine without ``/proc/cpuinfo``
simply reports none. The one place that sets torch's thread count for a block is :func:`torch_threads`: the
evolution loop (whose bits depend on it), the speed measurements and the deployment measurement use it.
"""
from __future__ import annotations

import contextlib
import platform
from pathlib import Path
from typing import Iterator

import torch


def _cpuinfo_field(prefix: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where there is none)."""
    return set((_cpuinfo_field("flags") or "").split())


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def mkldnn_check(name: str) -> bool | None:
    """oneDNN's own check ``torch.ops.mkldnn.<name>()`` (e.g. ``_is_mkldnn_bf16_supported``); None where absent."""
    try:
        return bool(getattr(torch.ops.mkldnn, name)())
    except (AttributeError, RuntimeError):
        return None


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[int]:
    """Run the block with ``n`` torch CPU intra-op threads (``torch.set_num_threads``), then restore the previous
    setting, also when the block raises. ``None`` keeps the current setting. Yields the thread count in force."""
    if n is not None and n < 1:
        raise ValueError(f"threads must be None or >= 1, got {n!r}")
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(old)
