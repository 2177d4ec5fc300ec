"""The learned `unknown` gate (learn/gate.py): its features, its fit, and the gate in a trained model."""

import numpy as np
import pytest
from synth import exercise_sequence

from workout_classifier.learn.features import prepare
from workout_classifier.learn.gate import FEATURES, KnownGate, clip_features, fit_gate
from workout_classifier.learn.train import TrainingSet
from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence
from workout_classifier.predict import UNKNOWN, classify_sequence


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


EXERCISES = ("squat", "jumping jack", "lateral raise", "pull up")


def _training_set() -> TrainingSet:
    tracks, y, groups, sources, names = [], [], [], [], []
    for k, ex in enumerate(EXERCISES):
        for i in range(10):
            seq = exercise_sequence(ex, reps=4, period=1.6 + 0.1 * (i % 5), seed=100 * k + i)
            tracks.append(prepare(seq))
            y.append(k)
            groups.append(f"{ex}/{i // 2}")
            sources.append(f"s{i % 2}")  # two sources each: the gate's leave-source-out runs
            names.append(f"{ex}-{i}")
    return TrainingSet(tracks, np.array(y), np.array(groups), list(EXERCISES), names, [],
                       np.array(sources))  # fmt: skip


def _foreign(seed: int = 0) -> PoseSequence:
    """Landmarks thrown about at random: no exercise, no body even."""
    rng = np.random.default_rng(seed)
    t = np.arange(80) / 10
    img = np.concatenate([rng.uniform(0.1, 0.9, (80, NUM_JOINTS, 2)), rng.normal(0, 0.1, (80, NUM_JOINTS, 1)),
                          np.full((80, NUM_JOINTS, 1), 0.9)], -1)  # fmt: skip
    world = np.concatenate(
        [rng.normal(0, 0.5, (80, NUM_JOINTS, 3)), np.full((80, NUM_JOINTS, 1), 0.9)], -1
    )
    meta = {"fps": 10.0, "width": 640, "height": 480, "frame_count": 80, "duration": 7.9}
    return PoseSequence(
        img.astype(np.float32), world.astype(np.float32), t, np.ones(80, bool), meta
    )


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    from workout_classifier.api import fit_training_set
    from workout_classifier.pose.landmarks import PoseSettings

    model = fit_training_set(_training_set(), PoseSettings(), "trees")
    path = tmp_path_factory.mktemp("gate") / "gated.safetensors"
    model.save(path)
    return model.classifier, path


def test_trained_trees_carry_a_gate_that_rejects_a_foreign_clip_and_keeps_a_known_one(gated):
    clf, _ = gated
    assert set(clf.extra["known_gate"]["features"]) == set(FEATURES)
    known = classify_sequence(exercise_sequence("squat", reps=5, period=1.7, seed=999), clf)
    assert known["label"] == "squat"
    foreign = classify_sequence(_foreign(), clf)
    assert foreign["label"] == UNKNOWN and not foreign["resting"]
    gate = KnownGate.from_dict(clf.extra["known_gate"])  # the learned gate is what decides
    assert gate.rejects(clip_features(foreign["_window_probs"]))[0]
    assert not gate.rejects(clip_features(known["_window_probs"]))[0]


def test_the_gate_round_trips_through_the_model_file(gated):
    from workout_classifier.learn.checkpoint import Classifier

    clf, path = gated
    back = Classifier.load(path)
    assert back.extra["known_gate"] == clf.extra["known_gate"]
    for seq in (exercise_sequence("pull up", reps=4, seed=7), _foreign(1)):
        a, b = classify_sequence(seq, clf), classify_sequence(seq, back)
        assert a["label"] == b["label"] and a["confidence"] == b["confidence"]
