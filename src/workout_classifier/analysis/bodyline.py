"""Push-up body line in the body's own frame: measures that do not depend on where the camera stands.

MediaPipe's world landmarks are metric and hip-centred but their axes follow the camera (y is the
image's down, z its depth), so "below the line" in world y is only the floor's direction for a level
side view. Here the landmarks are turned into a frame the body defines, once per clip: the long axis
(ankles to shoulders), the shoulder axis (left to right, made orthogonal to it) and their normal, signed
so that the hands lie on its positive side: that normal points to the floor. Every measure below reads
only angles, lengths and offsets along that normal, so it is the same whichever way the world
landmarks are rotated (a front, an angled or a side view of the same pose).

Per frame (``frame_lines``): the shoulder-hip-ankle and shoulder-hip-knee bends (degrees, + when the
hips drop toward the floor, a sag; - when they pike up), the hip's offset from the shoulder-ankle line
in body lengths (+ toward the floor), the elbow and knee angles, the head's offset from the
hip-shoulder line (+ hanging toward the floor) and the shoulders' height above the hands in arm
lengths. Per clip (``bodyline_features``): these at the top and the bottom of each rep (the rep
counter's turning points and rep ends), median over the reps, and low and high percentiles over the
frames of the reps.
"""

from __future__ import annotations

import numpy as np

from workout_classifier.analysis.form import _angle
from workout_classifier.learn.features import interpolate_missing
from workout_classifier.pose.landmarks import NoPersonError, PoseSequence

# (left, right) BlazePose joints.
_JOINTS = {"sh": (11, 12), "el": (13, 14), "wr": (15, 16), "hip": (23, 24), "kn": (25, 26),
           "an": (27, 28), "ear": (7, 8)}  # fmt: skip
LINE_MEASURES = ("line_bend", "knee_line_bend", "hip_offset", "elbow", "knee_bend", "head_offset",
                 "chest_height")  # fmt: skip


def body_frame(world: np.ndarray) -> np.ndarray:
    """(3, 3) rotation whose rows are the body's long axis, shoulder axis and floor normal.

    world: (T, 33, >=3) without NaN. Directions are medians over the clip, so one bad frame
    does not turn the frame; the floor normal points from the body toward the hands.
    """
    w = np.asarray(world, np.float64)[..., :3]
    mid = {k: w[:, list(v)].mean(1) for k, v in _JOINTS.items()}

    def unit(v: np.ndarray) -> np.ndarray:
        return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-9)

    long = unit(np.median(unit(mid["sh"] - mid["an"]), 0))
    across = np.median(unit(w[:, _JOINTS["sh"][1]] - w[:, _JOINTS["sh"][0]]), 0)
    across = unit(across - (across @ long) * long)
    normal = np.cross(long, across)
    hands = np.median(mid["wr"] - (mid["sh"] + mid["hip"]) / 2, 0)
    if hands @ normal < 0:
        normal, across = -normal, -across  # keep a right-handed frame
    return np.stack([long, across, normal])


def _offset(p: np.ndarray, a: np.ndarray, b: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Offset of p from the line a-b, along `normal` (+ toward the floor)."""
    ab = b - a
    t = ((p - a) * ab).sum(-1, keepdims=True) / ((ab * ab).sum(-1, keepdims=True) + 1e-9)
    return ((p - a - t * ab) * normal).sum(-1)


def frame_lines(world: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame measures of ``LINE_MEASURES`` from world landmarks (T, 33, >=3) without NaN."""
    w = np.asarray(world, np.float64)[..., :3]
    normal = body_frame(w)[2]
    sh, el, wr, hip, kn, an, ear = (w[:, list(v)].mean(1) for v in _JOINTS.values())
    body = float(np.median(np.linalg.norm(sh - an, axis=-1))) + 1e-6
    torso = float(np.median(np.linalg.norm(sh - hip, axis=-1))) + 1e-6
    arm = (
        float(np.median(np.linalg.norm(sh - el, axis=-1) + np.linalg.norm(el - wr, axis=-1))) + 1e-6
    )
    hip_off = _offset(hip, sh, an, normal)
    knee_off = _offset(hip, sh, kn, normal)
    return {
        "line_bend": (180 - _angle(sh, hip, an)) * np.sign(hip_off),
        "knee_line_bend": (180 - _angle(sh, hip, kn)) * np.sign(knee_off),
        "hip_offset": hip_off / body,
        "elbow": _angle(sh, el, wr),
        "knee_bend": 180 - _angle(hip, kn, an),
        "head_offset": _offset(ear, hip, sh, normal) / torso,
        "chest_height": ((wr - sh) @ normal) / arm,
    }


def rep_frames(seq: PoseSequence) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of the rep bottoms (turning points) and tops (rep starts and ends) of a push-up clip.

    From the rep counter; a clip with no counted rep gets its deepest and highest elbow frame.
    """
    from workout_classifier.analysis.repdetail import rep_details
    from workout_classifier.analysis.reps import count_reps

    t = np.asarray(seq.times, np.float64)
    reps = rep_details(count_reps(seq, "push up"))
    at = lambda s: int(np.argmin(np.abs(t - s)))  # noqa: E731
    bottoms = np.array([at(r["turn"]) for r in reps], int)
    tops = np.array(sorted({at(r[k]) for r in reps for k in ("start", "end")}), int)
    return bottoms, tops


def bodyline_features(seq: PoseSequence, image: bool = False) -> dict[str, float]:
    """Per-clip body-frame measures: each of ``LINE_MEASURES`` at the rep bottoms and tops (median over
    reps) and its 10th / 90th percentile over the frames of the reps. Raises NoPersonError when nobody is visible."""
    det = np.asarray(seq.detected, bool)
    if det.sum() < 2:
        raise NoPersonError("no person visible in the video")
    from scipy.ndimage import gaussian_filter1d

    if image:
        # The image landmarks with MediaPipe's relative depth, in pixels: exact across the picture, rough in depth.
        size = np.array([float(seq.meta.get("width") or 1), float(seq.meta.get("height") or 1)])
        w = seq.landmarks[..., :3].astype(np.float64) * np.array([size[0], size[1], size[0]])
        w = interpolate_missing(w, det)
    else:
        w = interpolate_missing(seq.world[..., :3].astype(np.float64), det)
    m = {k: gaussian_filter1d(v, 1.0, mode="nearest") for k, v in frame_lines(w).items()}
    bottoms, tops = rep_frames(seq)
    if not len(bottoms):
        bottoms, tops = (
            np.array([int(np.argmin(m["elbow"]))]),
            np.array([int(np.argmax(m["elbow"]))]),
        )
    span = slice(min(tops.min(), bottoms.min()), max(tops.max(), bottoms.max()) + 1)
    out = {}
    for k, v in m.items():
        out[f"{k}_bottom"] = float(np.median(v[bottoms]))
        out[f"{k}_top"] = float(np.median(v[tops]))
        out[f"{k}_p10"] = float(np.percentile(v[span], 10))
        out[f"{k}_p90"] = float(np.percentile(v[span], 90))
    return out


BODYLINE_FEATURES = tuple(
    f"{k}_{s}" for k in LINE_MEASURES for s in ("bottom", "top", "p10", "p90")
)
