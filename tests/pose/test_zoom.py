"""Zoom (pose/zoom.py): a person too small for the whole frame is found on a tile and tracked on a crop."""

import numpy as np
import pytest
from conftest import real_clip, small_copy

from workout_classifier.pose.landmarks import PoseSettings
from workout_classifier.pose.runner import extract_pose
from workout_classifier.pose.zoom import Zoom, crop_around


def test_landmarks_on_the_crop_map_back_to_the_frame():
    z = Zoom()
    z.region = (400, 100, 600, 300)  # a 200 px square crop of a 800 x 400 frame
    img = np.array(
        [[0.5, 0.5, 0.1, 0.9], [0.0, 1.0, -0.2, 0.5]] * 16 + [[1.0, 0.0, 0.0, 1.0]], np.float32
    )
    full = z.to_full(img, (400, 800, 3))
    assert np.allclose(full[0, :3], [500 / 800, 200 / 400, 0.1 * 200 / 800])
    assert np.allclose(full[1, :2], [400 / 800, 300 / 400]) and np.allclose(
        full[-1, :2], [600 / 800, 100 / 400]
    )
    assert np.array_equal(full[:, 3], img[:, 3])  # visibility unchanged
    assert z.crop(np.zeros((400, 800, 3))).shape == (200, 200, 3)


def test_crop_stays_inside_the_frame_and_is_dropped_after_a_long_miss():
    img = np.zeros((33, 4), np.float32)
    img[:, 3] = 1.0
    img[:, 0] = np.linspace(0.95, 0.99, 33)  # a small person at the right edge
    img[:, 1] = np.linspace(0.80, 0.95, 33)
    x0, y0, x1, y1 = crop_around(img, 720, 1280)
    assert 0 <= x0 < x1 <= 1280 and 0 <= y0 < y1 <= 720 and x1 - x0 == y1 - y0 >= 0.3 * 720
    z = Zoom()
    z.region = (x0, y0, x1, y1)
    for _ in range(14):
        z.update(False)
    assert z.region is not None
    z.update(False)
    assert z.region is None  # back to the whole frame


@pytest.mark.slow
def test_a_lifter_small_in_the_frame_is_found(real_clips, tmp_path):
    # A barbell squat (480p) shrunk to a fifth of a 720p frame's height: the lifter is ~90 px tall.
    clip = small_copy(real_clip(real_clips, "squat/squat_11.mp4"), tmp_path / "far.mp4", 0.2)
    without = extract_pose(clip, PoseSettings(zoom=False))
    found = extract_pose(clip, PoseSettings())
    assert without.detection_rate < 0.5  # the whole frame is too coarse for the detector
    assert found.detection_rate >= 0.9 and found.meta["zoomed_frames"] > 0
    # ... and the landmarks land on the lifter, in the lower right of the frame
    xy = np.nanmedian(found.landmarks[found.detected][:, :, :2], axis=(0, 1))
    assert xy[0] > 900 / 1280 and xy[1] > 0.7
