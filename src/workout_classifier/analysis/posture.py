"""Posture over a window of poses: is the person resting between sets rather than exercising?

``resting`` (one rule, used by `live.LiveTracker` and by `predict` through
`resting_windows`) is any of: upright and holding still; upright and walking;
standing in place with straight legs, level hips and hands below the shoulders
(standing around, turning on the spot); sitting down (the hips drop once, one
way). The model only knows exercises, so these are answered `resting` /
`unknown` whatever it says. On the nine exercises' 1398 windows of ../shared
the last two rules fire on 0-2.8% of windows per exercise (pull up most) and
make one more clip all-resting (a squat; 5 of 625 before, 6 after); on the
everyday movement bench/unknown.py generates, they take turning 0 -> 0.44 and
sitting down 0 -> 1.00 (turning from squat clips often keeps the hands on a bar
at the shoulders, which the hands rule rightly refuses).
Pure numpy on image landmarks; x and y are put in one unit (the frame height).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from workout_classifier.learn.features import (
    L_HIP,
    L_KN,
    L_SH,
    L_WR,
    R_HIP,
    R_KN,
    R_SH,
    R_WR,
    angle_cos,
    eval_windows,
    windows,
)

L_AN, R_AN = 27, 28
# Body joints whose travel says whether the person moves (face, hands and feet are noisy).
_MOVING_JOINTS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
STILL_TRAVEL = 0.35  # torso lengths: joints moving less than this = holding still
WALK_TRAVEL = 1.0  # torso lengths of hip travel sideways over the window = walking
UPRIGHT_DEGREES = 35.0  # torso within this of vertical = standing or sitting
HANDS_BELOW = (
    0.3  # torso lengths below the shoulders, nearly always (p5) = hands hang, hold no bar up
)
HANDS_OVERHEAD = -0.5  # torso lengths above the shoulders (p5): hands up, not walking
SIT_DROP = 0.5  # torso lengths the hips drop over the window ...
SIT_ONE_WAY = 0.8  # ... with this share of their vertical travel downwards (a squat comes back up)


def _interp_nan(x: np.ndarray, found: np.ndarray) -> np.ndarray:
    if found.all():
        return x
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1).copy()
    for j in range(flat.shape[1]):
        flat[:, j] = np.interp(t, t[found], flat[found, j])
    return flat.reshape(x.shape)


def posture(landmarks: np.ndarray, found: np.ndarray, aspect: float, cfg=None) -> dict:
    """How the body is held over a window: {upright, still, walking, in_place, sitting_down, resting,
    travel, tilt}. landmarks (T, 33, 4).

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
    tilt = float(
        np.degrees(
            np.median(np.arccos(np.clip(-up[:, 1] / (np.linalg.norm(up, axis=-1) + 1e-9), -1, 1)))
        )
    )
    local = (xy[:, _MOVING_JOINTS] - hip[:, None]) / torso  # limbs relative to the hips
    travel = float(np.max(np.percentile(local, 95, axis=0) - np.percentile(local, 5, axis=0)))
    hip_y = float(np.ptp(hip[:, 1]) / torso)  # squats, lunges and jumps move the hips up and down
    hip_x = float(np.ptp(hip[:, 0]) / torso)
    knee = np.degrees(
        np.arccos(np.stack([angle_cos(xy, L_HIP, L_KN, L_AN), angle_cos(xy, R_HIP, R_KN, R_AN)]))
    )
    straight_legs = float(np.percentile(knee.min(0), 10)) > 140  # walking never bends a knee deeply
    upright = tilt < upright_degrees
    still = travel < still_travel and hip_y < still_travel
    hands = (
        np.minimum(xy[:, L_WR, 1], xy[:, R_WR, 1]) - sh[:, 1]
    ) / torso  # image y down: > 0 is below
    # Walking does not lift the hands overhead; a jumping jack's side-to-side hips with the hands
    # overhead is not walking (a new-source jumping jack was answered `unknown` for it). Hands held
    # out at shoulder height still walk (the generated walks of bench/unknown.py carry such arms).
    walking = (hip_x > walk_travel and straight_legs and hip_y < 0.5
               and float(np.percentile(hands, 5)) > HANDS_OVERHEAD)  # fmt: skip
    in_place = (
        upright
        and straight_legs
        and hip_y < still_travel
        and float(np.percentile(hands, 5)) > HANDS_BELOW
    )
    drop = np.diff(hip[:, 1]) / torso
    sitting_down = (tilt < upright_degrees + 10 and drop.sum() > SIT_DROP  # leaning forward while sitting
                    and drop.sum() > SIT_ONE_WAY * (np.abs(drop).sum() + 1e-9))  # fmt: skip
    resting = (upright and (still or walking)) or in_place or sitting_down
    return {"upright": upright, "still": still, "walking": walking, "in_place": in_place,
            "sitting_down": bool(sitting_down), "resting": bool(resting), "travel": round(travel, 3),
            "tilt": round(tilt, 1)}  # fmt: skip


def resting_windows(raw: np.ndarray) -> np.ndarray:
    """(N,) True where a raw window (N, T, V, 8) shows a resting body (`posture`'s "resting").

    The same rule as live's ``resting``, for a clip's windows: `predict` answers `unknown` when
    every window of a clip is resting (standing, walking: not an exercise the model knows). Raw
    windows are interpolated, and their x and y are already in frame heights (features.windows).
    """
    out = np.zeros(len(raw), bool)
    for i, w in enumerate(raw):
        p = posture(w[..., :4], np.ones(len(w), bool), 1.0)
        out[i] = p["resting"]
    return out


def resting_clips(tracks: list, features) -> np.ndarray:
    """(N,) True for clips (features.Track) where every window is resting, as `predict` decides;
    `features`: the model's FeatureConfig (its windows are the ones `predict` looks at)."""
    raw, owner = eval_windows(list(tracks), replace(features, unit="time"))  # as predict judges it
    moving = np.bincount(owner, weights=~resting_windows(raw), minlength=len(tracks))
    return moving == 0


def moving_frames(
    track, features, still: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """(T,) True for the frames of a features.Track that some non-resting 4 s window covers: the clip
    without the standing around, walking in or sitting down before and after its exercise.

    `still`: (raw, starts) of the track's time windows (features.windows at unit "time"), when the
    caller has them. All frames are kept when every window rests (the caller decides what that means).
    """
    cfg = replace(features, unit="time")
    raw, starts = still if still is not None else windows(track, cfg)
    rest = resting_windows(raw)
    t = np.asarray(track.times, np.float64) - float(track.times[0])
    span = min(cfg.window_seconds, track.duration) if track.duration > 0 else 0.0
    keep = np.zeros(len(t), bool)
    for s, r in zip(starts, rest, strict=True):
        if not r:
            keep |= (t >= s - 1e-6) & (t <= s + span + 1e-6)
    return keep if keep.any() else np.ones(len(t), bool)
