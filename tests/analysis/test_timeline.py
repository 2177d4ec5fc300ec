"""Timeline on clips joined end to end, where the true boundaries are known."""

import numpy as np
from everyday import everyday_sequence
from synth import MOVES, synthetic_sequence

from workout_classifier.analysis.timeline import (
    RESTING,
    build_timeline,
    join_sequences,
    merge_runs,
    several_exercises,
    viterbi_smooth,
)
from workout_classifier.learn.features import FeatureConfig
from workout_classifier.predict import add_extras, classify_sequence


class MotionClassifier:
    """A stand-in for a trained model: tells the synthetic moves apart by which joints move."""

    classes = list(MOVES)
    features = FeatureConfig()
    extra: dict = {}

    def predict_windows(self, raw, tta=False):
        # Judge short chunks of each window and average them, so a window that
        # straddles two moves gets both in proportion, as a trained model would.
        chunks = np.array_split(np.arange(raw.shape[1]), 6)
        return np.mean([self._judge(raw[:, c]) for c in chunks], axis=0)

    @staticmethod
    def _judge(raw):
        y, x = raw[..., 1], raw[..., 0]  # image y and x, (W, T, V)
        hip = np.ptp(y[:, :, 23], axis=1)
        wrist_y = np.ptp(y[:, :, 15], axis=1)
        wrist_x = np.ptp(x[:, :, 15], axis=1)
        score = np.stack([hip * 3, wrist_y - hip - wrist_x * 2, wrist_x * 3], -1)
        e = np.exp(score * 20)
        return e / e.sum(-1, keepdims=True)


def test_boundaries_of_joined_clips_within_two_seconds():
    parts = [synthetic_sequence("squat", 20, seed=1), synthetic_sequence("jack", 16, seed=2),
             synthetic_sequence("curl", 18, seed=3)]  # fmt: skip
    seq, bounds = join_sequences(parts)
    clf = MotionClassifier()
    res = classify_sequence(seq, clf)
    segs = build_timeline(seq, res["_window_probs"], res["_window_starts"], clf.classes,
                          clf.features.window_seconds)  # fmt: skip
    assert [s["label"] for s in segs] == ["squat", "jack", "curl"]
    for s, b in zip(segs[1:], bounds, strict=True):
        assert abs(s["start"] - b) <= 2.0
    assert segs[0]["start"] == 0 and abs(segs[-1]["end"] - seq.times[-1]) < 1
    assert all(s["reps"] >= 4 for s in segs) and all(0 <= s["confidence"] <= 1 for s in segs)


def test_a_session_says_it_holds_several_exercises_and_a_single_clip_does_not():
    parts = [synthetic_sequence("squat", 20, seed=1), synthetic_sequence("jack", 16, seed=2),
             synthetic_sequence("curl", 18, seed=3)]  # fmt: skip
    clf = MotionClassifier()
    res = classify_sequence(join_sequences(parts)[0], clf)
    assert [e["label"] for e in res["exercises"]] == ["squat", "jack", "curl"]
    for e, part in zip(res["exercises"], parts, strict=True):
        assert abs(e["seconds"] - part.times[-1]) <= 2.5, (e, part.times[-1])
    assert classify_sequence(synthetic_sequence("jack", 40, seed=4), clf)["exercises"] == []
    # what counts: 8 s or more of each, summed over its segments
    segs = [{"start": 0, "end": 5, "label": "a"}, {"start": 5, "end": 12, "label": "b"},
            {"start": 12, "end": 16, "label": "a"}, {"start": 16, "end": 20, "label": "c"}]  # fmt: skip
    assert several_exercises(segs) == []  # only "a" has 8 s
    segs[3]["end"] = 30
    assert several_exercises(segs) == [
        {"label": "a", "seconds": 9.0},
        {"label": "c", "seconds": 14.0},
    ]


def test_a_rest_between_sets_is_its_own_segment_with_no_reps():
    squat, jack = synthetic_sequence("squat", 20, seed=1), synthetic_sequence("jack", 16, seed=2)
    standing = synthetic_sequence("curl", seed=7)  # frame 0: a person standing
    rest = everyday_sequence(standing, 0, "standing", seconds=16, fps=15, seed=0)
    seq, bounds = join_sequences([squat, rest, jack])
    clf = MotionClassifier()
    res = add_extras(classify_sequence(seq, clf), seq, clf, timeline=True)
    labels = [s["label"] for s in res["timeline"]]
    assert labels == ["squat", RESTING, "jack"], res["timeline"]
    assert res["timeline"][1]["reps"] == 0 and res["timeline"][0]["reps"] >= 4
    for s, b in zip(res["timeline"][1:], bounds, strict=True):
        assert abs(s["start"] - b) <= 3.0
    assert [e["label"] for e in res["exercises"]] == ["squat", "jack"]  # a rest is not an exercise
    # without the resting windows the rest goes to an exercise
    probs, starts, rest_mask = res["_time_windows"]
    assert rest_mask.any()
    plain = build_timeline(seq, probs, starts, clf.classes, 4.0, reps=False)
    assert RESTING not in [s["label"] for s in plain]


def test_a_segment_whose_body_breaks_its_exercise_is_unknown_and_neighbours_merge():
    parts = [synthetic_sequence("squat", 20, seed=1), synthetic_sequence("jack", 16, seed=2),
             synthetic_sequence("curl", 18, seed=3)]  # fmt: skip
    seq, _ = join_sequences(parts)
    clf = MotionClassifier()
    clf.extra = {"range_limits": {"squat": {"min": 170.0}}}  # no squat bends the knee that far
    res = add_extras(classify_sequence(seq, clf), seq, clf, timeline=True)
    first = res["timeline"][0]
    assert first["label"] == "unknown" and first["guess"] == "squat", res["timeline"]
    assert [s["label"] for s in res["timeline"][1:]] == ["jack", "curl"]  # the others keep theirs
    assert [e["label"] for e in res["exercises"]] == ["unknown", "jack", "curl"]
    segs = [{"start": 0, "end": 4, "label": "unknown", "confidence": 0.5, "reps": 2},
            {"start": 4, "end": 10, "label": "unknown", "confidence": 0.2, "reps": 3},
            {"start": 10, "end": 12, "label": "jack", "confidence": 0.9, "reps": 1}]  # fmt: skip
    assert merge_runs(segs) == [
        {"start": 0, "end": 10, "label": "unknown", "confidence": 0.32, "reps": 5},
        segs[2],
    ]


def test_single_clip_is_one_segment_and_short_clip_works():
    clf = MotionClassifier()
    for seconds in (12, 1.0):
        seq = synthetic_sequence("jack", seconds, seed=4)
        res = classify_sequence(seq, clf)
        segs = build_timeline(seq, res["_window_probs"], res["_window_starts"], clf.classes, 4.0)
        assert len(segs) == 1 and segs[0]["label"] == "jack"


def test_viterbi_ignores_a_single_noisy_step():
    p = np.full((20, 2), [0.9, 0.1])
    p[10] = [0.2, 0.8]
    assert (viterbi_smooth(p) == 0).all()
    p[10:] = [0.1, 0.9]
    path = viterbi_smooth(p)
    assert (path[:10] == 0).all() and (path[10:] == 1).all()
