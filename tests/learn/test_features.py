"""Feature transforms on synthetic landmark arrays."""

import numpy as np
import pytest
from synth import synthetic_sequence

from workout_classifier.learn.augment import augment, mirror
from workout_classifier.learn.features import (
    FeatureConfig,
    clip_features,
    interpolate_missing,
    normalize_joints,
    prepare,
    to_features,
    window_starts,
    windows,
)  # fmt: skip
from workout_classifier.pose.landmarks import FLIP_INDEX, NoPersonError


def _raw(seed=0, seconds=4.0):
    tr = prepare(synthetic_sequence("curl", seconds=seconds, seed=seed))
    return windows(tr, FeatureConfig())[0]


def test_flip_index_is_an_involution_and_swaps_sides():
    idx = np.asarray(FLIP_INDEX)
    assert (idx[idx] == np.arange(33)).all()
    assert idx[11] == 12 and idx[23] == 24 and idx[0] == 0


def test_mirror_twice_is_identity():
    raw = _raw()
    np.testing.assert_allclose(mirror(mirror(raw)), raw)
    assert not np.allclose(mirror(raw), raw)


def test_normalization_makes_scale_and_position_irrelevant():
    raw = _raw()
    xyz = raw[..., :3]
    moved = xyz * 2.7 + np.array([0.3, -0.2, 0.0], dtype=np.float32)
    np.testing.assert_allclose(normalize_joints(moved), normalize_joints(xyz), atol=1e-4)


def test_all_streams_shapes_and_finite():
    streams = (
        "joint",
        "bone",
        "motion",
        "accel",
        "world",
        "world_motion",
        "vis",
        "weighted",
        "angle",
        "orient",
    )
    cfg = FeatureConfig(streams=streams)
    x = to_features(_raw(), streams)
    assert x.shape == (1, cfg.steps, 33, cfg.channels)
    assert np.isfinite(x).all()
    with pytest.raises(ValueError, match="unknown feature stream"):
        to_features(_raw(), ("nope",))


def test_features_do_not_depend_on_label_only_on_pose():
    # The same landmarks give the same features whatever folder the clip came from.
    seq = synthetic_sequence("jack", seed=3)
    a, _ = clip_features(seq, FeatureConfig())
    b, _ = clip_features(seq, FeatureConfig())
    np.testing.assert_array_equal(a, b)


def test_missing_frames_are_interpolated_not_zero():
    seq = synthetic_sequence("squat", seed=1, missing=0.4)
    assert np.isnan(seq.landmarks).any()
    tr = prepare(seq)
    assert np.isfinite(tr.raw).all()
    x = np.array([[0.0], [np.nan], [2.0]])
    np.testing.assert_allclose(
        interpolate_missing(x, np.array([True, False, True])), [[0.0], [1.0], [2.0]]
    )


def test_no_person_is_an_error():
    seq = synthetic_sequence("squat", seed=1)
    seq.detected[:] = False
    with pytest.raises(NoPersonError):
        prepare(seq)


def test_long_clips_become_several_windows_short_ones_one():
    cfg = FeatureConfig(window_seconds=4.0, hop_seconds=2.0)
    assert window_starts(1.0, cfg) == [0.0]
    starts = window_starts(30.0, cfg)
    assert len(starts) == 14 and starts[-1] == 26.0
    long_x, st = clip_features(synthetic_sequence("curl", seconds=30, seed=2), cfg)
    short_x, _ = clip_features(synthetic_sequence("curl", seconds=1, seed=2), cfg)
    assert long_x.shape[0] > 10 and short_x.shape[0] == 1
    assert long_x.shape[1:] == short_x.shape[1:]


def test_one_frame_clip():
    seq = synthetic_sequence("curl", seconds=1 / 15, seed=0)
    x, _ = clip_features(seq, FeatureConfig())
    assert x.shape[0] == 1 and np.isfinite(x).all()


def test_augment_keeps_shape_and_is_seeded():
    raw = np.concatenate([_raw(s) for s in range(4)])
    a = augment(raw, np.random.default_rng(0))
    b = augment(raw, np.random.default_rng(0))
    assert a.shape == raw.shape and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, raw)
