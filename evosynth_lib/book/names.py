"""How the pages name things: datasets, the machine and the commits that computed a run."""
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


def hardware_label(provenance: dict) -> str:
    """The machine that computed a published run (its run environment, else the publishing one): GPU or CPU xN."""
    env = provenance.get("run_environment") or provenance.get("environment") or {}
    return env.get("gpu") or (f"CPU x{env['cpu_count']}" if env.get("cpu_count") else "unknown")


def run_commits(provenance: dict) -> list[str]:
    """The commits that computed a published run (``<sha>`` or ``<sha>+dirty``), generation by generation."""
    return provenance.get("run_commits") or [
        str(provenance.get("commit", "unknown")) + ("+dirty" if provenance.get("dirty") else "")]
