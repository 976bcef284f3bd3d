"""Numbers over seeds: mean and spread of a column, values interpolated at an efficiency, the paper's E.

Every comparison with a paper number in the book goes through here, so that it is made with the mean over
the seeds of a run and its spread, never with one selected seed:

* :func:`values_at` / :func:`at_efficiency`: one value per seed, at a generation or interpolated (linearly in
  log architectural efficiency) at an efficiency, so that ours is compared with the paper's row at *equal
  efficiency* as well as at equal generation;
* :func:`mean_sd` / :func:`mean_text`: their mean, sample standard deviation and count, and how the book writes
  them (``0.9716 ± 0.0109 (3 seeds)``; ``0.8760 (one seed)``);
* :func:`paper_e`: the overall cluster efficiency as the paper computes it (the plain mean of the per-layer
  values: 3.6, 12.96, 8.83, 13.47 -> 9.71), beside ours pooled over layers (all ancestor kernels / all live
  kernels, the ``cluster_efficiency`` column).
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from .results import Published


def frame(run) -> pd.DataFrame:
    """The generations table of a run (a :class:`Published` or the DataFrame itself), sorted by generation."""
    df = run.generations if isinstance(run, Published) else run
    return df.sort_values("generation").reset_index(drop=True)


def layer_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("cluster_efficiency_")]


def paper_e(df: pd.DataFrame) -> pd.Series:
    """Per generation, E as the paper defines it: the plain mean of the per-layer cluster efficiencies."""
    cols = layer_columns(df)
    return df[cols].mean(axis=1) if cols else pd.Series(np.nan, index=df.index)


def column(df: pd.DataFrame, name: str) -> pd.Series:
    """A column of the generations table; ``paper_E`` is computed (:func:`paper_e`)."""
    if name == "paper_E":
        return paper_e(df)
    return df[name] if name in df else pd.Series(np.nan, index=df.index)


def values_at(runs: Iterable, generation: int, name: str) -> list[float]:
    """One value of column ``name`` per run at ``generation`` (runs that did not reach it are left out)."""
    out = []
    for run in runs:
        df = frame(run)
        rows = df.index[df["generation"] == generation]
        if len(rows) and not math.isnan(value := float(column(df, name).loc[rows[0]])):
            out.append(value)
    return out


def interpolate(df: pd.DataFrame, efficiency: float, name: str, log_value: bool = False) -> float:
    """Column ``name`` at architectural efficiency ``efficiency``, linear in log A-E between the two generations
    around it (log of the value too when ``log_value``); NaN outside the run's range."""
    x = np.log(df["architectural_efficiency"].to_numpy(dtype=float))
    y = column(df, name).to_numpy(dtype=float)
    t = math.log(efficiency)
    if len(x) == 0 or t < x.min() - 1e-12 or t > x.max() + 1e-12:
        return math.nan
    order = np.argsort(x)
    if log_value:
        return float(np.exp(np.interp(t, x[order], np.log(y[order]))))
    return float(np.interp(t, x[order], y[order]))


def at_efficiency(runs: Iterable, efficiency: float, name: str, log_value: bool = False) -> list[float]:
    """One interpolated value per run at ``efficiency`` (:func:`interpolate`); runs that do not reach it are left out."""
    vals = [interpolate(frame(r), efficiency, name, log_value) for r in runs]
    return [v for v in vals if not math.isnan(v)]


def generations_around(df: pd.DataFrame, efficiency: float) -> str:
    """Which of our generations bracket ``efficiency``: ``"12-13"``, ``"13"``, or ``"beyond 6"``."""
    ae = df["architectural_efficiency"].to_numpy(dtype=float)
    gens = df["generation"].to_numpy()
    if efficiency > ae.max() * (1 + 1e-9):
        return f"beyond {int(gens[-1])}"
    exact = np.isclose(ae, efficiency, rtol=1e-9)
    if exact.any():
        return str(int(gens[exact.argmax()]))
    after = int(np.argmax(ae > efficiency))
    return f"{int(gens[after - 1])}-{int(gens[after])}"


def mean_sd(values: list[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (NaN for fewer than two values) and count."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(np.mean(values))
    return mean, (float(np.std(values, ddof=1)) if n > 1 else math.nan), n


def seeds_word(n: int) -> str:
    return "one seed" if n == 1 else f"{n} seeds"


def mean_text(values: list[float], spec: str = ".4f", suffix: str = "", count: bool = True) -> str:
    """``0.9716 ± 0.0109 (3 seeds)``; ``0.8760 (one seed)``; ``n/a`` when there is no value."""
    mean, sd, n = mean_sd(values)
    if n == 0:
        return "n/a"
    text = f"{mean:{spec}}{suffix}" + (f" ± {sd:{spec.lstrip('+')}}{suffix}" if n > 1 else "")
    return text + (f" ({seeds_word(n)})" if count else "")


def range_text(values: list[float], spec: str = ".4f") -> str:
    """``0.9601-0.9819`` (the range over seeds) or the single value."""
    if not values:
        return "n/a"
    lo, hi = min(values), max(values)
    return f"{lo:{spec}}" if lo == hi else f"{lo:{spec}}-{hi:{spec}}"


def loaded(runs: Iterable) -> list[Published]:
    """The published ones among ``runs`` (NotRun left out)."""
    return [r for r in runs if isinstance(r, Published)]
