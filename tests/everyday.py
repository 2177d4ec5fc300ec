"""Everyday movement that is not an exercise: standing, walking, turning, sitting down.

No labelled clips of these exist in ../shared, so they are generated: one real (or
synthetic) frame of a standing person is animated in metric world coordinates
(legs swung about the hips, knees solved so the feet stay on the floor, the upper
body leaned about the hips) and projected back onto the image with the
weak-perspective scale that maps that frame's world pose onto its image pose.
The result follows the pose contract (PoseSequence), so it goes through the same
features and gate as a real clip. bench/unknown.py and the gate tests use it.
"""

from __future__ import annotations

import numpy as np

from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence

MOTIONS = ("standing", "walking", "turning", "sitting down")
L_SH, R_SH, L_HIP, R_HIP = 11, 12, 23, 24
LEGS = ((23, 25, 27, (29, 31)), (24, 26, 28, (30, 32)))  # hip, knee, ankle, foot joints
ARMS = ((11, (13, 15, 17, 19, 21)), (12, (14, 16, 18, 20, 22)))  # shoulder, joints below it
UPPER = [*range(0, 23)]  # head, shoulders and arms: move rigidly with the trunk


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-9)


def _body_axes(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lateral, up, forward) unit vectors of one world pose (33, 3); world y points down."""
    up = np.array([0.0, -1.0, 0.0])
    lat = w[L_HIP] - w[R_HIP]
    lat = _unit(lat - up * (lat @ up))
    fwd = np.cross(lat, up)
    return lat, up, fwd


def _rotate(p: np.ndarray, axis: np.ndarray, angle: float, centre: np.ndarray) -> np.ndarray:
    """Rodrigues rotation of points p (..., 3) about `axis` through `centre`."""
    k = _unit(axis)
    v = p - centre
    c, s = np.cos(angle), np.sin(angle)
    return centre + v * c + np.cross(k, v) * s + np.outer((v @ k), k).reshape(v.shape) * (1 - c)


def _knee_ik(
    hip: np.ndarray, ankle: np.ndarray, l1: float, l2: float, fwd: np.ndarray
) -> np.ndarray:
    """Knee of a two-link leg from hip to ankle, bending forward (towards `fwd`)."""
    d = ankle - hip
    dist = np.clip(np.linalg.norm(d), 1e-6, l1 + l2 - 1e-6)
    along = (l1**2 - l2**2 + dist**2) / (2 * dist)
    h = np.sqrt(max(l1**2 - along**2, 0.0))
    u = _unit(d)
    side = _unit(fwd - u * (fwd @ u))
    return hip + u * along + side * h


def animate(world0: np.ndarray, motion: str, seconds: float = 4.0, fps: float = 15.0,
            rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """World poses (T, 33, 3) of `motion` starting from the standing pose world0 (33, 3),
    and the body's horizontal displacement (T, 3) in metres (walking moves the person)."""
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}; use one of {MOTIONS}")
    rng = rng or np.random.default_rng(0)
    t = np.arange(int(round(seconds * fps))) / fps
    lat, up, fwd = _body_axes(world0)
    hip0 = (world0[L_HIP] + world0[R_HIP]) / 2
    out = np.repeat(world0[None].astype(np.float64), len(t), 0)
    move = np.zeros((len(t), 3))
    if motion == "standing":  # sway of a couple of degrees about the ankles, and breathing
        sway = np.deg2rad(rng.uniform(1, 3)) * np.sin(2 * np.pi * t / rng.uniform(3, 6))
        ankles = (world0[27] + world0[28]) / 2
        for i, a in enumerate(sway):
            out[i] = _rotate(out[i], fwd, a, ankles)
        out[:, UPPER] += 0.004 * np.sin(2 * np.pi * t / 4)[:, None, None] * up
    elif motion == "walking":  # gait cycle of ~1.1 s: legs and arms swing in opposition
        period, amp = rng.uniform(0.9, 1.3), np.deg2rad(rng.uniform(18, 28))
        speed = rng.uniform(0.8, 1.4)
        for side, (hip, knee, ankle, feet) in enumerate(LEGS):
            ph = 2 * np.pi * t / period + side * np.pi
            for i in range(len(t)):
                a = amp * np.sin(ph[i])
                bend = np.deg2rad(40) * max(0.0, np.sin(ph[i] + 1.2))
                leg = [knee, ankle, *feet]
                out[i, leg] = _rotate(out[i, leg], lat, a, out[i, hip])
                low = [ankle, *feet]
                out[i, low] = _rotate(out[i, low], lat, -bend, out[i, knee])
        for side, (sh, arm) in enumerate(ARMS):
            ph = 2 * np.pi * t / period + (1 - side) * np.pi
            for i in range(len(t)):
                out[i, list(arm)] = _rotate(
                    out[i, list(arm)], lat, 0.6 * amp * np.sin(ph[i]), out[i, sh]
                )
        bob = 0.02 * np.abs(np.sin(2 * np.pi * t / period))
        out -= bob[:, None, None] * up
        move = (speed * t)[:, None] * fwd
    elif motion == "turning":  # a half or whole turn on the spot, a little bob per step
        total = np.deg2rad(rng.choice([180.0, 360.0])) * rng.choice([-1, 1])
        p = (1 - np.cos(np.pi * np.clip(t / seconds, 0, 1))) / 2
        for i in range(len(t)):
            out[i] = _rotate(out[i], up, total * p[i], hip0)
        out -= (0.015 * np.abs(np.sin(2 * np.pi * t / 0.8)))[:, None, None] * up
    else:  # sitting down over ~2 s, then sitting still
        dur = rng.uniform(1.5, 2.5)
        p = (1 - np.cos(np.pi * np.clip(t / dur, 0, 1))) / 2
        drop, back = rng.uniform(0.35, 0.45), rng.uniform(0.2, 0.3)
        lean = (
            np.deg2rad(rng.uniform(25, 40)) * np.sin(np.pi * np.clip(t / dur, 0, 1))
            + np.deg2rad(10) * p
        )
        for i in range(len(t)):
            shift = -drop * p[i] * up - back * p[i] * fwd
            new = out[i].copy()
            new[UPPER] = _rotate(out[i, UPPER] + shift, lat, lean[i], hip0 + shift)
            for hip, knee, ankle, _ in LEGS:
                l1 = np.linalg.norm(world0[knee] - world0[hip])
                l2 = np.linalg.norm(world0[ankle] - world0[knee])
                new[hip] = world0[hip] + shift
                new[knee] = _knee_ik(new[hip], world0[ankle], l1, l2, fwd)
            out[i] = new
    return out, move


def everyday_sequence(base: PoseSequence, frame: int, motion: str, seconds: float = 4.0, fps: float = 15.0,
                      seed: int = 0) -> PoseSequence:  # fmt: skip
    """`motion` played by the person of base's frame `frame` (should be standing), as a PoseSequence."""
    rng = np.random.default_rng(seed)
    img0, w0 = base.landmarks[frame].astype(np.float64), base.world[frame].astype(np.float64)
    aspect = float(base.meta.get("width") or 1) / float(base.meta.get("height") or 1)
    xy0 = img0[:, :2] * np.array([aspect, 1.0])  # image in frame heights
    cw, ci = w0[:, :2] - w0[:, :2].mean(0), xy0 - xy0.mean(0)
    scale = float((cw * ci).sum() / max((cw**2).sum(), 1e-9))  # frame heights per metre
    world, move = animate(w0[:, :3], motion, seconds, fps, rng)
    n = len(world)
    hip0 = (w0[L_HIP, :3] + w0[R_HIP, :3]) / 2
    anchor = (xy0[L_HIP] + xy0[R_HIP]) / 2
    yaw = (
        rng.uniform(-np.pi, np.pi) if motion == "walking" else 0.0
    )  # walk in any direction to the camera
    c, s = np.cos(yaw), np.sin(yaw)
    move = np.stack(
        [c * move[:, 0] + s * move[:, 2], move[:, 1], -s * move[:, 0] + c * move[:, 2]], -1
    )
    if (
        motion == "walking"
    ):  # turn the whole walk about the start point so it heads in that direction
        rel = world - hip0
        world = hip0 + np.stack(
            [c * rel[..., 0] + s * rel[..., 2], rel[..., 1], -s * rel[..., 0] + c * rel[..., 2]], -1
        )
    depth = 3.0  # metres to the camera; walking towards it makes the person larger
    zoom = depth / np.clip(depth + move[:, 2], 1.0, None)
    xy = anchor + zoom[:, None, None] * scale * (world[..., :2] - hip0[:2] + move[:, None, :2])
    xy += rng.normal(0, 0.002, xy.shape)  # the pose model's jitter
    img = np.zeros((n, NUM_JOINTS, 4), np.float32)
    img[..., 0], img[..., 1] = xy[..., 0] / aspect, xy[..., 1]
    img[..., 2] = zoom[:, None] * scale * (world[..., 2] - hip0[2])
    img[..., 3] = img0[:, 3]
    wout = np.zeros((n, NUM_JOINTS, 4), np.float32)
    wout[..., :3] = world - hip0  # MediaPipe's world origin is the mid-hip
    wout[..., 3] = w0[:, 3]
    t = np.arange(n) / fps
    meta = {**base.meta, "fps": fps, "frame_count": n, "duration": seconds, "motion": motion}
    return PoseSequence(img, wout, t.astype(np.float64), np.ones(n, bool), meta)


def standing_frame(seq: PoseSequence) -> int | None:
    """The detected frame whose pose is most upright (hips above knees above ankles, legs straight), or None."""
    w = seq.world[..., :3]
    ok = seq.detected & np.isfinite(w).all((1, 2))
    if not ok.any():
        return None
    sh_y, hip_y = (w[:, L_SH, 1] + w[:, R_SH, 1]) / 2, (w[:, L_HIP, 1] + w[:, R_HIP, 1]) / 2
    ank_y = (w[:, 27, 1] + w[:, 28, 1]) / 2
    height = ank_y - sh_y  # y down: standing people are tall
    score = np.where(ok & (hip_y > sh_y) & (ank_y > hip_y), height, -np.inf)
    best = int(np.argmax(score))
    return best if np.isfinite(score[best]) and height[best] > 0.9 else None
