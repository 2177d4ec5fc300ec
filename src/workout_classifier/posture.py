"""Posture over a window of live poses: upright, holding still, walking (resting between sets, not an exercise).

Used by `live.LiveTracker`, which calls a body that is upright and holds still,
or walks, ``resting`` whatever the model says (the model only knows exercises).
Pure numpy on image landmarks; x and y are put in one unit (the frame height).
"""

from __future__ import annotations

import numpy as np

from workout_classifier.features import (
    L_HIP,
    L_KN,
    L_SH,
    R_HIP,
    R_KN,
    R_SH,
    angle_cos,
    eval_windows,
)

L_AN, R_AN = 27, 28
# Body joints whose travel says whether the person moves (face, hands and feet are noisy).
_MOVING_JOINTS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
STILL_TRAVEL = 0.35  # torso lengths: joints moving less than this = holding still
WALK_TRAVEL = 1.0  # torso lengths of hip travel sideways over the window = walking
UPRIGHT_DEGREES = 35.0  # torso within this of vertical = standing or sitting


def _interp_nan(x: np.ndarray, found: np.ndarray) -> np.ndarray:
    if found.all():
        return x
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1).copy()
    for j in range(flat.shape[1]):
        flat[:, j] = np.interp(t, t[found], flat[found, j])
    return flat.reshape(x.shape)


def posture(landmarks: np.ndarray, found: np.ndarray, aspect: float, cfg=None) -> dict:
    """How the body is held over a window: {upright, still, walking, travel, tilt}. landmarks (T, 33, 4).

    `cfg`: anything with `still_travel`, `walk_travel`, `upright_degrees` (a `live.LiveConfig`);
    the defaults here when None.
    """
    still_travel = getattr(cfg, "still_travel", STILL_TRAVEL)
    walk_travel = getattr(cfg, "walk_travel", WALK_TRAVEL)
    upright_degrees = getattr(cfg, "upright_degrees", UPRIGHT_DEGREES)
    xy = _interp_nan(landmarks[:, :, :2].astype(np.float64), found)  # (T, V, 2)
    xy[..., 0] *= aspect  # x and y in the same unit (the height)
    hip = (xy[:, L_HIP] + xy[:, R_HIP]) / 2
    sh = (xy[:, L_SH] + xy[:, R_SH]) / 2
    torso = max(float(np.median(np.linalg.norm(sh - hip, axis=-1))), 1e-3)
    up = sh - hip  # image y points down: upright is (0, -1)
    tilt = float(np.degrees(np.median(np.arccos(np.clip(-up[:, 1] / (np.linalg.norm(up, axis=-1) + 1e-9), -1, 1)))))
    local = (xy[:, _MOVING_JOINTS] - hip[:, None]) / torso  # limbs relative to the hips
    travel = float(np.max(np.percentile(local, 95, axis=0) - np.percentile(local, 5, axis=0)))
    hip_y = float(np.ptp(hip[:, 1]) / torso)  # squats, lunges and jumps move the hips up and down
    hip_x = float(np.ptp(hip[:, 0]) / torso)
    knee = np.degrees(np.arccos(np.stack([angle_cos(xy, L_HIP, L_KN, L_AN), angle_cos(xy, R_HIP, R_KN, R_AN)])))
    straight_legs = float(np.percentile(knee.min(0), 10)) > 140  # walking never bends a knee deeply
    upright = tilt < upright_degrees
    still = travel < still_travel and hip_y < still_travel
    walking = hip_x > walk_travel and straight_legs and hip_y < 0.5
    return {"upright": upright, "still": still, "walking": walking, "travel": round(travel, 3),
            "tilt": round(tilt, 1)}  # fmt: skip


def resting_windows(raw: np.ndarray) -> np.ndarray:
    """(N,) True where a raw window (N, T, V, 8) shows an upright body holding still or walking.

    The same rule as live's ``resting``, for a clip's windows: `predict` answers `unknown` when
    every window of a clip is resting (standing, walking: not an exercise the model knows). Raw
    windows are interpolated, and their x and y are already in frame heights (features.windows).
    """
    out = np.zeros(len(raw), bool)
    for i, w in enumerate(raw):
        p = posture(w[..., :4], np.ones(len(w), bool), 1.0)
        out[i] = p["upright"] and (p["still"] or p["walking"])
    return out


def resting_clips(tracks: list, features) -> np.ndarray:
    """(N,) True for clips (features.Track) where every window is resting, as `predict` decides;
    `features`: the model's FeatureConfig (its windows are the ones `predict` looks at)."""
    raw, owner = eval_windows(list(tracks), features)
    moving = np.bincount(owner, weights=~resting_windows(raw), minlength=len(tracks))
    return moving == 0
