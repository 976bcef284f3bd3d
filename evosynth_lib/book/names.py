"""How the pages name datasets."""
from __future__ import annotations

DISPLAY_NAMES = {
    "mnist": "MNIST",
    "stl10": "STL-10",
    "cifar10": "CIFAR-10",
    "synthetic": "synthetic images",
    "pennfudan": "Penn-Fudan",
    "parse27k": "Parse-27k",
    "synthetic_scenes": "synthetic scenes",
}


def display_name(dataset: str) -> str:
    return DISPLAY_NAMES.get(dataset, dataset)
