"""Augmentation of raw pose windows (N, T, V, 8), for training folds only.

``mirror`` flips left and right (also used at prediction time by models that average a clip with its
mirror image), ``augment`` adds the small jitters a sequence network trains with, and
``camera_augment`` makes views of a window from another camera for models fitted on windows (trees).
Pure numpy; split from features.py, which keeps the transforms every clip goes through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workout_classifier.learn.features import L_HIP, R_HIP
from workout_classifier.pose.landmarks import FLIP_INDEX


def mirror(raw: np.ndarray) -> np.ndarray:
    """Left-right flip of (..., V, 8) windows, swapping left and right joints."""
    out = raw[..., FLIP_INDEX, :].copy()
    out[..., 0] = -out[..., 0]  # image x (any offset is removed by centring)
    out[..., 4] = -out[..., 4]  # world x
    return out


def augment(raw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random mirror, rotation (+-10 deg), scale (+-10%), dropped frames, noise. raw: (N, T, V, 8)."""
    out = raw.copy()
    n, t = out.shape[:2]
    flip = rng.random(n) < 0.5
    out[flip] = mirror(out[flip])
    ang = np.deg2rad(rng.uniform(-10, 10, n))[:, None, None]
    c, s = np.cos(ang), np.sin(ang)
    for ix, iy in ((0, 1), (4, 5)):
        x, y = out[..., ix].copy(), out[..., iy].copy()
        out[..., ix], out[..., iy] = c * x - s * y, s * x + c * y
    scale = rng.uniform(0.9, 1.1, n)[:, None, None]
    for ch in (0, 1, 2, 4, 5, 6):
        out[..., ch] *= scale
    out[..., [0, 1, 2, 4, 5, 6]] += rng.normal(0, 0.004, out[..., [0, 1, 2, 4, 5, 6]].shape)
    # Dropped frames: hold the previous frame, as a tracker that lost the person would.
    drop = rng.random((n, t)) < 0.08
    drop[:, 0] = False
    for i, k in zip(*np.nonzero(drop), strict=False):
        out[i, k] = out[i, k - 1]
    out[..., 7][drop] = 0.0  # a held frame is not a detection
    return out


@dataclass(frozen=True)
class CameraAugment:
    """Views of a window from another camera, for models fitted on windows (trees).

    yaw_deg: the body turned about the vertical axis by up to this (metric world
    landmarks rotated, then re-projected onto the image with the window's own
    scale, so the image keeps its detection noise). zoom / shift: the frame
    cropped closer or wider and moved (image x/y only). tilt_deg: the camera
    rolled. joint_drop: share of windows where a limb end (wrist, elbow, ankle,
    knee) flickers out, held and marked invisible as the pose model does.
    """

    copies: int = 2  # augmented copies per training window, beside the original
    yaw_deg: float = 35.0
    zoom: tuple[float, float] = (0.75, 1.3)
    shift: float = 0.15
    tilt_deg: float = 8.0
    mirror: bool = True
    joint_drop: float = 0.3
    frame_drop: float = 0.08


_LIMB_ENDS = ((13, 15, 17, 19, 21), (14, 16, 18, 20, 22), (25, 27, 29, 31), (26, 28, 30, 32))


def camera_augment(
    raw: np.ndarray, rng: np.random.Generator, cfg: CameraAugment = CameraAugment()
) -> np.ndarray:
    """One augmented view of each window raw (N, T, V, 8); see CameraAugment."""
    out = raw.astype(np.float32, copy=True)
    n, t = out.shape[:2]
    if cfg.mirror:
        flip = rng.random(n) < 0.5
        out[flip] = mirror(out[flip])
    # Yaw: rotate world x/z about the vertical (world y), re-project the change onto the image
    # with the weak-perspective scale that maps this window's world x/y onto its image x/y.
    w = out[..., 4:7]  # (N, T, V, 3), metres around the mid-hip
    img = out[..., 0:2]
    c_img = img - img.mean(2, keepdims=True)
    c_w = w[..., :2] - w[..., :2].mean(2, keepdims=True)
    scale = (c_img * c_w).sum((1, 2, 3)) / np.maximum((c_w**2).sum((1, 2, 3)), 1e-6)  # (N,)
    scale = np.clip(scale, 0.05, 5.0)[:, None, None]
    a = np.deg2rad(rng.uniform(-cfg.yaw_deg, cfg.yaw_deg, n))[:, None, None]
    ca, sa = np.cos(a), np.sin(a)
    wx, wz = w[..., 0].copy(), w[..., 2].copy()
    new_x, new_z = ca * wx + sa * wz, -sa * wx + ca * wz
    out[..., 0] += scale * (new_x - wx)
    out[..., 2] += scale * (new_z - wz)
    out[..., 4], out[..., 6] = new_x, new_z
    # Camera roll, then zoom and shift about the window's mean hip position: image only.
    r = np.deg2rad(rng.uniform(-cfg.tilt_deg, cfg.tilt_deg, n))[:, None, None]
    hip = (out[:, :, L_HIP, 0:2] + out[:, :, R_HIP, 0:2]).mean(1) / 2  # (N, 2)
    x, y = out[..., 0] - hip[:, None, None, 0], out[..., 1] - hip[:, None, None, 1]
    z = rng.uniform(*cfg.zoom, n)[:, None, None]
    sh = rng.uniform(-cfg.shift, cfg.shift, (n, 2))
    out[..., 0] = z * (np.cos(r) * x - np.sin(r) * y) + hip[:, None, None, 0] + sh[:, None, None, 0]
    out[..., 1] = z * (np.sin(r) * x + np.cos(r) * y) + hip[:, None, None, 1] + sh[:, None, None, 1]
    out[..., 2] *= z
    # A limb end lost for a stretch of frames: held where it was last seen, visibility low.
    for i in np.flatnonzero(rng.random(n) < cfg.joint_drop):
        joints = list(_LIMB_ENDS[rng.integers(len(_LIMB_ENDS))])
        s0 = rng.integers(0, t)
        s1 = min(t, s0 + rng.integers(max(2, t // 8), max(3, t // 2)))
        seg = out[i, s0:s1]  # a view: (frames, V, 8)
        seg[:, joints] = out[i, s0, joints][None]
        seg[:, joints, 3] = rng.uniform(0.0, 0.3)
    drop = rng.random((n, t)) < cfg.frame_drop
    drop[:, 0] = False
    for i, k in zip(*np.nonzero(drop), strict=False):
        out[i, k] = out[i, k - 1]
    out[..., 7][drop] = 0.0
    return out
