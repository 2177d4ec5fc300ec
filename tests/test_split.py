"""One clip on two cores (split.py): the same frames and times as one graph, the same landmarks up to the cut."""

import numpy as np
from conftest import real_clip, write_video

from workout_classifier.pose import PoseSettings, extract_pose
from workout_classifier.split import HELPER_START, OVERLAP, extract_pose_split


def test_split_keeps_every_sampled_frame_once(tmp_path):
    clip = write_video(tmp_path / "c.mp4", frames=180, fps=30)  # 90 sampled frames at 15 fps
    one = extract_pose(clip, PoseSettings())
    two = extract_pose_split(clip, PoseSettings())
    np.testing.assert_array_equal(two.times, one.times)  # no frame lost or doubled at the cut
    assert two.meta["split"] == {"parts": 2, "cut_frame": (90 + OVERLAP + HELPER_START) // 2, "overlap": OVERLAP}
    assert two.meta["sha256"] == one.meta["sha256"] and two.meta["width"] == one.meta["width"]


def test_short_clip_is_one_part(tmp_path):
    clip = write_video(tmp_path / "s.mp4", frames=40, fps=30)  # 20 sampled: nothing left for the helper
    two = extract_pose_split(clip, PoseSettings())
    assert two.meta["split"]["parts"] == 1 and two.num_frames == 20


def test_real_clip_landmarks_match_one_graph(real_clips):
    clip = real_clip(real_clips, "squat/v_BodyWeightSquats_g25_c07.mp4")  # 5 s
    one = extract_pose(clip, PoseSettings())
    two = extract_pose_split(clip, PoseSettings())
    cut = two.meta["split"]["cut_frame"]
    np.testing.assert_array_equal(two.times, one.times)
    np.testing.assert_array_equal(two.landmarks[:cut], one.landmarks[:cut])  # the first half is one graph's
    both = one.detected & two.detected
    gap = np.abs(two.landmarks[cut:, :, :2] - one.landmarks[cut:, :, :2])[both[cut:]]
    # The restarted tracker finds the same person nearby (its smoothing starts afresh; one graph run
    # twice differs by 0).
    assert np.median(gap) < 0.05
    assert abs(two.detection_rate - one.detection_rate) < 0.1


def test_cold_predict_of_one_clip_uses_both_halves(real_clips, tmp_path):
    from workout_classifier.checkpoint import DEFAULT_MODEL, Classifier
    from workout_classifier.predict import predict_videos

    clip = real_clip(real_clips, "squat/v_BodyWeightSquats_g25_c07.mp4")
    if not DEFAULT_MODEL.is_file():
        import pytest

        pytest.skip(f"no shipped model at {DEFAULT_MODEL}")
    clf = Classifier.load()
    cold = predict_videos([clip], clf, keep_internal=True)[0]  # temporary cache: split
    kept = predict_videos([clip], clf, cache_dir=tmp_path, keep_internal=True)[0]  # a cache: one graph
    assert cold["sequence"].meta["split"]["parts"] == 2 and "split" not in kept["sequence"].meta
    assert cold["label"] == kept["label"] == "squat"
