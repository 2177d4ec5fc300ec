"""The learned `unknown` gate (learn/gate.py, measured by bench/unknown.py, not shipped): its features and its fit."""

import numpy as np
import pytest

from workout_classifier.learn.gate import FEATURES, KnownGate, clip_features, fit_gate


def test_clip_features_of_agreeing_and_split_votes():
    sure = np.tile([0.9, 0.05, 0.05], (4, 1))
    split = np.array([[0.6, 0.4, 0.0], [0.3, 0.7, 0.0], [0.65, 0.35, 0.0]])
    a, b = clip_features(sure), clip_features(split)
    assert a.shape == (len(FEATURES),)
    top, margin, entropy, agree = 0, 1, 2, 3
    assert a[agree] == 1.0 and b[agree] == pytest.approx(2 / 3)
    assert a[top] > b[top] and a[margin] > b[margin] and a[entropy] < b[entropy]
    assert a[FEATURES.index("log_windows")] == pytest.approx(np.log(4))


def test_fit_gate_keeps_the_budget_and_round_trips():
    rng = np.random.default_rng(0)
    n = 600
    known = np.arange(n) < 400
    rows = rng.normal(0, 1, (n, len(FEATURES)))
    rows[known, 0] += 3.0  # known clips: a higher top probability, as a model's own exercises get
    exercise = np.where(known, np.arange(n) % 4, 4 + np.arange(n) % 2)
    budget = known & (np.arange(n) % 2 == 0)
    gate = fit_gate(rows, known, exercise, budget, reject_rate=0.05)
    rejected = gate.rejects(rows)
    assert rejected[budget].mean() == pytest.approx(
        0.05, abs=0.03
    )  # held-out scores set the threshold
    assert rejected[~known].mean() > 0.5
    back = KnownGate.from_dict(gate.to_dict())
    np.testing.assert_allclose(back.score(rows), gate.score(rows))
    with pytest.raises(ValueError, match="retrain"):
        KnownGate.from_dict({**gate.to_dict(), "features": ["top"]})
    with pytest.raises(ValueError, match="known and not-known"):
        fit_gate(rows[known], known[known], exercise[known], budget[known])
