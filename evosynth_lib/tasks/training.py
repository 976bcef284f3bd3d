"""Plain training: SGD with momentum, a learning-rate schedule per generation, masks kept through training.

Pruned synapses stay exactly zero: their gradients are zeroed before each step (so momentum and weight decay
never move them) and the masks are re-applied after it.

``precision="bf16"`` trains with bfloat16 autocast (the weights, gradients and optimizer state stay float32:
"fp32 master weights") and channels-last tensors, the layout the CPU's matrix units (AMX / AVX-512 BF16) and
CUDA tensor cores run fast. ``precision: bf16`` in a configuration asks for it *where the device runs it fast*:
:func:`training_arithmetic` resolves it per device (:func:`bf16_training_support` says which features decided),
to fp32 elsewhere, where bf16 would be emulated and slower; the run records the arithmetic it used.
"""
from __future__ import annotations

import math
import os
import time
from typing import Callable, Iterable

import torch
from torch import nn
from tqdm.auto import tqdm

from ..config import OPTIMIZERS, SCHEDULES
from ..core.masks import Masks, apply_masks, mask_gradients
from .hardware import cpu_flags as _cpu_flags, mkldnn_check


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else the CPU; anything else as given (``cpu``, ``cuda:1``)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and (not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"invalid device={device!r}: this machine has {torch.cuda.device_count()} CUDA device(s) "
                         f"visible to torch; use device=auto or cpu")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"invalid device={device!r}: MPS is not available here; use device=auto or cpu")
    return dev


def bf16_training_support(device: torch.device | str) -> tuple[bool, str]:
    """``(fast, why)``: does ``device`` run bfloat16 convolutions and matrix products natively?

    CPU: oneDNN must support bf16 and the CPU must have AMX-BF16 or AVX512-BF16 (else bf16 is emulated and
    slower than fp32). CUDA: ``torch.cuda.is_bf16_supported()`` (Ampere or newer).
    """
    device = torch.device(device)
    if device.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        return ok, f"CUDA {torch.cuda.get_device_name(device)}: bf16 {'supported' if ok else 'not supported'}"
    if device.type != "cpu":
        return False, f"no bf16 training path for device {device.type!r}"
    flags = _cpu_flags() & {"amx_bf16", "avx512_bf16"}
    onednn = bool(torch.backends.mkldnn.is_available() and mkldnn_check("_is_mkldnn_bf16_supported"))
    ok = onednn and bool(flags)
    return ok, (f"CPU flags {', '.join(sorted(flags)) or 'without amx_bf16/avx512_bf16'}; oneDNN bf16 "
                f"{'supported' if onednn else 'not supported'}")


ARITHMETIC_ENV = "EVOSYNTH_ARITHMETIC"  # fp32 | bf16: force one arithmetic (a study of what the other one gives)
ARITHMETICS = ("fp32", "bf16")


def training_arithmetic(precision: str, device: torch.device | str) -> tuple[str, str]:
    """``(arithmetic, why)``: what a run asking for ``precision`` trains in on ``device``.

    ``fp32`` is fp32 everywhere; ``bf16`` is bf16 where the device runs it fast, else fp32 (bf16 would be
    emulated there, several times slower). ``$EVOSYNTH_ARITHMETIC`` forces one of them on any device."""
    forced = os.environ.get(ARITHMETIC_ENV, "")
    if forced:
        if forced not in ARITHMETICS:
            raise ValueError(f"invalid {ARITHMETIC_ENV}={forced!r}: choose one of {', '.join(ARITHMETICS)}")
        return forced, f"forced by {ARITHMETIC_ENV}"
    if precision == "fp32":
        return "fp32", "asked for fp32"
    ok, why = bf16_training_support(device)
    return ("bf16", why) if ok else ("fp32", f"bf16 is not fast here ({why})")


def lr_at(step: int, total: int, lr: float, schedule: str) -> float:
    """Learning rate at ``step`` of ``total``: constant | step (x0.1 at 50% and 75%) | cosine (to 0)."""
    if schedule == "constant" or total <= 0:
        return lr
    frac = step / total
    if schedule == "step":
        return lr * (0.1 ** ((frac >= 0.5) + (frac >= 0.75)))
    if schedule == "cosine":
        return 0.5 * lr * (1 + math.cos(math.pi * frac))
    raise ValueError(f"invalid schedule={schedule!r}: choose one of {', '.join(SCHEDULES)}")


def train_epochs(
    model: nn.Module,
    masks: Masks | None,
    loader: Iterable,
    loss_fn: Callable[[nn.Module, object], torch.Tensor],
    epochs: float,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    schedule: str = "cosine",
    desc: str = "train",
    batch_transform: Callable | None = None,
    optimizer: str = "sgd",
    precision: str = "fp32",
) -> dict:
    """Train ``model`` in place for ``epochs`` (fractions allowed) over ``loader``.

    ``loss_fn(model, batch) -> scalar loss`` (a non-finite loss stops training with ``FloatingPointError``).
    ``optimizer``: ``sgd`` (with ``momentum``) or ``adam``. ``precision``: ``fp32`` or ``bf16`` (autocast
    and channels-last; the model is left channels-last, which changes no value). Returns ``{"train_loss", "steps",
    "optimizer_state", "train_seconds"}``.
    """
    steps_per_epoch = len(loader)
    total = int(round(epochs * steps_per_epoch))
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        raise ValueError(f"invalid optimizer={optimizer!r}: choose one of {', '.join(OPTIMIZERS)}")
    device = next(model.parameters()).device
    bf16 = precision == "bf16"
    if precision not in ARITHMETICS:
        raise ValueError(f"invalid precision={precision!r}: choose one of {', '.join(ARITHMETICS)}")
    if bf16:
        model.to(memory_format=torch.channels_last)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    start = time.perf_counter()
    model.train()
    step, running, seen = 0, 0.0, 0
    bar = tqdm(total=total, desc=desc, leave=False, mininterval=1.0)
    while step < total:
        for batch in loader:
            if step >= total:
                break
            if batch_transform is not None:
                batch = batch_transform(batch)
            if bf16:
                batch = [b.contiguous(memory_format=torch.channels_last)
                         if isinstance(b, torch.Tensor) and b.dim() == 4 else b for b in batch]
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total, lr, schedule)
            opt.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(model, batch).float()
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{desc}: loss is {float(loss.detach())} at step {step} (learning rate {lr} too high?)")
            loss.backward()
            if masks is not None:
                mask_gradients(model, masks)
            opt.step()
            if masks is not None:
                apply_masks(model, masks)
            running += float(loss.detach())
            seen += 1
            step += 1
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{running / seen:.4f}")
    bar.close()
    return {"train_loss": running / max(seen, 1) if seen else float("nan"), "steps": total,
            "optimizer_state": opt.state_dict(), "train_seconds": time.perf_counter() - start}


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, loader: Iterable, device: torch.device) -> float:
    """Top-1 accuracy over ``loader`` (batches of ``(x, y)``)."""
    model.eval()
    correct = total = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        correct += int((model(x).argmax(dim=1) == y).sum())
        total += int(y.numel())
    return correct / max(total, 1)
