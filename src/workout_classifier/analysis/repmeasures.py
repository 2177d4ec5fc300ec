"""Body measures for repetition counting: camera-independent joint angles and distances per frame,
the working-pose test of an exercise (pull-up), the plank test and hold timing, and the form measures at a rep's turning point (depth, hip line).

Pure numpy on world landmarks (T, 33, >=3), metres, hip-centred, y down. Used by ``reps`` (counting)
and ``repdetail`` (per-rep details); imports nothing from either.
"""

from __future__ import annotations

import numpy as np

# (left, right) joint indices of the BlazePose skeleton.
_SH, _EL, _WR, _HIP, _KN, _AN = (11, 12), (13, 14), (15, 16), (23, 24), (25, 26), (27, 28)
MEASURES = (
    "elbow_flex", "knee_flex", "hip_flex", "arm_raise", "wrist_up", "hip_low", "trunk_down",
    "hands_apart", "feet_apart", "hand_reach",
)  # fmt: skip
# Joints each measure reads (for its visibility).
_MEASURE_JOINTS = {
    "elbow_flex": _SH + _EL + _WR, "knee_flex": _HIP + _KN + _AN, "hip_flex": _SH + _HIP + _KN,
    "arm_raise": _HIP + _SH + _EL, "wrist_up": _SH + _WR, "hip_low": _HIP + _AN, "trunk_down": _SH + _HIP,
    "hands_apart": _WR, "feet_apart": _AN, "hand_reach": _SH + _WR,
}  # fmt: skip


def _angle(a: np.ndarray, v: np.ndarray, b: np.ndarray) -> np.ndarray:
    u, w = a - v, b - v
    cos = (u * w).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1) + 1e-9)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def frame_measures(
    world: np.ndarray, torso: float | None = None, image: np.ndarray | None = None
) -> np.ndarray:
    """(T, len(MEASURES)) from world landmarks (T, 33, >=3), metres, y down; NaN rows stay NaN.

    Angles are in half-radians (flexion: 0 = straight), distances in torso lengths, so one
    unit is about the same amount of movement for both. ``image``: the image landmarks (T, 33, >=2)
    of the same frames, for ``hand_reach`` (see ``_hand_reach``); without them it is read in the world.
    """
    w = np.asarray(world, np.float64)[..., :3]
    j = {n: (w[:, a], w[:, b]) for n, (a, b) in
         {"sh": _SH, "el": _EL, "wr": _WR, "hip": _HIP, "kn": _KN, "an": _AN}.items()}  # fmt: skip
    mid = {n: (a + b) / 2 for n, (a, b) in j.items()}
    if torso is None:
        lengths = np.linalg.norm(mid["sh"] - mid["hip"], axis=-1)
        torso = float(np.nanmedian(lengths)) if np.isfinite(lengths).any() else 0.5
    s = max(torso, 0.05)

    def both(f) -> np.ndarray:
        return (f(0) + f(1)) / 2

    y = 1  # world y points down
    cols = {
        "elbow_flex": both(lambda i: np.pi - _angle(j["sh"][i], j["el"][i], j["wr"][i])) * 0.5,
        "knee_flex": both(lambda i: np.pi - _angle(j["hip"][i], j["kn"][i], j["an"][i])) * 0.5,
        "hip_flex": both(lambda i: np.pi - _angle(j["sh"][i], j["hip"][i], j["kn"][i])) * 0.5,
        "arm_raise": both(lambda i: _angle(j["hip"][i], j["sh"][i], j["el"][i])) * 0.5,
        "wrist_up": (mid["sh"][:, y] - mid["wr"][:, y]) / s,
        "hip_low": -(mid["an"][:, y] - mid["hip"][:, y]) / s,
        "trunk_down": -(mid["hip"][:, y] - mid["sh"][:, y]) / s,
        "hands_apart": np.linalg.norm(j["wr"][0] - j["wr"][1], axis=-1) / s,
        "feet_apart": np.linalg.norm(j["an"][0] - j["an"][1], axis=-1) / s,
        "hand_reach": _hand_reach(image) if image is not None else both(
            lambda i: np.linalg.norm(j["wr"][i] - j["sh"][i], axis=-1)) / s,
    }  # fmt: skip
    return np.stack([cols[m] for m in MEASURES], -1)


def _hand_reach(image: np.ndarray) -> np.ndarray:
    """(T,) wrist-to-shoulder distance in the image, in body sizes (the larger of shoulder width and
    torso length in the image, so it holds from the side and from the feet).

    A lifter lying on a bench filmed from the feet moves the bar toward and away from the camera: the
    world landmarks (and the elbow angle from them) barely follow it there, but in the image the hands
    come down to the shoulders at the chest and rise well above them at lockout."""
    im = np.asarray(image, np.float64)[..., :2]
    sh, wr, hip = (im[:, list(k)] for k in (_SH, _WR, _HIP))
    size = np.maximum(
        np.linalg.norm(sh[:, 0] - sh[:, 1], axis=-1),
        np.linalg.norm(sh.mean(1) - hip.mean(1), axis=-1),
    )
    return np.linalg.norm(wr - sh, axis=-1).mean(1) / np.maximum(size, 1e-3)


def measure_visibility(vis: np.ndarray) -> np.ndarray:
    """(len(MEASURES),) median visibility of the joints each measure reads; vis: (T, 33)."""
    med = np.nanmedian(vis, axis=0) if np.isfinite(vis).any() else np.zeros(vis.shape[1])
    return np.array([np.nanmin(med[list(_MEASURE_JOINTS[m])]) for m in MEASURES])


# A pull-up's top has the hands on the bar, at about shoulder height or above; hands hanging far below the
# shoulders mean standing under the bar (stepping off, chalking up), which moves the elbows and wrists as much
# as a rep does and is set-up, not a rep.
TOP_MIN_WRIST_UP = -0.45  # torso lengths (wrists above the shoulders > 0)


def exercise_frames(smooth: np.ndarray, exercise: str | None) -> np.ndarray | None:
    """(T,) bool: frames in the exercise's working pose, or None where the exercise has no such test."""
    if exercise != "pull up":
        return None
    return smooth[:, MEASURES.index("wrist_up")] > TOP_MIN_WRIST_UP


# A jumping jack's open position has the arms raised (the labels count a jack open with the arms at or above
# the shoulders, 90 degrees); a jump that only spreads the legs, arms by the sides (a teaching demo's
# legs-only drill), moves the feet as much and is not a jack. The arms of the tuning clips' jacks were
# 97-169 degrees from the trunk at the counted turning points, the closed position 16-25.
JACK_MIN_ARM_DEG = 60.0


def turning_pose_ok(smooth: np.ndarray, exercise: str | None) -> np.ndarray | None:
    """(T,) bool: frames where a turning point of the exercise may lie, or None where there is no such test.

    Unlike ``exercise_frames`` this only vets the turning points; the rep signal still reads every frame."""
    if exercise != "jumping jack":
        return None
    return smooth[:, MEASURES.index("arm_raise")] * 2 >= np.radians(JACK_MIN_ARM_DEG)


def plank_mask(world: np.ndarray) -> np.ndarray:
    """(T,) True where the body is in a plank: shoulders, hips and ankles in a near-straight, level line,
    legs straight, and the upper arms near vertical under the shoulders (holding the body up).

    The last two tell a plank from lying flat (arms forward, body just as straight and level) and from
    kneeling on all fours (shoulder-hip-ankle line can look straight from the front, knees bent).
    """
    w = np.asarray(world, np.float64)[..., :3]
    sh, el, hip, kn, an = ((w[:, a] + w[:, b]) / 2 for a, b in (_SH, _EL, _HIP, _KN, _AN))
    line = sh - an
    level = np.abs(line[:, 1]) / (
        np.linalg.norm(line, axis=-1) + 1e-9
    )  # sine of the tilt from level
    straight = np.degrees(_angle(sh, hip, an))
    knee = np.degrees(_angle(hip, kn, an))
    arm = el - sh
    upright_arm = arm[:, 1] / (
        np.linalg.norm(arm, axis=-1) + 1e-9
    )  # cosine from straight down (y down)
    with np.errstate(invalid="ignore"):
        return (level < 0.5) & (straight > 150) & (knee > 150) & (upright_arm > 0.8)


def hold_seconds(times: np.ndarray, world: np.ndarray, max_gap: float = 1.0) -> float:
    """Longest stretch (s) in a plank, bridging breaks shorter than ``max_gap`` (pose dropouts)."""
    ok = plank_mask(world)
    t = np.asarray(times, np.float64)
    best, start, last = 0.0, None, None
    for ti, good in zip(t, ok, strict=True):
        if not good:
            continue
        if start is None or ti - last > max_gap:
            start = ti
        last = ti
        best = max(best, last - start)
    return float(best)


# Form limits for the per-rep cues (degrees at the turning point; common coaching rules).
SQUAT_DEPTH_MAX_KNEE = 110.0  # knee angle above this at the bottom: thighs well above parallel
PUSH_UP_DEPTH_MAX_ELBOW = 110.0  # elbow angle above this at the bottom: chest stays high
HIP_LINE_MAX_BEND = 20.0  # shoulder-hip-ankle line bent by more: hips sag (+) or pike (-)


def _turn_form(
    world: np.ndarray, times: np.ndarray, turn: float, exercise: str | None
) -> tuple[dict, list[str]]:
    """Depth and hip line at one turning point (squat, push-up) and the cues where a rep falls short."""
    i = int(np.argmin(np.abs(times - turn)))
    w = np.asarray(world, np.float64)[max(i - 1, 0) : i + 2, :, :3]
    if exercise not in ("squat", "push up") or not np.isfinite(w).all():
        return {}, []
    w = w.mean(0)[None]
    sh, hip, kn, an, el, wr = ((w[:, a] + w[:, b]) / 2 for a, b in (_SH, _HIP, _KN, _AN, _EL, _WR))
    if exercise == "squat":
        knee = float(np.degrees(_angle(hip, kn, an))[0])
        depth = {"knee_angle": round(knee, 1), "hip_below_knee": bool(hip[0, 1] >= kn[0, 1])}
        return depth, ["not deep enough"] if knee > SQUAT_DEPTH_MAX_KNEE else []
    elbow = float(np.degrees(_angle(sh, el, wr))[0])
    bend = float(180 - np.degrees(_angle(sh, hip, an))[0])
    ab = an - sh
    foot = (
        sh
        + ((hip - sh) * ab).sum(-1, keepdims=True) / ((ab * ab).sum(-1, keepdims=True) + 1e-9) * ab
    )
    bend *= 1.0 if (hip - foot)[0, 1] >= 0 else -1.0  # y down: hips below the line sag, above pike
    cues = ["not deep enough"] if elbow > PUSH_UP_DEPTH_MAX_ELBOW else []
    if bend > HIP_LINE_MAX_BEND:
        cues.append("hips sag")
    elif bend < -HIP_LINE_MAX_BEND:
        cues.append("hips pike up")
    return {"elbow_angle": round(elbow, 1), "hip_bend": round(bend, 1)}, cues
