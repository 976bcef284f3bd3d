"""Facts a reader needs beside the comparisons, each computed from the published results or the papers' tables:

* :func:`cap_sentence`: whether the 80 % cap (the environmental factor) ever bound in our offspring, and the rate
  the paper's Table 1 implies between its rows (all below the cap);
* :func:`retention_sentence`: the fraction of synapses our offspring keep per generation beside the paper's;
* :func:`bias_sentence`: what architectural efficiency would be if biases were counted as synapses (the paper
  does not say whether it counts them; we do not);
* :func:`width_sentence`: which numbers of kernels in a layer can give the paper's per-layer cluster efficiency
  (two decimals), against our layer's count.
"""
from __future__ import annotations

from . import seeds
from .names import display_name
from .paper import CAP, TABLE1
from .results import Published


def paper_rates(dataset: str) -> list[float]:
    """Fraction of synapses kept per generation between consecutive rows of Table 1 (geometric mean over the gap)."""
    rows = TABLE1[dataset]
    return [(a0 / a1) ** (1.0 / (g1 - g0)) for (g0, a0, _), (g1, a1, _) in zip(rows, rows[1:])]


def _kept(runs: list[Published]) -> list[float]:
    return [float(k) for r in runs for k in seeds.frame(r)["kept_fraction"].iloc[1:]]


def cap_sentence(dataset: str, runs: list[Published]) -> str:
    """How often the environmental factor bound (was below 1) in our offspring, and what Table 1 implies."""
    factors = [float(f) for r in runs for f in seeds.frame(r)["environmental_factor"].iloc[1:]]
    bound = sum(f < 1 for f in factors)
    rates = paper_rates(dataset)
    every = all(g1 - g0 == 1 for (g0, _, _), (g1, _, _) in zip(TABLE1[dataset], TABLE1[dataset][1:]))
    return (f"The {CAP:.0%} cap bound in {bound} of our {len(factors)} {display_name(dataset)} offspring "
            f"({seeds.seeds_word(len(runs))}): the environmental factor was 1.0 in the other "
            f"{len(factors) - bound}, so the encoding alone set how many synapses survived. The paper's Table 1 "
            f"implies {min(rates):.3f}-{max(rates):.3f} kept per generation between its rows, below {CAP}: "
            + ("every generation is a row there, so the cap cannot have bound in the paper's run either."
               if every else "the cap cannot have set the paper's rate on average over any gap between its rows."))


def retention_sentence(dataset: str, runs: list[Published], chosen_on: str = "MNIST") -> str:
    """Our per-generation retention (min-max over offspring and seeds) beside the paper's (between Table 1 rows)."""
    kept, rates = _kept(runs), paper_rates(dataset)
    return (f"Kept per generation: ours {min(kept):.3f}-{max(kept):.3f} on {display_name(dataset)} "
            f"({seeds.seeds_word(len(runs))}), the paper {min(rates):.3f}-{max(rates):.3f} (Table 1)"
            + (f"; our normaliser was chosen on {chosen_on}, not tuned on {display_name(dataset)}."
               if chosen_on and chosen_on != display_name(dataset) else "."))


def biases_of(config: dict) -> int:
    """The number of biases of the ancestor network of a published run (its architecture, built without data)."""
    from ..config import EvolutionConfig
    from ..tasks import build_model_for

    model, _ = build_model_for(EvolutionConfig.from_dict(config))
    return sum(m.bias.numel() for m in model.modules() if getattr(m, "bias", None) is not None
               and m.weight.dim() in (2, 4))


def bias_sentence(runs: list[Published]) -> str:
    """Architectural efficiency at the last generation with biases counted as synapses, mean over seeds: never
    removed (the lower end) and, as the upper end, our count (biases of dead channels removed with them can only
    bring it back towards ours)."""
    b = biases_of(runs[0].config)
    ours, counted = [], []
    for r in runs:
        df = seeds.frame(r)
        first, last = df.iloc[0], df.iloc[-1]
        ours.append(float(last["architectural_efficiency"]))
        counted.append((float(first["synapses"]) + b) / (float(last["synapses"]) + b))
    g = int(runs[0].generations["generation"].max())
    return (f"We count weights of convolutional and fully connected layers as synapses, not biases; the paper does "
            f"not say. Counting the network's {b} biases as synapses that are never removed would put generation "
            f"{g} at {sum(counted) / len(counted):.1f}X instead of {sum(ours) / len(ours):.1f}X (mean over "
            f"{seeds.seeds_word(len(runs))}); removing the biases of dead channels with them lies between the two.")


def kernel_counts(ratio: float, limit: int = 4096, step: int = 1) -> list[int]:
    """Kernel counts n (multiples of ``step`` up to ``limit``) for which some live count k gives n / k = ``ratio``
    to two decimals."""
    out = []
    for n in range(step, limit + 1, step):
        k = round(n / ratio)
        if k >= 1 and round(n / k, 2) == round(ratio, 2):
            out.append(n)
    return out


def width_sentence(layer: str, ratio: float, ours: int, per_filter: int = 1,
                   known: tuple[int, str] | None = None) -> str:
    """Whether our layer's ``ours`` kernels can give the paper's ratio (two decimals), and the nearest counts that can;
    ``per_filter``: kernels per output channel (the input channels), to say it in filters."""
    fits = kernel_counts(ratio, max(4 * ours, 64), per_filter)
    near = sorted(fits, key=lambda n: abs(n - ours))[:2]
    if ours in fits:
        return f"{layer}: the paper's {ratio:.2f}X is possible with our {ours} kernels."
    said = ", ".join(f"{n}" + (f" ({n // per_filter} filters)" if per_filter > 1 and n % per_filter == 0 else "")
                     for n in sorted(near))
    return (f"{layer}: no number of live kernels out of our {ours} gives the paper's {ratio:.2f}X; the nearest "
            f"counts that can are {said}"
            + (f", and {known[1]} ({known[0]} kernels) can" if known and known[0] in kernel_counts(ratio, known[0],
                                                                                                   per_filter)
               else "") + "; the paper's layer had another width, or counted otherwise.")
