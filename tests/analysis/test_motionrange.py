"""Range of motion of each exercise's defining joint, its floors, and `predict`'s range check."""

import numpy as np
from synth import synthetic_sequence, synthetic_tracks

from workout_classifier.analysis.motionrange import (
    DEFINING,
    fit_floors,
    joint_ranges,
    short_range,
)
from workout_classifier.learn.features import FeatureConfig
from workout_classifier.learn.train import TrainConfig, fit
from workout_classifier.pose.landmarks import PoseSequence
from workout_classifier.predict import UNKNOWN, classify_sequence


def _held_still(seq: PoseSequence, frame: int = 0, seed: int = 0) -> PoseSequence:
    """`seq`'s frame held for the whole clip, with a millimetre of landmark jitter."""
    rng = np.random.default_rng(seed)
    n = len(seq.times)
    lm = np.repeat(seq.landmarks[frame : frame + 1], n, 0)
    world = np.repeat(seq.world[frame : frame + 1], n, 0)
    world[..., :3] += rng.normal(0, 1e-3, (n, 33, 3)).astype(world.dtype)
    return PoseSequence(lm, world, seq.times, seq.detected, seq.meta)


def test_a_squat_bends_the_knee_and_a_held_pose_bends_nothing():
    squat = synthetic_sequence("squat", seed=3)
    moving = joint_ranges(squat.world, squat.detected)
    still = joint_ranges(_held_still(squat).world)
    assert moving["knee"] > 40  # degrees between standing and the bottom
    assert max(still.values()) < 5  # a millimetre of jitter on a forearm is a few degrees
    curl = joint_ranges(synthetic_sequence("curl", seed=3).world)
    assert (
        curl["elbow"] > 40 and curl["knee"] < curl["elbow"] / 4
    )  # the joint that moves, not every one


def test_frames_where_nobody_was_found_do_not_count():
    squat = synthetic_sequence("squat", seed=5)
    n = len(squat.times)
    world = squat.world.copy()
    world[n // 2 :, :, :3] = np.random.default_rng(0).normal(0, 1, (n - n // 2, 33, 3))  # noise
    found = np.arange(n) < n // 2
    clean = joint_ranges(squat.world[: n // 2])
    assert joint_ranges(world, found) == clean
    assert joint_ranges(world)["elbow"] > clean["elbow"] + 30  # the noise, counted


def test_floors_are_half_a_low_percentile_and_holds_have_none():
    ranges = [{"knee": k, "elbow": 5.0, "hip": 5.0, "shoulder": 5.0} for k in (60, 80, 100, 120)]
    ranges += [{"knee": 1.0, "elbow": 1.0, "hip": 1.0, "shoulder": 1.0}] * 3
    floors = fit_floors(ranges, ["squat"] * 4 + ["plank"] * 3)
    assert set(floors) == {"squat"}  # a plank is a hold: no range needed
    assert floors["squat"] == round(0.5 * np.percentile([60, 80, 100, 120], 5), 2)
    assert short_range("squat", {**ranges[0], "knee": floors["squat"] - 1}, floors)
    assert not short_range("squat", ranges[0], floors)
    assert not short_range("plank", ranges[-1], floors)
    assert not short_range("squat", {**ranges[0], "knee": 0.0}, None)  # an older model: no check
    assert DEFINING["lunges"] == "knee" and DEFINING["deadlift"] == "hip"


def test_predict_answers_unknown_when_the_answered_joint_moves_too_little():
    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    classes = ["squat", "barbell biceps curl", "jumping jack"]  # names with a defining joint
    clf, _ = fit(tracks, y, groups, classes, "trees", FeatureConfig(steps=24, streams=("raw",)),
                 TrainConfig(seed=0, threads=1))  # fmt: skip
    clf.extra["unknown_threshold"] = 0.0  # only the range check can say `unknown`
    ranges = [joint_ranges(t.raw[..., 4:7], t.detected) for t in tracks]
    clf.extra["range_floors"] = fit_floors(ranges, [classes[k] for k in y])
    seq = synthetic_sequence("squat", seed=4242)
    squat = classify_sequence(seq, clf)
    assert squat["label"] == "squat" and not squat["short_range"] and not squat["resting"]
    assert squat["range_of_motion"]["joint"] == "knee" and squat["range_of_motion"]["degrees"] > 40
    # A squat's knee bending less than the floor: the same clip against a floor above its range.
    clf.extra["range_floors"]["squat"] = squat["range_of_motion"]["degrees"] + 1
    short = classify_sequence(seq, clf)
    assert short["label"] == UNKNOWN and short["short_range"] and not short["resting"]
    assert short["range_of_motion"]["needed"] > short["range_of_motion"]["degrees"]
    assert short["top"] == squat["top"]  # the best guess is still there, only held back
    del clf.extra["range_floors"]  # a model file from before the check answers as it did
    old = classify_sequence(seq, clf)
    assert old["label"] == "squat" and not old["short_range"]
