"""A drawn person doing squats, written as a video: a generated clip MediaPipe finds a body in.

The drawings of conftest.py (a ball and a box) show nobody; live and offline
rep counting need a body that moves. This figure (head with a face, shirt,
trousers, shoes, thick limbs; flat colours on a plain wall) is found by
MediaPipe Pose in every frame, and its hips drop and knees bend on each squat,
so the clip has a known number of reps without any real footage.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

WALL, SKIN, SHIRT, TROUSERS, DARK = (
    (200, 210, 220),
    (140, 170, 220),
    (60, 60, 180),
    (90, 60, 40),
    (30, 30, 30),
)


def figure_frame(phase: float, width: int = 480, height: int = 640) -> np.ndarray:
    """(H, W, 3) BGR: the figure standing (phase 0) to the bottom of a squat (phase 1)."""
    img = np.full((height, width, 3), WALL, np.uint8)
    s, cx = height / 640, width // 2

    def px(v: float) -> int:
        return int(round(v * s))

    drop = px(120 * phase)
    head = (cx, px(110) + drop)
    sh_y, hip_y, ank_y = px(190) + drop, px(340) + drop, px(590)
    knee_y = (hip_y + ank_y) // 2 - px(20 * phase)
    for side in (-1, 1):
        hip, knee, ankle = (
            (cx + side * px(35), hip_y),
            (cx + side * px(30 + 70 * phase), knee_y),
            (cx + side * px(40), ank_y),
        )
        cv2.line(img, hip, knee, TROUSERS, px(34))
        cv2.line(img, knee, ankle, TROUSERS, px(34))
        cv2.ellipse(
            img,
            (ankle[0] + side * px(20), ankle[1] + px(12)),
            (px(30), px(12)),
            0,
            0,
            360,
            DARK,
            -1,
        )
        shoulder = (cx + side * px(60), sh_y)
        elbow = (cx + side * px(80), sh_y + px(110 - 60 * phase))  # arms come forward at the bottom
        wrist = (cx + side * px(70), sh_y + px(210 - 170 * phase))
        cv2.line(img, shoulder, elbow, SHIRT, px(28))
        cv2.line(img, elbow, wrist, SKIN, px(24))
        cv2.circle(img, wrist, px(16), SKIN, -1)
    torso = [(cx - px(62), sh_y - px(10)), (cx + px(62), sh_y - px(10)), (cx + px(48), hip_y + px(10)),
             (cx - px(48), hip_y + px(10))]  # fmt: skip
    cv2.fillPoly(img, [np.array(torso, np.int32)], SHIRT)
    cv2.line(img, (cx, sh_y - px(20)), (cx, head[1]), SKIN, px(30))
    cv2.ellipse(img, head, (px(38), px(48)), 0, 0, 360, SKIN, -1)
    cv2.ellipse(
        img, (head[0], head[1] - px(30)), (px(40), px(25)), 0, 180, 360, (30, 30, 50), -1
    )  # hair
    for side in (-1, 1):
        cv2.circle(img, (head[0] + side * px(14), head[1] - px(6)), px(5), DARK, -1)
    cv2.ellipse(img, (head[0], head[1] + px(22)), (px(12), px(5)), 0, 0, 180, (40, 40, 120), -1)
    cv2.circle(img, (head[0], head[1] + px(6)), px(4), (110, 130, 190), -1)
    return img


def write_squat_clip(path: Path, reps: int = 4, period: float = 2.0, fps: float = 30.0,
                     size: tuple[int, int] = (480, 640), lead: float = 0.0) -> Path:  # fmt: skip
    """A clip of `reps` squats, `period` seconds each (standing at the start and end), plus `lead` s standing first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert vw.isOpened(), f"OpenCV cannot write {path}"
    n_lead, n = int(round(lead * fps)), int(round(reps * period * fps))
    for i in range(n_lead + n + 1):
        t = max(i - n_lead, 0) / fps
        vw.write(figure_frame((1 - np.cos(2 * np.pi * t / period)) / 2, w, h))
    vw.release()
    return path
