"""Integration on a few real clips from ../shared/data/clips (skipped where absent)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import real_clip

from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.extract import extract_clips

pytestmark = pytest.mark.slow


def test_person_found_on_most_frames_of_a_push_up(real_clips, tmp_path):
    clip = real_clip(real_clips, "push up/push-up_2.mp4")
    cache = PoseCache(tmp_path / "cache")
    s = extract_clips([clip], cache, workers=1, progress=False)
    assert (s.extracted, s.failed, s.no_person) == (1, [], [])
    seq = cache.load(clip)
    assert seq.num_frames >= 40  # 5 s at 10 fps
    assert seq.detection_rate > 0.8, seq.detection_rate
    lm = seq.landmarks[seq.detected]
    assert np.isfinite(lm).all()
    assert np.nanmedian(lm[..., :2]) == pytest.approx(0.5, abs=0.35)  # image-normalized
    assert np.all((lm[..., 3] >= 0) & (lm[..., 3] <= 1))
    world = seq.world[seq.detected][..., :3]
    assert np.abs(world).max() < 3  # metres around the hips

    again = extract_clips([clip], cache, workers=1, progress=False)
    assert (again.extracted, again.cached, again.frames) == (0, 1, 0)


def test_two_workers_on_real_clips(real_clips, tmp_path):
    clips = [
        real_clip(real_clips, "pull up/pull-up_19.mp4"),
        real_clip(real_clips, "squat/squat_16.mp4"),
    ]
    cache = PoseCache(tmp_path / "cache")
    s = extract_clips(clips, cache, workers=2, progress=False)
    assert s.extracted == 2 and not s.failed
    for c in clips:
        seq = cache.load(c)
        assert seq.num_frames > 12 and seq.detected.any()  # clips of 2 s and more, 10 fps
        assert seq.meta["source"] == str(c)
    again = extract_clips(clips, cache, workers=2, progress=False)
    assert (again.extracted, again.cached) == (0, 2)


def test_prefetch_does_not_change_results(real_clips, monkeypatch):
    import workout_classifier.pose.runner as pose

    clip = real_clip(real_clips, "squat/squat_16.mp4")
    monkeypatch.setattr(pose, "PREFETCH_FRAMES", 0)
    inline = pose.extract_pose(clip)
    monkeypatch.setattr(pose, "PREFETCH_FRAMES", 4)
    ahead = pose.extract_pose(clip)
    assert np.array_equal(inline.detected, ahead.detected)
    assert np.array_equal(inline.landmarks, ahead.landmarks, equal_nan=True)
    assert np.array_equal(inline.world, ahead.world, equal_nan=True)


def test_two_people_side_by_side_get_one_answer_not_a_crash(real_clips, tmp_path):
    """MediaPipe Pose follows one person; a clip with two gets an ordinary answer about one of them."""
    import cv2

    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.predict import predict_videos

    left, right = (
        cv2.VideoCapture(str(real_clip(real_clips, p)))
        for p in ("squat/squat_16.mp4", "push up/push-up_2.mp4")
    )
    out = tmp_path / "two.mp4"
    writer = None
    for _ in range(90):  # 3 s at 30 fps, or until the shorter clip ends
        ok1, a = left.read()
        ok2, b = right.read()
        if not (ok1 and ok2):
            break
        b = cv2.resize(b, (int(b.shape[1] * a.shape[0] / b.shape[0]), a.shape[0]))
        frame = cv2.hconcat([a, b])
        if writer is None:
            writer = cv2.VideoWriter(
                str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30, frame.shape[1::-1]
            )
        writer.write(frame)
    writer.release()
    clf = Classifier.load()
    [res] = predict_videos(
        [out], clf, cache_dir=tmp_path / "cache", reps=True, form=True, timeline=True
    )
    assert res["error"] is None
    assert res["label"] in [*clf.classes, "unknown"]
    assert 0.0 <= res["confidence"] <= 1.0
    assert isinstance(res["reps"], int) and res["reps"] >= 0
    assert res["timeline"] and all(s["end"] > s["start"] for s in res["timeline"])
