"""Repetition cycles (learn/cycles.py) and rep windows (FeatureConfig.unit="rep")."""

from dataclasses import replace

import numpy as np
import pytest
from synth import MOVES, synthetic_sequence, synthetic_tracks

from workout_classifier.learn.cycles import cycles
from workout_classifier.learn.features import FeatureConfig, prepare, windows
from workout_classifier.learn.train import TrainConfig, fit

FEATS = FeatureConfig(streams=("raw",))


@pytest.mark.parametrize("move", MOVES)
def test_cycles_of_known_reps_have_the_known_period(move):
    seq = synthetic_sequence(move, seconds=12, seed=4)
    tr = prepare(seq)
    reps = cycles(tr.raw, tr.times, tr.aspect)
    period = seq.meta["period"]
    whole = int(12 // period)
    assert whole - 1 <= len(reps) <= whole  # whole reps between turning points, none invented
    assert np.allclose(reps[:, 1] - reps[:, 0], period, rtol=0.1)
    assert (np.diff(reps[:, 0]) > 0).all()


def test_a_body_holding_still_has_no_cycles_and_keeps_time_windows():
    seq = synthetic_sequence("squat", seconds=8, seed=1)
    seq.landmarks[:] = seq.landmarks[len(seq.times) // 2]  # frozen: a plank, a pause
    seq.world[:] = seq.world[len(seq.times) // 2]
    tr = prepare(seq)
    assert len(cycles(tr.raw, tr.times, tr.aspect)) == 0
    by_time, _ = windows(tr, FEATS)
    by_rep, _ = windows(tr, replace(FEATS, unit="rep"))
    np.testing.assert_array_equal(by_rep, by_time)


def test_rep_windows_hold_one_rep_each():
    seq = synthetic_sequence("jack", seconds=12, seed=2)
    tr = prepare(seq)
    raw, starts = windows(tr, replace(FEATS, unit="rep"))
    reps = cycles(tr.raw, tr.times, tr.aspect)
    assert raw.shape[1:] == (FEATS.steps, 33, 8) and len(raw) >= len(reps)
    is_rep = np.isin(np.round(starts, 6), np.round(reps[:, 0] - tr.times[0], 6))
    assert is_rep.sum() == len(reps)
    # a rep window starts and ends at the same turning point of the movement
    wrist_y = raw[is_rep, :, 15, 1]
    assert np.abs(wrist_y[:, 0] - wrist_y[:, -1]).max() < 0.1 * np.ptp(wrist_y)
    both, _ = windows(tr, replace(FEATS, unit="both"))
    assert len(both) == len(windows(tr, FEATS)[0]) + len(raw)


def test_voting_over_reps_gives_the_clip_answer():
    """The rep path (one window per rep, votes averaged) names the same move as the time windows."""
    tracks, y, groups, classes = synthetic_tracks(n_per_class=6, seconds=9.0)
    clf, _ = fit(tracks, y, groups, classes, "trees", FEATS, TrainConfig(seed=0), {"trees": 30})
    for i, move in enumerate(classes):
        tr = prepare(synthetic_sequence(move, seconds=10, seed=100 + i))
        by_time = clf.predict_windows(windows(tr, FEATS)[0]).mean(0)
        rep_raw, _ = windows(tr, replace(FEATS, unit="rep"))
        assert len(rep_raw) >= 3  # the rep path did run, not the time fallback
        by_rep = clf.predict_windows(rep_raw).mean(0)
        assert classes[by_rep.argmax()] == classes[by_time.argmax()] == move


def test_a_session_gets_reps_at_each_tempo_and_time_windows_where_it_rests():
    """Two sets at different tempi with a still stretch between: each set's reps are found with
    its own period, and the still stretch is still looked at (time windows)."""
    a = synthetic_sequence("squat", seconds=20, seed=5)
    b = synthetic_sequence("jack", seconds=20, seed=6)
    lm = np.concatenate(
        [a.landmarks, np.repeat(a.landmarks[-1:], 150, 0), b.landmarks]
    )  # 10 s still
    wo = np.concatenate([a.world, np.repeat(a.world[-1:], 150, 0), b.world])
    n = len(lm)
    seq = type(a)(lm, wo, np.arange(n) / 15.0, np.ones(n, bool), dict(a.meta))
    tr = prepare(seq)
    reps = cycles(tr.raw, tr.times, tr.aspect)
    first, second = reps[reps[:, 1] <= 20], reps[reps[:, 0] >= 30]
    assert len(first) >= 5 and len(second) >= 5
    assert np.median(first[:, 1] - first[:, 0]) == pytest.approx(a.meta["period"], rel=0.15)
    assert np.median(second[:, 1] - second[:, 0]) == pytest.approx(b.meta["period"], rel=0.15)
    _, starts = windows(tr, replace(FEATS, unit="rep"))
    assert ((starts > 20) & (starts < 28)).any()  # the still stretch has time windows


def test_numpy_peaks_and_smoothing_match_scipy():
    """cycles.py keeps scipy off the predict path; its two helpers give scipy's answers."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks as scipy_peaks

    from workout_classifier.learn.cycles import find_peaks, smooth

    rng = np.random.default_rng(0)
    for _ in range(300):
        x = np.round(rng.normal(size=int(rng.integers(3, 80))), 1)  # rounded: flat tops too
        height, distance = rng.uniform(-1, 1), int(rng.integers(1, 10))
        want, _ = scipy_peaks(x, height=height, distance=distance)
        np.testing.assert_array_equal(find_peaks(x, height=height, distance=distance), want)
        np.testing.assert_allclose(smooth(x, 1.5), gaussian_filter1d(x, 1.5), atol=1e-12)
