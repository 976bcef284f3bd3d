"""The speed protocol: how every speed in the project is timed, whatever runs the network.

:func:`time_passes` runs a zero-argument call ``warmup`` times untimed, then ``repetitions`` times, each pass
timed alone (``time.perf_counter``); it reports the **median** per-pass time in milliseconds, the first and
third quartiles (``statistics.quantiles``, inclusive method) and their inter-quartile range, and every timed
pass in order. Nothing is cached between passes; a call that runs on a GPU synchronises before it returns (the
callers' runners do), so a pass's time is its whole work.

The policy: :data:`WARMUP` untimed passes, then :data:`REPETITIONS` timed ones. A caller departs from it only
through explicit arguments, each stated where it is passed:

* the evolution loop's per-generation speed (``speed.model.generation_speed``) times the half-precision
  variants with 1 warm-up and few repetitions (on most CPUs they are slow, and the loop must not wait on them);
* the re-measurement from checkpoints (``run.measure.measure_run_speed``, the published ``speed.csv``) warms up
  3 times, times a third as many passes at large batches (longer passes) and half precision as the loop does;
* the deployment measurement (``run.deploy``) chooses a variant's alignment on half as many passes (at least 5);
* the half-precision probe (``speed.model.half_precision_support``) warms up 3 times.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable

WARMUP = 5  # untimed passes before timing: caches, allocators and engines' lazy set-up settle
REPETITIONS = 30  # timed passes: the median of 30 is stable to a few percent on a quiet machine


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile of ``xs`` (inclusive method; one value is all three)."""
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def time_passes(call: Callable[[], Any], warmup: int = WARMUP, repetitions: int = REPETITIONS,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, Any]:
    """Time ``call`` by the protocol (module docstring): ``warmup`` untimed passes, then ``repetitions`` each
    timed alone with ``clock`` (seconds).

    Returns ``{"ms_median", "ms_q1", "ms_q3", "ms_iqr", "ms_all"}`` in milliseconds (``ms_all``: every timed
    pass, in order).
    """
    if repetitions < 1 or warmup < 0:
        raise ValueError(f"need repetitions >= 1 and warmup >= 0; got {repetitions}, {warmup}")
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repetitions):
        t0 = clock()
        call()
        times.append((clock() - t0) * 1e3)
    q1, median, q3 = quartiles(times)
    return {"ms_median": median, "ms_q1": q1, "ms_q3": q3, "ms_iqr": q3 - q1, "ms_all": times}
