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


# World-landmark key poses (metres, hip-centred, y down, z away from the camera) for every exercise the
# shipped model knows: (rest pose, turning-point pose); a rep goes rest -> turning point -> rest. Joints are
# given for the left side as (x, y, z); the right side mirrors x unless a pose names both ("L"/"R" keys).
_STAND = {"sh": (0.18, -0.5, 0), "el": (0.2, -0.22, 0), "wr": (0.2, 0.05, 0), "hip": (0.1, 0, 0),
          "kn": (0.1, 0.45, 0), "an": (0.1, 0.9, 0), "head": (0, -0.72, 0)}  # fmt: skip
_PLANK = {"sh": (0.18, 0, -0.5), "el": (0.2, 0.28, -0.5), "wr": (0.2, 0.55, -0.5), "hip": (0.1, 0, 0),
          "kn": (0.1, 0, 0.45), "an": (0.1, 0, 0.9), "head": (0, -0.05, -0.72)}  # fmt: skip
_SEATED = {**_STAND, "kn": (0.1, 0, -0.45), "an": (0.1, 0.45, -0.45)}
_ON_BACK = {**_PLANK, "kn": (0.1, -0.25, 0.35), "an": (0.1, 0.2, 0.6), "el": (0.2, -0.28, -0.5),
            "wr": (0.2, -0.56, -0.5)}  # fmt: skip
KEY_POSES = {
    "squat": (_STAND, {**_STAND, "sh": (0.18, -0.42, -0.2), "kn": (0.15, 0.05, -0.42),
                       "an": (0.12, 0.45, -0.15), "head": (0, -0.62, -0.3)}),
    "lunges": (_STAND, {**_STAND, "L": {"kn": (0.1, 0.05, -0.45), "an": (0.1, 0.45, -0.45)},
                        "R": {"kn": (-0.1, 0.4, 0.35), "an": (-0.1, 0.45, 0.7)}}),
    "push up": (_PLANK, {**_PLANK, "sh": (0.18, 0.2, -0.48), "el": (0.36, 0.32, -0.47), "wr": (0.22, 0.35, -0.45),
                         "kn": (0.1, -0.05, 0.45), "an": (0.1, -0.1, 0.9), "head": (0, 0.15, -0.7)}),
    "bench press": (_ON_BACK, {**_ON_BACK, "el": (0.4, 0.05, -0.45), "wr": (0.25, -0.2, -0.5)}),
    "pull up": ({**_STAND, "el": (0.28, -0.78, 0), "wr": (0.3, -1.05, 0)},
                {**_STAND, "el": (0.38, -0.35, 0.05), "wr": (0.3, -0.62, 0)}),
    "deadlift": ({**_STAND, "sh": (0.18, -0.25, -0.42), "el": (0.2, 0.0, -0.45), "wr": (0.2, 0.25, -0.45),
                  "kn": (0.12, 0.35, -0.25), "an": (0.1, 0.75, 0), "head": (0, -0.35, -0.62)}, _STAND),
    "lateral raise": (_STAND, {**_STAND, "el": (0.45, -0.48, 0), "wr": (0.72, -0.5, 0)}),
    "chest fly machine": ({**_SEATED, "el": (0.45, -0.45, -0.05), "wr": (0.7, -0.45, -0.15)},
                          {**_SEATED, "el": (0.3, -0.45, -0.35), "wr": (0.07, -0.45, -0.55)}),
    "jumping jack": (_STAND, {**_STAND, "el": (0.4, -0.75, 0), "wr": (0.35, -1.05, 0), "kn": (0.22, 0.43, 0),
                              "an": (0.35, 0.85, 0)}),
    "plank": (_PLANK, _PLANK),  # a hold: the pose does not change
}  # fmt: skip
# BlazePose indices of each named joint (left, right), and the joints that follow them (face, hands, feet).
_JOINT = {
    "sh": (11, 12),
    "el": (13, 14),
    "wr": (15, 16),
    "hip": (23, 24),
    "kn": (25, 26),
    "an": (27, 28),
}
_FOLLOW = {**{i: ("head", 0) for i in range(11)}, 17: ("wr", 0), 19: ("wr", 0), 21: ("wr", 0), 18: ("wr", 1),
           20: ("wr", 1), 22: ("wr", 1), 29: ("an", 0), 31: ("an", 0), 30: ("an", 1), 32: ("an", 1)}  # fmt: skip


def _world_pose(pose: dict) -> np.ndarray:
    """(33, 3) world landmarks of one key pose."""
    out = np.zeros((NUM_JOINTS, 3))
    for name, (li, ri) in _JOINT.items():
        left = np.array(pose.get("L", {}).get(name, pose[name]), float)
        right = np.array(pose.get("R", {}).get(name, left * [-1, 1, 1]), float)
        out[li], out[ri] = left, right
    for i, (name, side) in _FOLLOW.items():
        out[i] = out[_JOINT[name][side]] if name != "head" else np.array(pose["head"], float)
    return out


def exercise_sequence(exercise: str, reps: int = 4, period: float = 2.0, fps: float = 10.0, seed: int = 0,
                      start: float = 0.0, end: float | None = None, depth: float = 1.0,
                      drift: float = 0.0) -> PoseSequence:  # fmt: skip
    """`reps` reps of `exercise` (a shipped model label) as world and image landmarks, one every `period` s.

    Each rep starts and ends at rest and reaches its turning point half way (deadlift: lockout). `start` and
    `end` (s, default the end of the last rep) cut the clip, e.g. mid-rep. A hold (plank) keeps its pose.
    `depth`: the share of the way to the turning pose each rep goes (shallow reps < 1); `drift`: a slow
    movement toward the turning pose, this share of the way at the middle of the clip, back at its end.
    """
    rng = np.random.default_rng(seed)
    rest, turn = (_world_pose(p) for p in KEY_POSES[exercise])
    end = reps * period if end is None else end
    t = np.arange(int(round(start * fps)), int(round(end * fps)) + 1) / fps
    p = depth * (1 - np.cos(2 * np.pi * t / period)) / 2
    p = (p + drift * (1 - np.cos(2 * np.pi * (t - t[0]) / max(t[-1] - t[0], 1e-9))) / 2)[
        :, None, None
    ]
    world = rest[None] * (1 - p) + turn[None] * p + rng.normal(0, 0.005, (len(t), NUM_JOINTS, 3))
    vis = np.full((len(t), NUM_JOINTS, 1), 0.9)
    img = np.concatenate([world[..., :2] * 0.3 + 0.5, world[..., 2:] * 0.3, vis], -1)
    meta = {"fps": fps, "width": 640, "height": 480, "frame_count": len(t), "duration": float(t[-1] - t[0]),
            "period": period}  # fmt: skip
    return PoseSequence(img.astype(np.float32), np.concatenate([world, vis], -1).astype(np.float32),
                        t - t[0], np.ones(len(t), bool), meta)  # fmt: skip
