"""Pose recovery: landmarks found on a turned frame map back to the original frame,
and a real lying-down clip has more frames with a person after recovery."""

import cv2
import numpy as np
import pytest
from conftest import real_clip

from workout_classifier.pose import PoseSettings, extract_pose
from workout_classifier.recovery import _unturn


@pytest.mark.parametrize("turn", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_turned_landmarks_map_back_to_the_original_frame(turn):
    h, w = 30, 50
    rng = np.random.default_rng(0)
    pts = rng.integers([0, 0], [w, h], size=(33, 2))
    img = np.zeros((33, 4), np.float32)
    for j, (x, y) in enumerate(pts):
        frame = np.zeros((h, w), np.uint8)
        frame[y, x] = 255
        ty, tx = np.argwhere(cv2.rotate(frame, turn))[0]  # where the pixel lies on the turned frame
        th, tw = (w, h)
        img[j, :2] = ((tx + 0.5) / tw, (ty + 0.5) / th)
    world = np.zeros((33, 4), np.float32)
    world[:, :2] = img[:, :2] - 0.5
    back, wback = _unturn(img, world, turn)
    np.testing.assert_allclose(back[:, 0], (pts[:, 0] + 0.5) / w, atol=1e-5)
    np.testing.assert_allclose(back[:, 1], (pts[:, 1] + 0.5) / h, atol=1e-5)
    # world x, y turn with the picture (y down, about the hips)
    np.testing.assert_allclose(wback[:, :2], back[:, :2] - 0.5, atol=1e-5)


@pytest.mark.slow
def test_lying_down_clip_has_more_frames_after_recovery(real_clips):
    clip = real_clip(real_clips, "bench press/v_BenchPress_g18_c03.mp4")
    before = extract_pose(clip, PoseSettings(recover=False))
    after = extract_pose(clip, PoseSettings(recover=True))
    assert after.detection_rate > before.detection_rate + 0.3, (before.detection_rate, after.detection_rate)
    assert after.meta["recovered_frames"] > 0
    assert np.isfinite(after.landmarks[after.detected]).all()
