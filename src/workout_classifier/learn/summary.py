"""Window summaries: raw pose windows (N, T, V, 8) -> one fixed vector per window (N, D).

Tree models (models/trees.py) read these instead of the sequence. Each block is
a readable statistic over the window's T steps, on the 13 body joints that carry
an exercise (nose, shoulders, elbows, wrists, hips, knees, ankles):

- pose: hip-centred, torso-scaled joint x/y, and the 8 joint angles: mean, std,
  10th and 90th percentile (where the body is and how it bends);
- orientation: torso direction in the image and in metric world coordinates, and
  the chest normal (standing vs lying vs hanging, face up vs face down);
- motion: mean step and range of every joint, relative to the hips and in the
  image (pull-up wrists stay put on the bar while the body moves; bench-press
  hips stay put while the wrists move), and which joints move most;
- trust: the pose model's visibility per joint;
- rhythm: how much of the motion one direction explains, its autocorrelation
  peak and lag, and which joints that direction moves;
- camera-free: the 8 joint angles from the metric world landmarks, and the world
  pose turned about the vertical axis so the hips face one way (where the camera
  stands does not change them): mean, std, p10, p90 and range. They raised grouped
  macro-F1 0.889 -> 0.910 and leave-source-out 0.592 -> 0.655 (issue 11);
- asymmetry (optional, on by default): how differently the two sides move, in the
  metric world pose: |left - right| of each angle pair, the swing of their signed
  difference, and the gap between the two ankles, knees, wrists and elbows in
  the body frame, in hip widths. A lunge splits the legs and a squat does not,
  whichever leg leads and wherever the camera stands. Learned from 4 lunge clips,
  UCF101's 90 lunges went from 0.36 to 0.62 right (leave-source-out, seed 0);
  bench/results/levers.md has the three-seed figures.

Not here on purpose: where the person sits in the frame (joint heights in the
image, torso size, detection rate). Those say more about the camera than the
exercise; dropping them raised grouped macro-F1 0.891 -> 0.908 (plank F1 0.25 ->
0.73) and leave-source-out 0.620 -> 0.626 (docs/experiments.md, issue 11).

Pure numpy; x in raw is already in units of the frame height (features.windows).
"""

from __future__ import annotations

import numpy as np

from workout_classifier.learn.features import (
    ANGLES,
    L_AN,
    L_EL,
    L_HIP,
    L_KN,
    L_SH,
    L_WR,
    R_AN,
    R_EL,
    R_HIP,
    R_KN,
    R_SH,
    R_WR,
    angle_cos,
    normalize_joints,
)

KEY = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def _quantiles(a: np.ndarray) -> list[np.ndarray]:
    """Mean, std, p10, p90 over time of a (N, T, ...) array, each flattened to (N, -1)."""
    n = len(a)
    qs = np.percentile(a, [10, 90], axis=1)
    return [
        a.mean(1).reshape(n, -1),
        a.std(1).reshape(n, -1),
        qs[0].reshape(n, -1),
        qs[1].reshape(n, -1),
    ]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-6)


def _rhythm(j: np.ndarray) -> np.ndarray:
    """(N, T, K, 2) normalized joints -> (N, 4 + 2K): principal motion share, periodicity, its joints."""
    n, t = j.shape[:2]
    s = j.reshape(n, t, -1)
    s = s - s.mean(1, keepdims=True)
    u, sv, vt = np.linalg.svd(s, full_matrices=False)  # batched over windows
    share = sv / (sv.sum(-1, keepdims=True) + 1e-9)
    out = np.zeros((n, 4), dtype=np.float64)
    for i in range(n):
        pc = u[i, :, 0] * sv[i, 0]
        ac = np.correlate(pc, pc, "full")[t - 1 :]
        ac = ac / (ac[0] + 1e-9)
        lag = int(np.argmax(ac[4:])) + 4 if t > 5 else 0
        out[i] = (
            share[i, 0],
            share[i, 1] if share.shape[1] > 1 else 0.0,
            ac[1:].max() if t > 1 else 0.0,
            lag,
        )
    return np.concatenate([out, np.abs(vt[:, 0])], -1)


def body_frame(w: np.ndarray) -> np.ndarray:
    """World landmarks (N, T, V, 3) turned about the vertical (y) so each window's mean hip line is along x."""
    hips = (w[:, :, L_HIP] - w[:, :, R_HIP]).mean(1)  # (N, 3)
    a = np.arctan2(hips[:, 2], hips[:, 0])[:, None, None]
    c, s = np.cos(a), np.sin(a)
    x, z = w[..., 0], w[..., 2]
    return np.stack([c * x + s * z, w[..., 1], -s * x + c * z], -1)


def _world_angles(raw: np.ndarray) -> np.ndarray:
    """The 8 joint angles (cosines) of the metric world landmarks: (N, T, 8), pairs (left, right)."""
    w = raw[..., 4:7]
    return np.stack([angle_cos(w, a, v, b) for a, v, b in ANGLES], -1)


def _camera_free(raw: np.ndarray, ang: np.ndarray) -> list[np.ndarray]:
    """World joint angles `ang` and the body-frame world pose of the key joints, as quantile blocks."""
    w = raw[..., 4:7]
    bf = body_frame(w)[:, :, list(KEY)]  # (N, T, K, 3)
    bf = bf - bf.mean(2, keepdims=True)
    return [*_quantiles(ang), *_quantiles(bf), np.ptp(bf, axis=1).reshape(len(raw), -1)]


# (left, right) joint pairs whose body-frame gap the asymmetry block measures.
_GAPS = ((L_AN, R_AN), (L_KN, R_KN), (L_WR, R_WR), (L_EL, R_EL))


def _asymmetry(raw: np.ndarray, ang: np.ndarray) -> list[np.ndarray]:
    """How differently the two sides move, from the world landmarks and their angles `ang`
    (see the module docstring)."""
    w = raw[..., 4:7]
    signed = ang[..., 0::2] - ang[..., 1::2]  # (N, T, 4)
    bf = body_frame(w)
    hip_width = np.linalg.norm(w[:, :, L_HIP] - w[:, :, R_HIP], axis=-1).mean(1) + 1e-3  # (N,)
    left, right = [a for a, _ in _GAPS], [b for _, b in _GAPS]
    gap = np.abs(bf[:, :, left] - bf[:, :, right]) / hip_width[:, None, None, None]  # (N, T, 4, 3)
    diff = np.abs(signed)
    return [*_quantiles(diff), np.ptp(diff, axis=1), *_quantiles(gap), np.ptp(signed, axis=1)]


def window_summary(raw: np.ndarray, asymmetry: bool = True) -> np.ndarray:
    """raw (N, T, V, 8) -> (N, D) float32; see the module docstring for the blocks."""
    key = list(KEY)
    norm = normalize_joints(raw[..., 0:3])  # (N, T, V, 3)
    j = norm[:, :, key, :2]  # (N, T, K, 2)
    ang = np.stack([angle_cos(norm, a, v, b) for a, v, b in ANGLES], -1)  # (N, T, 8)
    xy = raw[..., 0:2]
    hip, sh = (
        (xy[:, :, L_HIP] + xy[:, :, R_HIP]) / 2,
        (xy[:, :, L_SH] + xy[:, :, R_SH]) / 2,
    )  # (N, T, 2)
    w = raw[..., 4:7]
    w_ang = _world_angles(raw)  # (N, T, 8), for the camera-free and asymmetry blocks
    w_hip, w_sh = (w[:, :, L_HIP] + w[:, :, R_HIP]) / 2, (w[:, :, L_SH] + w[:, :, R_SH]) / 2
    chest = _unit(np.cross(w[:, :, L_SH] - w[:, :, R_SH], w_sh - w_hip))
    torso = np.median(np.linalg.norm(sh - hip, axis=-1), axis=1) + 1e-3  # (N,) in frame heights
    img = xy[:, :, key] / torso[:, None, None, None]  # image position in torso lengths (N, T, K, 2)
    n, t = raw.shape[:2]
    if t > 1:
        moved = np.linalg.norm(np.diff(img, axis=1), axis=-1).mean(1)  # (N, K)
        step = np.abs(np.diff(j, axis=1)).mean(1).reshape(n, -1)
    else:  # one frame: nothing moves
        moved, step = np.zeros((n, len(key))), np.zeros((n, 2 * len(key)))
    blocks = [
        *_quantiles(j), *_quantiles(ang),
        *_quantiles(_unit(sh - hip)), *_quantiles(_unit(w_sh - w_hip)), *_quantiles(chest),
        step, np.ptp(j, axis=1).reshape(n, -1),
        raw[:, :, key, 3].mean(1),
        img.std(1).reshape(n, -1), np.ptp(img, axis=1).reshape(n, -1),
        moved / (moved.max(-1, keepdims=True) + 1e-6),
        _rhythm(j),
        *_camera_free(raw, w_ang),
        *(_asymmetry(raw, w_ang) if asymmetry else []),
    ]  # fmt: skip
    out = np.concatenate([b.astype(np.float64) for b in blocks], -1)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
