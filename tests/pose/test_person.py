"""Main person: with two people in view the landmarks follow the one exercising.

The composite clip puts a still person (one frame of a lateral-raise clip,
frozen) beside a real squat clip. MediaPipe's tracker alone locks onto the still
person here (checked below, so the test shows what it guards against); with the
main-person choice the landmarks stay on the squat.
"""

import cv2
import numpy as np
import pytest
from avclips import write_clip
from conftest import real_clip

from workout_classifier.frames.sampling import open_frames
from workout_classifier.pose.landmarks import PoseSettings
from workout_classifier.pose.person import (
    MainPerson,
    blank,
    expand,
    keep_only,
    landmark_box,
    scores,
)
from workout_classifier.pose.runner import extract_pose

EXERCISER = "squat/squat_11.mp4"
STILL = "lateral raise/lateral raise_12.mp4"


def _frames(path, n=None, height=240):
    _, frames = open_frames(path, 15.0)
    out = []
    for _, f in frames:
        out.append(cv2.resize(f, (round(f.shape[1] * height / f.shape[0]) // 2 * 2, height)))
        if n and len(out) == n:
            break
    return out


@pytest.mark.slow
def test_landmarks_follow_the_moving_person_not_the_still_one(real_clips, tmp_path):
    moving = _frames(real_clip(real_clips, EXERCISER), n=40)
    still = _frames(real_clip(real_clips, STILL), n=1)[0]
    clip = write_clip(tmp_path / "two.mp4", [np.hstack([still, f]) for f in moving], fps=15.0)
    cut = still.shape[1] / (still.shape[1] + moving[0].shape[1])  # x where the squat half begins

    def share_on_squat(seq):
        x = np.nanmedian(seq.landmarks[seq.detected, :, 0], axis=1)
        return float(np.mean(x > cut))

    plain = extract_pose(clip, PoseSettings(main_person=False))
    chosen = extract_pose(clip, PoseSettings(main_person=True))
    assert share_on_squat(plain) < 0.5  # the tracker alone follows the still person in this clip
    assert chosen.meta["people"] >= 2 and chosen.meta["main_person_choices"] >= 1
    assert chosen.detection_rate > 0.9
    assert share_on_squat(chosen) > 0.95
    # and the landmarks are the squatter's: close to those of the squat clip alone, shifted into place
    alone = extract_pose(write_clip(tmp_path / "one.mp4", moving, fps=15.0), PoseSettings())
    both = chosen.detected & alone.detected
    x_alone = cut + alone.landmarks[both, :, 0] * (1 - cut)
    err = np.nanmedian(np.abs(chosen.landmarks[both, :, 0] - x_alone))
    assert err < 0.02, err


@pytest.mark.slow
def test_live_follows_the_moving_person_too(real_clips):
    """`live` makes the same choice on a stream, a second after it first finds someone."""
    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.live.tracker import LiveTracker

    moving = _frames(real_clip(real_clips, EXERCISER), n=40)
    still = _frames(real_clip(real_clips, STILL), n=1)[0]
    cut = still.shape[1] / (still.shape[1] + moving[0].shape[1])
    clf = Classifier.load()
    assert clf.extra["pose"]["main_person"]
    tracker = LiveTracker(clf)
    xs = []
    try:
        for i, f in enumerate(moving):
            state = tracker.process(np.hstack([still, f]), i / 15.0)
            xs.append(np.nanmedian(tracker.rows[-1][:, 0]) if tracker.found[-1] else np.nan)
    finally:
        tracker.close()
    assert tracker.person.main.people >= 2 and state is not None
    late = np.asarray(xs[20:])  # after the choice (10 frames watched)
    assert np.isfinite(late).mean() > 0.9 and np.nanmin(late) > cut, (cut, late)


def test_one_person_clip_keeps_the_whole_frame():
    main = MainPerson()
    img = np.zeros((33, 4), np.float32)
    img[:, :2], img[:, 3] = np.linspace(0.3, 0.6, 33)[:, None], 1.0
    frame = np.full((20, 30, 3), 7, np.uint8)
    main.update(img)
    assert main.region is None and main.view(frame) is frame


def test_region_follows_the_person_and_is_dropped_when_lost():
    from workout_classifier.pose.person import LOST_FRAMES

    main = MainPerson()
    boxes = [np.array([0.0, 0.0, 0.3, 0.9]), np.array([0.6, 0.1, 0.9, 0.9])]
    frames = [np.zeros((40, 60, 3), np.uint8) for _ in range(4)]
    for i, f in enumerate(frames):  # only the right person moves
        f[8:36, 38 + i : 50 + i] = 200
    assert main.choose(boxes, frames) == 1
    view = main.view(np.full((40, 60, 3), 9, np.uint8))
    assert view[:, :30].max() == 0 and view[20, 45].max() == 9  # the other person is blanked
    for _ in range(LOST_FRAMES):
        main.update(None)
    assert main.region is None and not main.checked


def test_motion_outweighs_size_and_centrality():
    big_still = np.array([0.25, 0.0, 0.75, 1.0])  # central and large
    small_moving = np.array([0.8, 0.5, 1.0, 1.0])
    frames = []
    for i in range(5):
        f = np.full((60, 80, 3), 50, np.uint8)
        f[:, 20:60] = 120  # the big person, still
        f[35:60, 66 + (i % 2) * 4 : 74 + (i % 2) * 4] = 250  # the small one, moving
        frames.append(f)
    s = scores([big_still, small_moving], frames)
    assert s[1] > s[0]


def test_box_helpers():
    img = np.zeros((33, 4), np.float32)
    img[:, 0], img[:, 1], img[:, 3] = np.linspace(0.2, 0.4, 33), np.linspace(0.1, 0.7, 33), 1.0
    img[0, :2], img[0, 3] = (0.9, 0.9), 0.0  # an invisible joint does not stretch the box
    np.testing.assert_allclose(
        landmark_box(img), [img[1:, 0].min(), img[1:, 1].min(), 0.4, 0.7], atol=1e-6
    )
    np.testing.assert_allclose(
        expand(np.array([0.2, 0.2, 0.4, 0.6]), 0.5), [0.1, 0.0, 0.5, 0.8], atol=1e-12
    )
    f = np.full((10, 10, 3), 5, np.uint8)
    b = np.array([0.2, 0.2, 0.5, 0.5])
    assert blank(f, [b])[3, 3].max() == 0 and blank(f, [b])[8, 8].max() == 5
    assert keep_only(f, b)[3, 3].max() == 5 and keep_only(f, b)[8, 8].max() == 0
