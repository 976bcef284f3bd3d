"""The speed protocol: medians and quartiles of the timed passes only, whatever is timed."""
import pytest

from evosynth_lib.speed.protocol import REPETITIONS, WARMUP, quartiles, time_passes


class FakeWork:
    """A call that takes known durations (seconds) on a fake clock: pass k lasts ``durations[k]``."""

    def __init__(self, durations):
        self.durations, self.now, self.calls = list(durations), 0.0, 0

    def clock(self) -> float:
        return self.now

    def __call__(self) -> None:
        self.now += self.durations[self.calls]
        self.calls += 1


def test_median_and_quartiles_of_known_durations():
    work = FakeWork([0.004, 0.001, 0.003, 0.002, 0.005])
    t = time_passes(work, warmup=0, repetitions=5, clock=work.clock)
    assert t["ms_all"] == pytest.approx([4.0, 1.0, 3.0, 2.0, 5.0])  # every timed pass, in order, in ms
    assert t["ms_median"] == pytest.approx(3.0)
    assert t["ms_q1"] == pytest.approx(2.0) and t["ms_q3"] == pytest.approx(4.0)
    assert t["ms_iqr"] == pytest.approx(2.0)
    assert set(t) == {"ms_median", "ms_q1", "ms_q3", "ms_iqr", "ms_all"}


def test_quartiles_interpolate_inclusively():
    work = FakeWork([0.001, 0.002, 0.003, 0.004])
    t = time_passes(work, warmup=0, repetitions=4, clock=work.clock)
    assert (t["ms_q1"], t["ms_median"], t["ms_q3"]) == pytest.approx((1.75, 2.5, 3.25))
    assert quartiles([1.0, 2.0, 3.0, 4.0]) == pytest.approx((1.75, 2.5, 3.25))


def test_warmup_passes_run_but_are_not_timed():
    work = FakeWork([9.0, 9.0, 9.0, 0.002, 0.002, 0.002])  # slow first passes: warm-up
    t = time_passes(work, warmup=3, repetitions=3, clock=work.clock)
    assert work.calls == 6
    assert t["ms_all"] == pytest.approx([2.0, 2.0, 2.0]) and t["ms_iqr"] == pytest.approx(0.0)


def test_one_repetition_is_its_own_median_and_quartiles():
    work = FakeWork([0.007])
    t = time_passes(work, warmup=0, repetitions=1, clock=work.clock)
    assert t["ms_median"] == t["ms_q1"] == t["ms_q3"] == pytest.approx(7.0) and t["ms_iqr"] == 0.0


def test_the_policy_is_the_default():
    work = FakeWork([0.001] * (WARMUP + REPETITIONS))
    t = time_passes(work, clock=work.clock)
    assert work.calls == WARMUP + REPETITIONS and len(t["ms_all"]) == REPETITIONS


def test_real_clock_times_a_real_call():
    t = time_passes(lambda: sum(range(1000)), warmup=1, repetitions=3)
    assert len(t["ms_all"]) == 3 and all(x > 0 for x in t["ms_all"]) and t["ms_q1"] <= t["ms_median"] <= t["ms_q3"]


@pytest.mark.parametrize("warmup, repetitions", [(0, 0), (-1, 3)])
def test_bad_arguments(warmup, repetitions):
    with pytest.raises(ValueError):
        time_passes(lambda: None, warmup, repetitions)
