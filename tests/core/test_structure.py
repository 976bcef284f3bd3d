"""Any network of convolutions and linear layers can be evolved: residual and concatenating branches included."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.core.clusters import live_clusters, total_clusters
from evosynth_lib.core.compaction import compact, dense_weights
from evosynth_lib.core.masks import apply_masks, full_masks, layer_names, mask_gradients
from evosynth_lib.core.metrics import architecture_metrics
from evosynth_lib.core.structure import Evolvable, evolvable, network_structure
from evosynth_lib.core.synthesis import synthesize_offspring


class Branchy(nn.Module):
    """stem -> residual block (a1, a2, added to the stem's output) -> two branches concatenated -> BN -> head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.a1 = nn.Conv2d(8, 8, 3, padding=1)
        self.a2 = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 6, 1)
        self.c = nn.Conv2d(8, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(12)
        self.head = nn.Linear(12 * 4 * 4, 5)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(x + self.a2(F.relu(self.a1(x))))
        y = F.relu(self.bn(torch.cat([self.b(x), self.c(x)], dim=1)))
        return self.head(torch.flatten(F.max_pool2d(y, 2), 1))


def branchy():
    torch.manual_seed(0)
    return evolvable(Branchy(), (3, 8, 8), ["stem", "a1", "a2", "b", "c", "head"])


def test_the_graph_couples_what_the_branches_join():
    model = branchy()
    assert isinstance(model, Evolvable)
    s = network_structure(model)
    assert layer_names(model) == {"stem.weight": "stem", "a1.weight": "a1", "a2.weight": "a2", "b.weight": "b",
                                  "c.weight": "c", "head.weight": "head"}
    groups = {g.root: g for g in s.groups}
    assert set(groups["stem.weight"].producers) == {"stem.weight", "a2.weight"}  # the residual sum
    assert "a2.weight" not in groups  # one group for both
    assert set(groups["stem.weight"].readers) == {"a1.weight", "b.weight", "c.weight"}
    assert groups["c.weight"].readers["head.weight"][0].tolist() == list(range(6 * 16, 6 * 16 + 16))  # after b's 6
    assert s.layers["head.weight"].input_channels == 12 and s.layers["head.weight"].output
    assert not any(s.layers[k].output for k in ("stem.weight", "a1.weight", "a2.weight", "b.weight", "c.weight"))
    assert total_clusters(model, "filter") == {"stem": 8, "a1": 8, "a2": 8, "b": 6, "c": 6, "head": 12 * 5}


def _train(model, masks, steps=5):
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(steps):
        x, y = torch.rand(16, 3, 8, 8, generator=g), torch.randint(0, 5, (16,), generator=g)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        mask_gradients(model, masks)
        opt.step()
        apply_masks(model, masks)
    return model.eval()


@pytest.mark.parametrize("granularity", ["filter", "kernel"])
def test_two_generations_of_a_residual_network_compact_exactly(granularity):
    model = branchy()
    masks = full_masks(model)
    model = _train(model, masks)
    config = EvolutionConfig(normaliser="max", granularity=granularity, cap=0.5)
    for generation in (2, 3):
        model, masks, info = synthesize_offspring(model, masks, config, generation)
        assert info["synapses"] <= info["budget"]
        model = _train(model, masks)
    assert set(live_clusters(model, masks, granularity)) == {"stem", "a1", "a2", "b", "c", "head"}
    small = compact(model, masks)
    x = torch.rand(8, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert float((model(x) - small(x)).abs().max()) <= 1e-5
    assert small(x).shape == (8, 5)  # outputs untouched
    if granularity == "filter":  # whole filters died: the network is physically smaller
        assert dense_weights(small) < dense_weights(model)
        assert small.a2.weight.shape[0] == small.stem.weight.shape[0]  # the residual sum stays consistent
        assert small.bn.num_features == small.b.weight.shape[0] + small.c.weight.shape[0]
    row = architecture_metrics(model, masks, 3 * 8 * 9 + 2 * 8 * 8 * 9 + 8 * 6 + 8 * 6 * 9 + 192 * 5, granularity)
    assert row["synapses"] == sum(int(m.sum()) for m in masks.values()) and row["architectural_efficiency"] > 2


def test_a_network_without_its_input_shape_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="evolvable"):
        full_masks(Branchy()) and network_structure(Branchy())
    with pytest.raises(ValueError, match="2 layer names for 6"):
        evolvable(Branchy(), (3, 8, 8), ["a", "b"])
