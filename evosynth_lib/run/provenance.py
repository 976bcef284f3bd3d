"""Where a result came from: the code's git commit and the machine it ran on."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

# The code that runs is this package: its git checkout (an editable install, or the repository on sys.path) tells
# the commit. An installed copy outside any checkout reports "unknown".
PACKAGE_DIR = Path(__file__).resolve().parents[1]
# what builds and runs write: not "changes to the source"
OUTPUT_PATHS = ("results", "book/notebooks", "_build", "runs")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state() -> dict[str, Any]:
    """HEAD's hash and whether the source differs from it (outputs - results, book, runs - ignored)."""
    head = _git("rev-parse", "HEAD")
    top = _git("rev-parse", "--show-toplevel")
    status = _git("-C", top, "status", "--porcelain", "--", ".", *(f":(exclude){p}" for p in OUTPUT_PATHS)) \
        if top else None
    return {"commit": head or "unknown", "dirty": bool(status) if status is not None else None}


def commit_label(state: dict[str, Any] | None = None) -> str:
    """``<sha>`` or ``<sha>+dirty``: the one spelling of a commit, stored in every generation's metrics row."""
    s = state or git_state()
    return s["commit"] + ("+dirty" if s["dirty"] else "")


def environment_info(device: Any = None) -> dict[str, Any]:
    """Python / library versions and hardware, for provenance and the reproducibility page."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.is_available()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
        info["torch_threads"] = torch.get_num_threads()
        if device is not None:
            info["device"] = str(device)
    except ImportError:  # the book's reading pages do not need torch
        info["torch"] = None
    try:
        import torchvision

        info["torchvision"] = torchvision.__version__
    except ImportError:
        pass
    if info.get("torch"):
        info["kind"] = machine_kind()
    return info


# environment variables that cap the instruction set torch uses (they emulate an older CPU on a newer one)
ISA_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


def machine_kind() -> dict[str, Any]:
    """What decides the last bits of a CPU result besides the code and the thread count: the architecture, the
    CPU model, the vector instruction set torch dispatches to (``torch.backends.cpu.get_cpu_capability``, which
    ``ATEN_CPU_CAPABILITY`` lowers), any cap on oneDNN's instruction set, whether the CPU has native bf16, and
    torch's release. Two runs of one configuration at one thread count on the same kind are bit-identical."""
    import torch

    from ..tasks.hardware import cpu_flags, cpu_name

    flags = cpu_flags()
    return {
        "machine": platform.machine(),
        "cpu": cpu_name(),
        "capability": torch.backends.cpu.get_cpu_capability(),
        "isa_cap": {k: os.environ[k] for k in ISA_ENV if os.environ.get(k)},
        "native_bf16": bool(flags & {"avx512_bf16", "amx_bf16"}),
        "torch": torch.__version__.split("+")[0],
    }
