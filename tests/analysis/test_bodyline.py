"""Body-frame push-up measures: the body-line angle of hand-built planks, and that turning the camera
(rotating the world landmarks) does not change them."""

import numpy as np
import pytest
from test_form import _pushup

from workout_classifier.analysis.bodyline import (
    BODYLINE_FEATURES,
    body_frame,
    bodyline_features,
    frame_lines,
)
from workout_classifier.pose.landmarks import NoPersonError, PoseSequence


def _plank(hip_up: float = 0.0) -> np.ndarray:
    """One frame (1, 33, 3) of a plank, world coordinates (y down): shoulders 0.7 m ahead of the hips,
    ankles 0.9 m behind them, hands under the shoulders; ``hip_up`` lifts the hips (metres)."""
    w = np.zeros((1, 33, 3))
    for o, z in ((0, -0.18), (1, 0.18)):
        sh, hip, an = np.array([0.7, 0.0, z]), np.array([0.0, -hip_up, z]), np.array([-0.9, 0.0, z])
        pts = {11: sh, 13: sh + [0, 0.25, 0], 15: sh + [0, 0.5, 0], 23: hip, 25: (hip + an) / 2, 27: an,
               7: sh + [0.15, -0.05, 0]}  # fmt: skip
        for j, p in pts.items():
            w[0, j + o] = p
    return w


def _rotate(w: np.ndarray, axis: str, deg: float) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    r = {"y": [[c, 0, s], [0, 1, 0], [-s, 0, c]], "x": [[1, 0, 0], [0, c, -s], [0, s, c]]}[axis]
    return w @ np.array(r).T


def test_straight_plank_reads_straight_and_piked_reads_its_angle():
    straight = frame_lines(_plank())
    assert abs(straight["line_bend"][0]) < 1e-6
    assert abs(straight["hip_offset"][0]) < 1e-6
    piked = frame_lines(_plank(hip_up=0.2))
    expect = np.degrees(np.arctan(0.2 / 0.7) + np.arctan(0.2 / 0.9))  # the bend at the hips
    assert piked["line_bend"][0] == pytest.approx(-expect, abs=1e-6)  # pike is negative
    assert piked["hip_offset"][0] < -0.05
    sagging = frame_lines(_plank(hip_up=-0.1))
    assert sagging["line_bend"][0] > 5 and sagging["hip_offset"][0] > 0.03


@pytest.mark.parametrize(
    ("axis", "deg"), [("y", 30), ("y", 90), ("y", 180), ("y", -120), ("x", 40)]
)
def test_measures_do_not_depend_on_the_view(axis, deg):
    # About the vertical axis: a side, front or back view of the same plank; about x: a high camera.
    w = _plank(hip_up=0.15)
    turned = _rotate(w, axis, deg)
    a, b = frame_lines(w), frame_lines(turned)
    for k in a:
        assert b[k] == pytest.approx(a[k], abs=1e-6), k
    # The frame turns with the body: its floor normal still points from the body to the hands.
    assert body_frame(turned)[2] == pytest.approx(
        _rotate(body_frame(w)[None], axis, deg)[0][2], abs=1e-6
    )


def test_per_clip_features_tell_a_sagging_push_up_and_ignore_the_view():
    straight = bodyline_features(_pushup())
    sagging = bodyline_features(_pushup(sag=0.12))
    assert set(straight) == set(BODYLINE_FEATURES)
    assert sagging["line_bend_bottom"] > straight["line_bend_bottom"] + 5
    assert sagging["hip_offset_p90"] > straight["hip_offset_p90"] + 0.03
    assert straight["elbow_bottom"] < straight["elbow_top"] - 20  # the reps were found
    seq = _pushup(sag=0.12)
    turned = PoseSequence(seq.landmarks, seq.world.copy(), seq.times, seq.detected, seq.meta)
    turned.world[..., :3] = _rotate(seq.world[..., :3].astype(np.float64), "y", 70)
    again = bodyline_features(turned)
    for k in sagging:
        assert again[k] == pytest.approx(sagging[k], abs=1e-3), k


def test_nobody_visible():
    seq = _pushup()
    empty = PoseSequence(
        seq.landmarks, seq.world, seq.times, np.zeros(len(seq.times), bool), seq.meta
    )
    with pytest.raises(NoPersonError):
        bodyline_features(empty)
