"""Synthetic landmark sequences for tests: a stick figure doing one of three moves.

Not a video: these arrays follow the pose contract directly, so model, feature
and training tests run in seconds without MediaPipe.
"""

from __future__ import annotations

import numpy as np

from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence

# A standing figure in image-normalized coordinates (x right, y down).
_BASE = {
    0: (0.50, 0.20), 1: (0.49, 0.19), 2: (0.48, 0.19), 3: (0.47, 0.19), 4: (0.51, 0.19),
    5: (0.52, 0.19), 6: (0.53, 0.19), 7: (0.46, 0.20), 8: (0.54, 0.20), 9: (0.49, 0.22),
    10: (0.51, 0.22), 11: (0.44, 0.30), 12: (0.56, 0.30), 13: (0.42, 0.40), 14: (0.58, 0.40),
    15: (0.41, 0.50), 16: (0.59, 0.50), 17: (0.41, 0.52), 18: (0.59, 0.52), 19: (0.41, 0.52),
    20: (0.59, 0.52), 21: (0.42, 0.51), 22: (0.58, 0.51), 23: (0.46, 0.52), 24: (0.54, 0.52),
    25: (0.46, 0.66), 26: (0.54, 0.66), 27: (0.46, 0.80), 28: (0.54, 0.80), 29: (0.46, 0.82),
    30: (0.54, 0.82), 31: (0.47, 0.83), 32: (0.53, 0.83),
}  # fmt: skip
MOVES = ("squat", "curl", "jack")


def synthetic_sequence(move: str, seconds: float = 4.0, fps: float = 15.0, seed: int = 0,
                       missing: float = 0.0, width: int = 640, height: int = 480) -> PoseSequence:  # fmt: skip
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * fps))) / fps
    period = rng.uniform(1.5, 2.5)
    phase = (1 - np.cos(2 * np.pi * t / period + rng.uniform(0, 1))) / 2  # 0..1, one rep per period
    base = np.array([_BASE[i] for i in range(NUM_JOINTS)], dtype=np.float32)
    xy = np.repeat(base[None], len(t), axis=0)  # (T, V, 2)
    p = phase[:, None]
    if move == "squat":
        upper = [*range(0, 25)]
        xy[:, upper, 1] += 0.15 * p
        xy[:, [25, 26], 1] += 0.05 * p
        xy[:, [25], 0] -= 0.06 * p
        xy[:, [26], 0] += 0.06 * p
    elif move == "curl":
        xy[:, [15, 17, 19, 21], 1] -= 0.18 * p
        xy[:, [16, 18, 20, 22], 1] -= 0.18 * p
        xy[:, [15, 17, 19, 21, 16, 18, 20, 22], 0] += np.where(np.arange(8) < 4, 0.01, -0.01) * p
    elif move == "jack":
        xy[:, [13, 15, 17, 19, 21], 0] -= 0.15 * p
        xy[:, [14, 16, 18, 20, 22], 0] += 0.15 * p
        xy[:, [15, 17, 19, 21, 16, 18, 20, 22], 1] -= 0.35 * p
        xy[:, [27, 29, 31], 0] -= 0.08 * p
        xy[:, [28, 30, 32], 0] += 0.08 * p
    else:
        raise ValueError(move)
    scale, shift = rng.uniform(0.7, 1.2), rng.uniform(-0.1, 0.1, 2)
    xy = (xy - 0.5) * scale + 0.5 + shift
    xy += rng.normal(0, 0.003, xy.shape)
    z = rng.normal(0, 0.01, xy.shape[:2] + (1,))
    vis = rng.uniform(0.6, 1.0, xy.shape[:2] + (1,))
    img = np.concatenate([xy, z, vis], -1).astype(np.float32)
    hip = (xy[:, 23] + xy[:, 24]) / 2
    world_xy = (xy - hip[:, None]) / scale * 1.6
    world = np.concatenate([world_xy, z, vis], -1).astype(np.float32)
    detected = rng.random(len(t)) >= missing
    detected[len(t) // 2] = True
    img[~detected] = np.nan
    world[~detected] = np.nan
    meta = {
        "fps": fps,
        "width": width,
        "height": height,
        "frame_count": len(t),
        "duration": seconds,
        "period": period,
    }  # the true seconds per rep, for rep-counting tests
    return PoseSequence(img, world, t.astype(np.float64), detected, meta)


def synthetic_tracks(n_per_class: int = 8, seed: int = 0, seconds: float = 4.0):
    """(tracks, y, groups, classes) for training tests; two clips per group."""
    from workout_classifier.learn.features import prepare

    tracks, y, groups = [], [], []
    for k, move in enumerate(MOVES):
        for i in range(n_per_class):
            s = seed * 1000 + k * 100 + i
            tracks.append(prepare(synthetic_sequence(move, seconds=seconds, seed=s, missing=0.1)))
            y.append(k)
            groups.append(f"{move}/g{i // 2}")
    return tracks, np.asarray(y), np.asarray(groups), list(MOVES)
