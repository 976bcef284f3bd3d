"""Per-generation architecture metrics (seed paper, Tables 1-3).

* synapses: live weights of every Conv2d/Linear; **biases are not synapses** and are never counted;
* architectural efficiency = ancestor synapses / current synapses (Table 1's "A-E");
* cluster efficiency of a layer = ancestor's clusters (kernels) in that layer / clusters with at least one
  live synapse (Tables 2-3); overall ``E`` = all ancestor clusters / all live clusters.
"""
from __future__ import annotations

from torch import nn

from .clusters import live_clusters, total_clusters
from .masks import Masks, layer_names

# what a task's evaluate() reports: classification its accuracy, detection its precision and recall
TASK_METRICS = ("accuracy", "precision", "recall")


def live_synapses(masks: Masks) -> int:
    return int(sum(int(m.sum()) for m in masks.values()))


def live_synapses_per_layer(model: nn.Module, masks: Masks) -> dict[str, int]:
    names = layer_names(model)
    return {names[k]: int(m.sum()) for k, m in masks.items()}


def architectural_efficiency(ancestor_synapses: int, synapses: int) -> float:
    return ancestor_synapses / synapses if synapses else float("inf")


def cluster_efficiency(ancestor_clusters: dict[str, int], clusters: dict[str, int]) -> dict[str, float]:
    """Per-layer cluster efficiency, plus the overall ``E`` under the key ``"overall"``."""
    eff = {k: (ancestor_clusters[k] / clusters[k] if clusters[k] else float("inf")) for k in ancestor_clusters}
    total_live = sum(clusters.values())
    eff["overall"] = sum(ancestor_clusters.values()) / total_live if total_live else float("inf")
    return eff


def architecture_metrics(model: nn.Module, masks: Masks, ancestor_synapses: int, granularity: str) -> dict:
    """The flat row of architecture metrics a generation reports (column names are the CSV's)."""
    syn = live_synapses(masks)
    ancestor_clusters = total_clusters(model, granularity)
    clusters = live_clusters(model, masks, granularity)
    eff = cluster_efficiency(ancestor_clusters, clusters)
    row = {"synapses": syn, "architectural_efficiency": architectural_efficiency(ancestor_synapses, syn)}
    for layer, n in live_synapses_per_layer(model, masks).items():
        row[f"synapses_{layer}"] = n
    for layer, n in clusters.items():
        row[f"clusters_{layer}"] = n
    for layer, e in eff.items():
        row["cluster_efficiency" if layer == "overall" else f"cluster_efficiency_{layer}"] = e
    return row
