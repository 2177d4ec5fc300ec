"""Features: pure numpy transforms from a clip's landmarks to fixed-size model input.

Stages (each a small function, pyskl-style):

1. ``prepare``  PoseSequence -> Track: missing frames linearly interpolated per
   joint (edges hold the nearest detection). A clip with no detection raises
   NoPersonError instead of being zero-filled.
2. ``windows``  Track -> raw windows (W, T, V, 8): image x/y/z/visibility and world
   x/y/z/visibility, each window ``window_seconds`` long resampled to T steps.
   Short clips become one window; long clips several, hop ``hop_seconds``.
3. ``augment``  (training folds only; augment.py) mirror with left/right joint
   swap, small rotation and scale, dropped frames, noise, other camera views.
   Speed change is done by ``windows`` with a jittered span.
4. ``to_features``  raw (N, T, V, 8) -> (N, T, V, C) from named streams:
   joint (centred at mid-hip, scaled by torso length), bone, motion (velocity),
   accel, world, vis, weighted (joint x visibility: trust a joint as much as the
   pose model does; never uses the label), angle, orient (body orientation vs
   the image vertical, broadcast to all joints, plus how much each joint moves),
   detect (frame detected or interpolated, window detection rate), gravity
   (torso direction in metric world coordinates, hip travel), facing (chest
   normal in world coordinates: face up vs face down), raw (the 8 channels as
   they are, for models that summarise windows themselves: models/trees.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from workout_classifier.learn.cycles import cycles, uncovered
from workout_classifier.pose.landmarks import (
    BONES,
    NUM_JOINTS,
    NoPersonError,
    PoseSequence,
)

L_SH, R_SH, L_EL, R_EL, L_WR, R_WR = 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KN, R_KN, L_AN, R_AN = 23, 24, 25, 26, 27, 28
# (a, vertex, b): the angle at `vertex` is stored on that joint's "angle" channel.
ANGLES = (
    (L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR), (L_EL, L_SH, L_HIP), (R_EL, R_SH, R_HIP),
    (L_SH, L_HIP, L_KN), (R_SH, R_HIP, R_KN), (L_HIP, L_KN, L_AN), (R_HIP, R_KN, R_AN),
)  # fmt: skip
PARENT = np.arange(NUM_JOINTS)
for _child, _parent in BONES:
    if PARENT[_child] == _child:
        PARENT[_child] = _parent
STREAM_CHANNELS = {
    "joint": 3, "bone": 3, "motion": 3, "accel": 3, "world": 3, "world_motion": 3,
    "vis": 1, "weighted": 3, "angle": 1, "orient": 3, "detect": 2, "gravity": 4, "facing": 3,
    "raw": 8,
}  # fmt: skip


@dataclass(frozen=True)
class FeatureConfig:
    window_seconds: float = 4.0
    hop_seconds: float = 2.0
    steps: int = 48  # T: time steps per window
    streams: tuple[str, ...] = ("joint", "motion", "weighted", "vis", "angle")
    # What one window holds: "time" (window_seconds, hop hop_seconds), "rep" (one repetition
    # found by cycles.py, time windows where the clip has no clear rhythm) or "both".
    unit: str = "time"

    @property
    def channels(self) -> int:
        return sum(STREAM_CHANNELS[s] for s in self.streams)

    def to_dict(self) -> dict:
        return {**asdict(self), "streams": list(self.streams)}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        d = dict(d)
        d["streams"] = tuple(d.get("streams", cls.streams))
        return cls(**d)


@dataclass
class Track:
    """A clip's landmarks with gaps filled. raw: (T0, V, 8) image xyzv + world xyz + detected.

    Channel 7 (world visibility, a copy of channel 3) is replaced by 1.0 on frames
    where the pose model found the person and 0.0 on interpolated ones.
    """

    raw: np.ndarray
    times: np.ndarray  # (T0,)
    detected: np.ndarray  # (T0,) bool
    aspect: float  # width / height of the video, to make image x and y the same unit

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) if len(self.times) > 1 else 0.0

    @property
    def detection_rate(self) -> float:
        return float(self.detected.mean())


def interpolate_missing(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill rows where `valid` is False by linear interpolation over time. x: (T, ...)."""
    if valid.all():
        return x.copy()
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1)
    out = np.empty_like(flat)
    for j in range(flat.shape[1]):
        out[:, j] = np.interp(t, t[valid], flat[valid, j])
    return out.reshape(x.shape)


def prepare(seq: PoseSequence) -> Track:
    if not seq.detected.any():
        raise NoPersonError("no person visible in the video")
    raw = np.concatenate([seq.landmarks, seq.world], axis=-1)  # (T0, V, 8)
    raw = interpolate_missing(raw, seq.detected).astype(np.float32)
    raw[..., 7] = seq.detected[:, None]  # which frames are real detections (the "detect" stream)
    w, h = seq.meta.get("width") or 1, seq.meta.get("height") or 1
    return Track(
        raw=raw, times=seq.times.copy(), detected=seq.detected.copy(), aspect=float(w) / float(h)
    )


def _resample(raw: np.ndarray, times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Linear resampling of (T0, V, C) onto time points `grid` -> (len(grid), V, C)."""
    if len(times) == 1:
        return np.repeat(raw, len(grid), axis=0)
    idx = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 2)
    t0, t1 = times[idx], times[idx + 1]
    w = np.clip((grid - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)[:, None, None]
    return (1 - w) * raw[idx] + w * raw[idx + 1]


def window_starts(duration: float, cfg: FeatureConfig) -> list[float]:
    if duration <= cfg.window_seconds:
        return [0.0]
    n = int(np.ceil((duration - cfg.window_seconds) / cfg.hop_seconds)) + 1
    last = duration - cfg.window_seconds
    return [min(i * cfg.hop_seconds, last) for i in range(n)]


def windows(
    track: Track,
    cfg: FeatureConfig,
    rng: np.random.Generator | None = None,
    max_windows: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a track into windows resampled to cfg.steps. Returns (raw (W, T, V, 8), starts (W,)).

    With `rng` (training), each window gets a random start and a span jittered by
    +-20% (a speed change), and at most `max_windows` are drawn.
    """
    t0, dur = float(track.times[0]), track.duration
    span = min(cfg.window_seconds, dur) if dur > 0 else 0.0
    reps = np.zeros((0, 2))
    if rng is None and cfg.unit != "time":
        reps = cycles(track.raw, track.times, track.aspect) - t0  # (R, 2) seconds from the start
    if rng is None:
        starts = np.asarray(window_starts(dur, cfg))
        spans = np.full(len(starts), span)
        if len(reps) and cfg.unit == "rep":  # the reps, and time windows where no rep was found
            gap = uncovered(starts, spans, reps)
            starts = np.concatenate([reps[:, 0], starts[gap]])
            spans = np.concatenate([reps[:, 1] - reps[:, 0], spans[gap]])
            order = np.argsort(starts, kind="stable")
            starts, spans = starts[order], spans[order]
        elif len(reps):  # both
            starts = np.concatenate([starts, reps[:, 0]])
            spans = np.concatenate([spans, reps[:, 1] - reps[:, 0]])
    else:
        n = max(1, len(window_starts(dur, cfg)))
        n = min(n, max_windows) if max_windows else n
        spans = np.minimum(span * rng.uniform(0.8, 1.2, n), dur) if dur > 0 else np.zeros(n)
        starts = rng.uniform(0, 1, n) * np.maximum(dur - spans, 0)
    out = np.empty((len(starts), cfg.steps, NUM_JOINTS, 8), dtype=np.float32)
    frac = np.linspace(0.0, 1.0, cfg.steps)
    for i, (s, sp) in enumerate(zip(starts, spans, strict=False)):
        out[i] = _resample(track.raw, track.times, t0 + s + frac * sp)
    # Image x is stored in units of width; rescale so x and y share the height unit.
    out[..., 0] *= track.aspect
    return out, starts


# ---- features ----------------------------------------------------------------------
def angle_cos(p: np.ndarray, a: int, v: int, b: int) -> np.ndarray:
    """Cosine of the angle at joint v between joints a and b; p: (..., V, C)."""
    u, w = p[..., a, :] - p[..., v, :], p[..., b, :] - p[..., v, :]
    cos = (u * w).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1) + 1e-6)
    return np.clip(cos, -1.0, 1.0)


def normalize_joints(xyz: np.ndarray) -> np.ndarray:
    """Centre (N, T, V, 3) poses at mid-hip and scale by the median torso length per window."""
    hip = (xyz[..., L_HIP, :] + xyz[..., R_HIP, :]) / 2
    sh = (xyz[..., L_SH, :] + xyz[..., R_SH, :]) / 2
    torso = np.linalg.norm((sh - hip)[..., :2], axis=-1)  # (N, T)
    scale = np.median(torso, axis=-1)[..., None, None, None]  # (N, 1, 1, 1)
    return (xyz - hip[..., None, :]) / np.maximum(scale, 1e-3)


def to_features(raw: np.ndarray, streams: tuple[str, ...]) -> np.ndarray:
    """raw (N, T, V, 8) -> features (N, T, V, C), channels in the order of `streams`."""
    joint = normalize_joints(raw[..., 0:3])
    world = raw[..., 4:7]
    vis = raw[..., 3:4]
    parts = []
    for name in streams:
        if name == "joint":
            parts.append(joint)
        elif name == "bone":
            parts.append(joint - joint[..., PARENT, :])
        elif name == "motion":
            parts.append(np.diff(joint, axis=1, prepend=joint[:, :1]))
        elif name == "accel":
            vel = np.diff(joint, axis=1, prepend=joint[:, :1])
            parts.append(np.diff(vel, axis=1, prepend=vel[:, :1]))
        elif name == "world":
            parts.append(world / 0.5)  # metres; 0.5 m is about a torso
        elif name == "world_motion":
            parts.append(np.diff(world, axis=1, prepend=world[:, :1]) / 0.05)
        elif name == "vis":
            parts.append(vis)
        elif name == "raw":  # as windows() made it, for models that summarise it themselves (trees)
            parts.append(raw)
        elif name == "weighted":
            parts.append(joint * vis)
        elif name == "angle":
            ang = np.zeros(joint.shape[:-1] + (1,), dtype=np.float32)
            for a, v, b in ANGLES:
                ang[..., v, 0] = angle_cos(joint, a, v, b)
            parts.append(ang)
        elif name == "orient":
            # Torso direction in the image: lying on a bench vs standing vs hanging.
            hip = (raw[..., L_HIP, 0:2] + raw[..., R_HIP, 0:2]) / 2
            sh = (raw[..., L_SH, 0:2] + raw[..., R_SH, 0:2]) / 2
            d = sh - hip
            d = d / (np.linalg.norm(d, axis=-1, keepdims=True) + 1e-6)
            d = np.broadcast_to(d[..., None, :], joint.shape[:-1] + (2,))  # (N, T, V, 2)
            # How much each joint moves over the window: which joints carry the exercise.
            spread = np.ptp(joint[..., 0:2], axis=1).mean(-1)[:, None, :, None]  # (N, 1, V, 1)
            parts.append(np.concatenate([d, np.broadcast_to(spread, joint.shape[:-1] + (1,))], -1))
        elif name == "detect":
            # Frame detected (1) or interpolated (0), and the window's detection rate.
            det = raw[..., 7:8]
            parts.append(
                np.concatenate([det, np.broadcast_to(det.mean(1, keepdims=True), det.shape)], -1)
            )
        elif name == "gravity":
            # Torso direction in metric world coordinates (lying vs standing vs hanging, in 3D),
            # and how far the hips travel vertically relative to the torso over the window.
            hip = (raw[..., L_HIP, 4:7] + raw[..., R_HIP, 4:7]) / 2
            sh = (raw[..., L_SH, 4:7] + raw[..., R_SH, 4:7]) / 2
            d = sh - hip
            d = d / (np.linalg.norm(d, axis=-1, keepdims=True) + 1e-6)  # (N, T, 3)
            hy = (raw[..., L_HIP, 0:2] + raw[..., R_HIP, 0:2]) / 2  # image mid-hip (N, T, 2)
            torso = np.linalg.norm((raw[..., L_SH, 0:2] + raw[..., R_SH, 0:2]) / 2 - hy, axis=-1)
            bob = (np.ptp(hy[..., 1], axis=1) / np.maximum(np.median(torso, axis=1), 1e-3))[
                :, None, None
            ]
            g = np.concatenate([d, np.broadcast_to(bob, d.shape[:-1] + (1,))], -1)
            parts.append(np.broadcast_to(g[..., None, :], joint.shape[:-1] + (4,)))
        elif name == "facing":
            # Chest normal in world coordinates: face up (bench press) vs face down (push up).
            w = raw[..., 4:7]
            across = w[..., L_SH, :] - w[..., R_SH, :]
            up = (w[..., L_SH, :] + w[..., R_SH, :] - w[..., L_HIP, :] - w[..., R_HIP, :]) / 2
            nrm = np.cross(across, up)
            nrm = nrm / (np.linalg.norm(nrm, axis=-1, keepdims=True) + 1e-6)  # (N, T, 3)
            parts.append(np.broadcast_to(nrm[..., None, :], joint.shape[:-1] + (3,)))
        else:
            raise ValueError(f"unknown feature stream {name!r}; known: {sorted(STREAM_CHANNELS)}")
    return np.nan_to_num(
        np.concatenate(parts, axis=-1).astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0
    )


def clip_features(seq: PoseSequence, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """Inference path: all windows of one clip -> (features (W, T, V, C), window starts (W,) in s)."""
    track = prepare(seq)
    raw, starts = windows(track, cfg)
    return to_features(raw, cfg.streams), starts + float(track.times[0])


def eval_windows(tracks: list[Track], cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """All deterministic windows of some clips: (raw (W, T, V, 8), owner clip index (W,))."""
    raws, owner = [], []
    for i, tr in enumerate(tracks):
        r, _ = windows(tr, cfg)
        raws.append(r)
        owner.extend([i] * len(r))
    return np.concatenate(raws), np.asarray(owner)


def clip_probs(win_probs: np.ndarray, owner: np.ndarray, n_clips: int) -> np.ndarray:
    """Average window probabilities per clip."""
    out = np.zeros((n_clips, win_probs.shape[1]))
    np.add.at(out, owner, win_probs)
    return out / np.maximum(np.bincount(owner, minlength=n_clips), 1)[:, None]
