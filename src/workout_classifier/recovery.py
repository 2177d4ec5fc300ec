"""Pose recovery: a second, harder look at frames where video-mode tracking found nobody.

The tracker's person detector is weakest on bodies lying horizontally (bench
press, planks, push-ups filmed from the side) and on small 320x240 frames. For
a missed frame we try, in order, until one finds a person: the frame enlarged
(small frames only), and the frame turned by -90 and +90 degrees, each through a
static-mode (detect every time) BlazePose. Landmarks found on a turned frame are
turned back into the original frame. Clips that need no recovery never create
the static model, so they cost nothing extra.
"""

from __future__ import annotations

import cv2
import numpy as np

SMALL_SIDE = 360  # frames whose shorter side is below this are enlarged first
_UPSCALE = 2


def _unturn(img: np.ndarray, world: np.ndarray, turn: int) -> tuple[np.ndarray, np.ndarray]:
    """Map (33, 4) landmarks found on a frame turned by `turn` (cv2 code) back to the original."""
    img, world = img.copy(), world.copy()
    xr, yr = img[:, 0].copy(), img[:, 1].copy()
    wx, wy = world[:, 0].copy(), world[:, 1].copy()
    if turn == cv2.ROTATE_90_CLOCKWISE:  # original (x, y) -> turned (1 - y, x)
        img[:, 0], img[:, 1] = yr, 1.0 - xr
        world[:, 0], world[:, 1] = wy, -wx
    else:  # ROTATE_90_COUNTERCLOCKWISE: original (x, y) -> turned (y, 1 - x)
        img[:, 0], img[:, 1] = 1.0 - yr, xr
        world[:, 0], world[:, 1] = -wy, wx
    return img, world


def recover_frame(static_pose, frame: np.ndarray, to_array) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(landmarks (33, 4), world (33, 4), how) for an RGB frame (H, W, 3), or None if nobody.

    `static_pose` is a static-image-mode MediaPipe Pose; `to_array` turns its
    landmark lists into (33, 4) arrays. `how` says which attempt found the person.
    """
    h, w = frame.shape[:2]
    base = frame
    if min(h, w) < SMALL_SIDE:
        base = cv2.resize(frame, (w * _UPSCALE, h * _UPSCALE), interpolation=cv2.INTER_CUBIC)
        res = static_pose.process(base)
        if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
            return to_array(res.pose_landmarks), to_array(res.pose_world_landmarks), "enlarged"
    else:
        res = static_pose.process(base)
        if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
            return to_array(res.pose_landmarks), to_array(res.pose_world_landmarks), "static"
    for turn, how in ((cv2.ROTATE_90_CLOCKWISE, "turned"), (cv2.ROTATE_90_COUNTERCLOCKWISE, "turned")):
        res = static_pose.process(np.ascontiguousarray(cv2.rotate(base, turn)))
        if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
            img, world = _unturn(to_array(res.pose_landmarks), to_array(res.pose_world_landmarks), turn)
            return img, world, how
    return None
