"""Range of motion of each exercise's defining joint, its floors, and `predict`'s range check."""

import numpy as np
from synth import synthetic_sequence, synthetic_tracks

from workout_classifier.analysis.motionrange import (
    DEFINING,
    fit_limits,
    joint_ranges,
    range_check,
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


def test_limits_are_a_floor_for_moves_and_a_ceiling_for_holds():
    ranges = [{"knee": k, "elbow": 5.0, "hip": 5.0, "shoulder": 5.0} for k in (60, 80, 100, 120)]
    ranges += [{"knee": 1.0, "elbow": e, "hip": 1.0, "shoulder": 1.0} for e in (4.0, 6.0, 8.0)]
    limits = fit_limits(ranges, ["squat"] * 4 + ["plank"] * 3)
    assert limits["squat"] == {
        "joint": "knee",
        "min": round(0.5 * np.percentile([60, 80, 100, 120], 5), 2),
    }
    assert limits["plank"] == {"joint": "elbow", "max": 18.0}  # 3x the median, 6
    squat = range_check("squat", {**ranges[0], "knee": limits["squat"]["min"] - 1}, limits)
    assert squat["out"] and squat["joint"] == "knee" and "min" in squat
    assert not range_check("squat", ranges[0], limits)["out"]
    assert not range_check("plank", ranges[-1], limits)["out"]
    assert range_check("plank", {**ranges[-1], "elbow": 60.0}, limits)["out"]  # a push-up's elbows
    assert range_check("squat", {**ranges[0], "knee": 0.0}, None) == {
        "joint": "knee",
        "degrees": 0.0,
        "out": False,
    }
    assert range_check("russian twist", ranges[0], limits) is None  # no joint to check
    assert DEFINING["lunges"] == "knee" and DEFINING["deadlift"] == "hip"


def test_predict_answers_unknown_when_the_answered_joint_breaks_its_limit():
    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    classes = ["squat", "barbell biceps curl", "plank"]  # a move, another and a hold
    clf, _ = fit(tracks, y, groups, classes, "trees", FeatureConfig(steps=24, streams=("raw",)),
                 TrainConfig(seed=0, threads=1))  # fmt: skip
    clf.extra["unknown_threshold"] = 0.0  # only the range check can say `unknown`
    ranges = [joint_ranges(t.raw[..., 4:7], t.detected) for t in tracks]
    clf.extra["range_limits"] = fit_limits(ranges, [classes[k] for k in y])
    seq = synthetic_sequence("squat", seed=4242)
    squat = classify_sequence(seq, clf)
    assert squat["label"] == "squat" and not squat["out_of_range"] and not squat["resting"]
    assert squat["range_of_motion"]["joint"] == "knee" and squat["range_of_motion"]["degrees"] > 40
    # A squat's knee bending less than the floor: the same clip against a floor above its range.
    clf.extra["range_limits"]["squat"]["min"] = squat["range_of_motion"]["degrees"] + 1
    short = classify_sequence(seq, clf)
    assert short["label"] == UNKNOWN and short["out_of_range"] and not short["resting"]
    assert short["range_of_motion"]["min"] > short["range_of_motion"]["degrees"]
    assert short["top"] == squat["top"]  # the best guess is still there, only held back
    del clf.extra["range_limits"]  # a model file from before the check answers as it did
    old = classify_sequence(seq, clf)
    assert (
        old["label"] == "squat" and not old["out_of_range"] and "min" not in old["range_of_motion"]
    )
