"""Plain training: SGD with momentum, a learning-rate schedule per generation, masks kept through training.

Pruned synapses stay exactly zero: their gradients are zeroed before each step (so momentum and weight decay
never move them) and the masks are re-applied after it.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import torch
from torch import nn
from tqdm.auto import tqdm

from ..config import OPTIMIZERS, SCHEDULES
from ..core.masks import Masks, apply_masks, mask_gradients


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else the CPU; anything else as given (``cpu``, ``cuda:1``)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


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
) -> dict:
    """Train ``model`` in place for ``epochs`` (fractions allowed) over ``loader``.

    ``loss_fn(model, batch) -> scalar loss`` (a non-finite loss stops training with ``FloatingPointError``).
    ``optimizer``: ``sgd`` (with ``momentum``) or ``adam``. Returns ``{"train_loss", "steps",
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
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total, lr, schedule)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
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
