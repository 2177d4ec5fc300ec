"""Period agreement (analysis/repperiod.py): the period signals agree on, recovered and rejected reps."""

import numpy as np

from workout_classifier.analysis.repperiod import agreed_period, refine_peaks, start_rep_fits

FPS = 15.0


def test_agreed_period_needs_two_signals_that_agree():
    t = np.arange(0, 8, 1 / FPS)
    a, b = np.cos(2 * np.pi * t / 1.5), np.cos(2 * np.pi * t / 1.5 + 0.7)
    assert abs(agreed_period(np.column_stack([a, b]), FPS) - 1.5) < 0.15
    noise = np.random.default_rng(0).normal(size=len(t))
    assert agreed_period(np.column_stack([a, noise]), FPS) is None  # one voice is no agreement
    # the spacing of the reps already counted must be one of the voices that agree
    assert agreed_period(np.column_stack([a, b]), FPS, spacing=3.0) is None
    assert abs(agreed_period(np.column_stack([a, b]), FPS, spacing=1.5) - 1.5) < 0.15


def test_a_weak_last_rep_one_period_on_is_recovered_but_not_a_half_rep():
    t = np.arange(0, 3.6, 1 / FPS)
    x = np.cos(2 * np.pi * (t - 0.5) / 1.0) * np.where(
        t > 2.1, 0.35, 1.0
    )  # turning points 0.5, 1.5, 2.5
    counted = np.array([int(0.5 * FPS), int(1.5 * FPS)])
    got = refine_peaks(x, counted, 2.0, FPS, 1.0)
    assert len(got) == 3 and abs(got[-1] / FPS - 2.5) < 0.1
    half = x[
        t <= 2.6
    ]  # the clip ends just after the third turning point: the body has not come back
    assert len(refine_peaks(half, counted, 2.0, FPS, 1.0)) == 2
    far = refine_peaks(x, counted[:1], 2.0, FPS, 0.4)  # two periods away: not recovered
    assert len(far) == 1


def test_two_turning_points_much_nearer_than_a_period_keep_the_stronger():
    t = np.arange(0, 5, 1 / FPS)
    x = np.cos(2 * np.pi * t / 2.0) + 0.3 * np.exp(-((t - 2.6) ** 2) / 0.01)
    peaks = np.array([int(2.0 * FPS), int(2.6 * FPS), int(4.0 * FPS)])
    got = refine_peaks(x, peaks, 2.0, FPS, 2.0)
    assert [round(p / FPS, 1) for p in got] == [2.0, 4.0]


def test_a_start_rep_much_nearer_the_next_than_the_reps_are_apart_is_set_up():
    at = np.array([0.0, 2.0, 4.0, 6.0]) * FPS
    assert start_rep_fits(at.astype(int), FPS, 0.65)
    early = np.array([0.0, 0.9, 2.9, 4.9]) * FPS  # 0.45 periods before the next: set-up
    assert not start_rep_fits(early.astype(int), FPS, 0.65)
    assert start_rep_fits(early[:2].astype(int), FPS, 0.65)  # too few reps to know the period
    late = np.array([1.0, 1.9, 3.9, 5.9]) * FPS  # not at the start: the start rule did not add it
    assert start_rep_fits(late.astype(int), FPS, 0.65)


def test_a_first_rep_seen_whole_stays_however_unevenly_the_next_reps_are_spaced():
    # Presses at 0.6, 2.0 and 4.5 s (a pause at the top before the third): the first is much nearer the
    # next than the next two are apart, but the signal rose to it from the clip's first frame: a rep.
    t = np.arange(0, 5.2, 1 / FPS)
    x = np.interp(t, [0.0, 0.6, 1.3, 2.0, 3.2, 4.5, 5.2], [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    peaks = (np.array([0.6, 2.0, 4.5]) * FPS).astype(int)
    assert not start_rep_fits(peaks, FPS, 0.65)  # by the spacing alone: set-up
    assert start_rep_fits(peaks, FPS, 0.65, x, 1.0)
    # a clip opening at the turning point (no rise seen before it) is still judged by the spacing
    opens = np.interp(t, [0.0, 0.7, 1.4, 2.7, 4.0, 5.2], [1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    assert not start_rep_fits((np.array([0.0, 1.4, 4.0]) * FPS).astype(int), FPS, 0.65, opens, 1.0)
