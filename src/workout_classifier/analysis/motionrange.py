"""Range of motion of the joint that defines each exercise, and the check that a clip moves it enough.

Each exercise bends one joint through a range it cannot do without: the knee in a squat or a lunge,
the elbow in a push-up, a bench press or a pull-up, the hip in a deadlift, the shoulder in a lateral
raise, a chest fly or a jumping jack (issue 27's list); a plank is a hold and keeps its elbows still. The range is
measured on the metric world landmarks (the camera does not change an angle): the 5th to 95th
percentile of the angle over the frames where the person was found, on the side that moves more.

`workout train` stores, per exercise, a limit (`fit_limits`): a floor, half the 5th percentile of its
training clips' ranges; for a hold (plank), a ceiling on the joint it keeps still (the elbow), three
times its clips' median range. `predict` answers `unknown` when the answered exercise's joint breaks
its limit (`range_check`). The model reads a still body in a squat's or a push-up's position as that
exercise, and an exercise it never learned often lands on a neighbour whose movement it does not have:
a plank read as a push-up with straight arms, a push-up read as a plank with bending ones.
Measured in a throwaway harness of bench/unknown.py's folds (trees, seed 0; 2026-12-06), limits fitted
on each fold's training clips and the probability threshold lowered so that all together still reject
3% of out-of-fold known clips: exercises left out of training answered `unknown` 30% -> 42% with the
floors (plank 0 -> 86%, chest fly 0 -> 60%) and 52% with the plank's ceiling too (push up 0 -> 94%);
known clips of a held-out source 11.5% -> 12.2% -> 12.3%. 0.4 or 0.6 of the 5th percentile, or half
the 10th, moved these by a few points either way; 0.7 of the 10th rejected 3% of the known clips on
its own (docs/unknown.md).

Pure numpy on (T, 33, 3) world landmarks.
"""

from __future__ import annotations

import numpy as np

from workout_classifier.learn.features import ANGLES, angle_cos

# The joint whose angle defines each exercise (None: a hold, no range needed).
DEFINING = {
    "squat": "knee", "lunges": "knee", "push up": "elbow", "bench press": "elbow", "pull up": "elbow",
    "deadlift": "hip", "lateral raise": "shoulder", "chest fly machine": "shoulder",
    "jumping jack": "shoulder", "tricep dips": "elbow", "barbell biceps curl": "elbow",
    "hammer curl": "elbow", "shoulder press": "elbow", "plank": None, "russian twist": None,
}  # fmt: skip
# A hold keeps a joint still: a plank's elbows (a push-up bends them; without this a push-up left out of
# training was read as a plank 169 times in 180, throwaway harness of 2026-12-06).
HOLDS_STILL = {"plank": "elbow"}
CEILING_TIMES = 3.0  # a hold's joint moving more than 3x its training clips' median range
# features.ANGLES lists (left, right) pairs in this order: elbow, shoulder, hip, knee.
JOINTS = ("elbow", "shoulder", "hip", "knee")
FLOOR_SHARE = 0.5  # of the low percentile below
FLOOR_PERCENTILE = 5.0  # of the exercise's training clips' ranges
MIN_FRAMES = 5


def joint_angles(world: np.ndarray) -> np.ndarray:
    """(T, 8) degrees of the world landmarks' joint angles, (left, right) pairs in JOINTS order."""
    w = np.asarray(world, dtype=np.float64)[None, :, :, :3]  # (1, T, V, 3)
    cos = np.stack([angle_cos(w, a, v, b) for a, v, b in ANGLES], -1)[0]  # (T, 8)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def span(deg: np.ndarray, joint: str, lo: float = 5.0, hi: float = 95.0) -> float:
    """Degrees `joint` moves through in (T, 8) angles `deg`: percentile `lo` to `hi`, the side that
    moves more (0 for fewer than 2 frames)."""
    k = 2 * JOINTS.index(joint)
    pair = deg[:, k : k + 2]
    pair = pair[np.isfinite(pair).all(1)]
    if len(pair) < 2:
        return 0.0
    return float((np.percentile(pair, hi, axis=0) - np.percentile(pair, lo, axis=0)).max())


def joint_ranges(world: np.ndarray, detected: np.ndarray | None = None) -> dict[str, float]:
    """Degrees each joint bends through over a clip: {joint: p95 - p5}, the side that moves more.

    world (T, 33, >=3) metric world landmarks; detected (T,) bool, the frames where the person was
    found (all frames when fewer than MIN_FRAMES were)."""
    deg = joint_angles(world)
    if detected is not None and np.sum(detected) >= MIN_FRAMES:
        deg = deg[np.asarray(detected, bool)]
    return {j: span(deg, j) for j in JOINTS}


def fit_limits(ranges: list[dict[str, float]], labels: list[str]) -> dict[str, dict]:
    """Per exercise, the limit its clips' ranges set (`ranges[i]` from `joint_ranges` of the clip
    labelled `labels[i]`): {"joint", "min"} for a moving exercise, FLOOR_SHARE of the
    FLOOR_PERCENTILE-th percentile of its clips' ranges of its defining joint; {"joint", "max"} for a
    hold, CEILING_TIMES the median range of the joint it keeps still."""
    limits = {}
    for name in sorted(set(labels)):
        joint = DEFINING.get(name) or HOLDS_STILL.get(name)
        if joint is None:
            continue
        own = [r[joint] for r, lab in zip(ranges, labels, strict=True) if lab == name]
        if name in HOLDS_STILL:
            limits[name] = {"joint": joint, "max": round(CEILING_TIMES * float(np.median(own)), 2)}
        else:
            limits[name] = {
                "joint": joint,
                "min": round(FLOOR_SHARE * float(np.percentile(own, FLOOR_PERCENTILE)), 2),
            }
    return limits


def range_check(
    label: str, ranges: dict[str, float], limits: dict[str, dict] | None
) -> dict | None:
    """`label`'s joint and how far it moved ({"joint", "degrees"}, with the limit when `limits` has one
    and "out": True when the range breaks it); None for an exercise with no joint to check."""
    joint = DEFINING.get(label) or HOLDS_STILL.get(label)
    if joint is None:
        return None
    out = {"joint": joint, "degrees": round(ranges[joint], 1), "out": False}
    lim = (limits or {}).get(label)
    if lim:
        if "min" in lim:
            out.update(min=lim["min"], out=ranges[joint] < lim["min"])
        else:
            out.update(max=lim["max"], out=ranges[joint] > lim["max"])
    return out


def track_ranges(tracks) -> list[dict[str, float]]:
    """`joint_ranges` of each clip's features.Track (world landmarks in raw[..., 4:7])."""
    return [joint_ranges(t.raw[..., 4:7], t.detected) for t in tracks]


def answers_out_of_range(probs: np.ndarray, ranges, classes, limits) -> np.ndarray:
    """(N,) True where clip i's answered exercise (argmax of probs (N, K)) breaks its range limit."""
    return np.array([(range_check(classes[int(np.argmax(p))], r, limits) or {}).get("out", False)
                     for p, r in zip(probs, ranges, strict=True)], bool)  # fmt: skip
