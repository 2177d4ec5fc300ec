"""Repetition counting where the world landmarks miss the move (a lying lifter seen from the feet) and
where a move that is not a rep moves the same measures (a jumping-jack drill's legs-only jumps)."""

import numpy as np
from synth import exercise_sequence

from workout_classifier.analysis.replive import OnlineRepCounter
from workout_classifier.analysis.repmeasures import JACK_MIN_ARM_DEG, MEASURES, frame_measures
from workout_classifier.analysis.reps import PROFILES, count_reps
from workout_classifier.analysis.timeline import join_sequences


def _frozen_world(exercise: str, reps: int, period: float):
    """Reps whose image landmarks move while the world landmarks stay put (plus noise)."""
    seq = exercise_sequence(exercise, reps, period, seed=2)
    noise = np.random.default_rng(0).normal(0, 0.005, seq.world[..., :3].shape)
    seq.world[..., :3] = seq.world[:1, :, :3] + noise
    return seq


def test_bench_press_seen_from_the_feet_counts_on_the_hands_in_the_image():
    # From the feet the bar moves toward the camera: the world elbow angle barely follows it, but in the
    # image the hands come down to the shoulders at the chest.
    assert "hand_reach" in PROFILES["bench press"]
    seq = _frozen_world("bench press", 3, 1.0)
    res = count_reps(seq, "bench press")
    assert res.reps == 3, res.rep_times
    assert np.allclose(res.rep_times, [0.5, 1.5, 2.5], atol=0.25)
    counter = OnlineRepCounter("bench press")
    for t, w, lm in zip(seq.times, seq.world, seq.landmarks, strict=True):
        counter.update(t, w, lm)
    assert abs(counter.finish() - res.reps) <= 1


def test_hand_reach_reads_the_image_when_given_and_the_world_otherwise():
    seq = exercise_sequence("bench press", 1, 2.0)
    k = MEASURES.index("hand_reach")
    image = frame_measures(seq.world, image=seq.landmarks)[:, k]
    world = frame_measures(seq.world)[:, k]
    # Both fall toward the turning point (bar at the chest, half way) and rise after it.
    for reach in (image, world):
        mid = len(reach) // 2
        assert reach[mid] < reach[0] - 0.1 and reach[mid] < reach[-1] - 0.1
    frozen = _frozen_world("bench press", 1, 2.0)
    assert np.ptp(frame_measures(frozen.world)[:, k]) < 0.1  # the world misses it


def test_jumping_jack_legs_only_jumps_are_not_counted():
    # A teaching demo: two full jacks with two legs-only jumps (arms kept down, legs jumping wider, so the
    # jumps move the rep signal as much as the jacks do) between them.
    jack = exercise_sequence("jumping jack", 1, 1.5, seed=3)
    legs = exercise_sequence("jumping jack", 1, 1.5, seed=4)
    arms, feet = list(range(13, 23)), list(range(25, 33))
    for arr in (legs.world, legs.landmarks):
        arr[:, arms] = arr[:1, arms]  # the rest pose's arms, by the sides
        arr[:, feet, :2] = arr[:1, feet, :2] + 2.0 * (arr[:, feet, :2] - arr[:1, feet, :2])
    assert (
        np.degrees(2 * frame_measures(legs.world)[:, MEASURES.index("arm_raise")].max())
        < JACK_MIN_ARM_DEG
    )
    joined = join_sequences([jack, legs, jack, legs])[0]
    res = count_reps(joined, "jumping jack")
    assert res.reps == 2, res.rep_times
    assert np.allclose(res.rep_times, [0.75, 3.75], atol=0.3)
    both = join_sequences([jack, jack, jack])[0]
    assert count_reps(both, "jumping jack").reps == 3
