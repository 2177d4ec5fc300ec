"""The stance of a clip (torso tilt, hands up or low, feet apart), its fitted rules, and `predict`'s check."""

import numpy as np
from synth import synthetic_sequence, synthetic_tracks

from workout_classifier.analysis.stance import (
    RULES,
    fit_limits,
    stance,
    stance_check,
    track_stance,
    track_stances,
)
from workout_classifier.learn.features import FeatureConfig
from workout_classifier.learn.train import TrainConfig, fit
from workout_classifier.predict import UNKNOWN, classify_sequence


def test_standing_lying_hands_up_and_feet_apart():
    squat = synthetic_sequence("squat", seed=3)
    st = stance(squat.world, squat.detected)
    assert st["torso_tilt"] < 20 and st["hands_up"] == 0 and st["hands_low"] == 0
    lying = squat.world.copy()
    lying[..., [0, 1]] = lying[..., [1, 0]]  # the same body turned a quarter, on its side
    assert stance(lying, squat.detected)["torso_tilt"] > 70
    jack = synthetic_sequence("jack", seed=3)
    sj = stance(jack.world, jack.detected)
    assert sj["hands_up"] > 0.2  # the arms go over the head for part of each rep
    assert sj["feet_apart"] > st["feet_apart"] + 0.5  # in hip widths


def test_frames_where_nobody_was_found_do_not_count():
    squat = synthetic_sequence("squat", seed=5)
    n = len(squat.times)
    world = squat.world.copy()
    world[n // 2 :, :, :3] = np.random.default_rng(0).normal(0, 1, (n - n // 2, 33, 3))
    found = np.arange(n) < n // 2
    assert stance(world, found) == stance(squat.world[: n // 2])
    assert np.isnan(stance(np.full((10, 33, 3), np.nan))["torso_tilt"])  # nothing to measure


def test_limits_widen_the_percentile_and_the_first_broken_rule_is_said():
    stances = [{"torso_tilt": t, "hands_up": 0.0, "hands_low": h, "feet_apart": 1.5}
               for t, h in zip((5, 10, 15, 20, 25), (0.0, 0.0, 0.05, 0.1, 0.1), strict=True)]  # fmt: skip
    limits = fit_limits(stances, ["squat"] * 5)
    tilt, low = limits["squat"]
    assert low == {
        "measure": "hands_low",
        "max": round(np.percentile([0, 0, 0.05, 0.1, 0.1], 90) + 0.2, 2),
    }
    assert 45 < tilt["max"] < 60  # the 90th percentile's cosine, 0.3 lower
    assert stance_check("squat", stances[2], limits) is None
    deadlift = {**stances[2], "hands_low": 0.6}  # a deadlift's hands go below the knees
    broken = stance_check("squat", deadlift, limits)
    assert (
        broken["measure"] == "hands_low" and broken["value"] == 0.6 and broken["max"] == low["max"]
    )
    assert (
        broken["says"]
        == "a hand is below the knees on 60% of the frames, over the 30% a squat allows"
    )
    assert stance_check("squat", deadlift, None) is None  # a model file without limits
    assert stance_check("russian twist", deadlift, limits) is None  # no rules for it
    assert "pull up" in RULES and ("hands_up", "min") in RULES["pull up"]


def test_a_chest_fly_keeps_its_hands_between_the_knees_and_the_shoulders():
    fly = [
        {"torso_tilt": t, "hands_up": 0.0, "hands_low": 0.0, "feet_apart": 1.8} for t in (4, 8, 12)
    ]
    limits = fit_limits(fly, ["chest fly machine"] * 3)
    assert stance_check("chest fly machine", fly[1], limits) is None
    # seated with the hands by the hips and below the knees (a russian twist read as chest fly)
    twist = {"torso_tilt": 34.0, "hands_up": 0.0, "hands_low": 0.73, "feet_apart": 0.95}
    assert stance_check("chest fly machine", twist, limits)["measure"] == "hands_low"
    press = {**fly[1], "hands_up": 0.8}  # a shoulder press's hands go overhead
    assert stance_check("chest fly machine", press, limits)["measure"] == "hands_up"
    assert (
        stance_check("deadlift", press, fit_limits(fly, ["deadlift"] * 3))["measure"] == "hands_up"
    )


def test_predict_answers_unknown_when_the_answered_body_breaks_a_rule():
    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    classes = ["squat", "barbell biceps curl", "jumping jack"]
    clf, _ = fit(tracks, y, groups, classes, "trees", FeatureConfig(steps=24, streams=("raw",)),
                 TrainConfig(seed=0, threads=1))  # fmt: skip
    clf.extra["unknown_threshold"] = 0.0  # only the stance check can say `unknown`
    seq = synthetic_sequence("squat", seed=4242)
    before = classify_sequence(seq, clf)  # a model file from before the check: no stance asked
    assert before["label"] == "squat" and "stance" not in before and "out_of_stance" not in before
    clf.extra["stance_limits"] = fit_limits(track_stances(tracks, clf.features),
                                            [classes[k] for k in y])  # fmt: skip
    squat = classify_sequence(seq, clf)
    assert squat["label"] == "squat" and squat["out_of_stance"] is False
    assert set(squat["stance"]) == {"torso_tilt", "hands_up", "hands_low", "feet_apart"}
    clf.extra["stance_limits"]["squat"] = [
        {"measure": "torso_tilt", "min": 60.0}
    ]  # it must lie down
    held = classify_sequence(seq, clf)
    assert held["label"] == UNKNOWN and held["out_of_stance"] and held["top"] == squat["top"]
    assert (
        held["stance_rule"]["says"].startswith("the torso is ")
        and "60° a squat needs" in held["stance_rule"]["says"]
    )


def test_standing_around_before_the_exercise_does_not_count():
    """A push-up clip that opens with the person standing still: the stance is the push-up's."""
    from workout_classifier.learn.features import prepare
    from workout_classifier.pose.landmarks import PoseSequence

    squat = synthetic_sequence("squat", seconds=8, seed=7)
    lying = squat.world.copy()
    lying[..., [0, 1]] = lying[..., [1, 0]]  # an exercise done lying down, 8 s
    n = len(squat.times)
    still = np.repeat(squat.world[:1], 2 * n, 0)  # 16 s standing still first, twice as long
    still[..., :3] += np.random.default_rng(0).normal(0, 1e-3, still[..., :3].shape)
    img = np.concatenate([np.repeat(squat.landmarks[:1], 2 * n, 0), squat.landmarks])
    times = np.arange(3 * n) / 15.0
    seq = PoseSequence(img, np.concatenate([still, lying]), times, np.ones(3 * n, bool), squat.meta)
    track = prepare(seq)
    cfg = FeatureConfig(steps=24, streams=("raw",))
    assert stance(track.raw[..., 4:7], track.detected)["torso_tilt"] < 30  # the whole clip: upright
    assert track_stance(track, cfg)["torso_tilt"] > 60  # while it moves: lying
