"""Pose recovery: landmarks found on a turned frame map back to the original frame,
and a real lying-down clip has more frames with a person after recovery."""

import cv2
import numpy as np
import pytest
from conftest import real_clip

from workout_classifier.pose.landmarks import PoseSettings
from workout_classifier.pose.recovery import _unturn
from workout_classifier.pose.runner import extract_pose


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
    assert after.detection_rate > before.detection_rate + 0.3, (
        before.detection_rate,
        after.detection_rate,
    )
    assert after.meta["recovered_frames"] > 0
    assert np.isfinite(after.landmarks[after.detected]).all()


class _FakePose:
    """Stands in for a MediaPipe Pose: finds a 'person' on frames whose top-left pixel says so."""

    def __init__(self, answers_on: int):
        self.answers_on, self.calls = answers_on, 0

    def process(self, frame):
        self.calls += 1
        found = int(frame[0, 0, 0]) == self.answers_on
        lms = np.tile(np.array([[0.25, 0.5, 0.0, 1.0]], np.float32), (33, 1)) if found else None
        return type("R", (), {"pose_landmarks": lms, "pose_world_landmarks": lms})()

    def close(self):
        pass


def test_recovery_trackers_all_see_each_missed_frame_and_the_first_finder_wins():
    from workout_classifier.pose.recovery import Recovery

    made = []

    def make_pose(settings):
        made.append(_FakePose(answers_on=[1, 2, 3][len(made)]))  # upright, turned cw, turned ccw
        return made[-1]

    static = _FakePose(answers_on=-1)
    rec = Recovery(PoseSettings(), make_pose, lambda: static, lambda x: x)
    assert made[0].answers_on == 1
    frame = np.zeros((4, 6, 3), np.uint8)
    frame[..., 0] = 1
    assert rec.frame(frame)[2] == "tracked" and [p.calls for p in made] == [1, 1, 1]
    # a frame only the clockwise tracker sees the person on (the turned frame's top-left pixel is 2)
    turned = np.zeros((4, 6, 3), np.uint8)
    turned[-1, 0, 0] = 2  # bottom-left goes to top-left when turned clockwise
    img, _, how = rec.frame(turned)
    assert how == "tracked turned" and static.calls == 0
    np.testing.assert_allclose(
        img[0, :2], (0.5, 0.75)
    )  # (0.25, 0.5) on the turned frame, turned back
    assert rec.frame(np.zeros((4, 6, 3), np.uint8)) is None  # nobody: the trackers look
    assert [p.calls for p in made] == [3, 3, 3]
    assert static.calls == 0  # no static look once a tracker has found the person in this clip


def _recovery(answers):
    from workout_classifier.pose.recovery import Recovery

    made = []

    def make_pose(settings):
        made.append(_FakePose(answers_on=answers[len(made)]))
        return made[-1]

    static = _FakePose(answers_on=-1)
    return Recovery(PoseSettings(), make_pose, lambda: static, lambda x: x), made, static


def test_static_look_runs_until_a_tracker_has_found_anybody():
    rec, made, static = _recovery([1, 2, 3])
    empty = np.zeros((4, 6, 3), np.uint8)
    assert rec.frame(empty) is None and static.calls == 3  # as is, turned both ways


def test_a_tracker_that_never_finds_anybody_is_retired_and_runs_of_misses_back_off():
    rec, made, static = _recovery([1, 2, 3])
    found = np.zeros((4, 6, 3), np.uint8)
    found[..., 0] = 1  # only the upright tracker sees this person
    for _ in range(rec.RETIRE_AFTER):
        assert rec.frame(found)[2] == "tracked"
    assert [p.calls for p in made] == [rec.RETIRE_AFTER] * 3
    rec.frame(found)
    assert [p.calls for p in made] == [
        rec.RETIRE_AFTER + 1,
        rec.RETIRE_AFTER,
        rec.RETIRE_AFTER,
    ]  # turned ones retired
    # Nobody anywhere: every missed frame is looked at until BACKOFF_AFTER in a row, then only some.
    empty = np.zeros((4, 6, 3), np.uint8)
    before = made[0].calls
    n = rec.BACKOFF_AFTER + 4 * rec.BACKOFF_EVERY
    assert all(rec.frame(empty) is None for _ in range(n))
    assert made[0].calls - before == rec.BACKOFF_AFTER + 4
    assert (
        rec.frame(found)[2] == "tracked"
    )  # the person is back: found at the next looked-at frame ...
    before = made[0].calls
    rec.frame(empty)
    rec.frame(empty)
    assert made[0].calls - before == 2  # ... and every missed frame is looked at again
    assert static.calls == 0
