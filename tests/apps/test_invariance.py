"""The answer does not change when a clip is mirrored, slowed down or sped up (issue 25).

Made in the test from a real clip (../shared/data): mirrored frame by frame, and the same frames
written at 0.8x and 1.25x the frame rate (the exercise done slower and faster)."""

import cv2
import pytest
from conftest import real_clip

import workout_classifier as wc

CLIPS = ("squat/squat_11.mp4", "push up/push-up_2.mp4", "lunges/v_Lunges_g08_c01.mp4")


def _rewrite(src, out, fps_factor: float = 1.0, flip: bool = False, seconds: float = 6.0):
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps * fps_factor, (w, h))
    for _ in range(int(fps * seconds)):
        ok, f = cap.read()
        if not ok:
            break
        vw.write(cv2.flip(f, 1) if flip else f)
    vw.release()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("rel", CLIPS)
def test_mirrored_slowed_and_sped_up_clips_get_the_same_label(real_clips, tmp_path, rel):
    src = real_clip(real_clips, rel)
    variants = {
        "as is": _rewrite(src, tmp_path / "same.mp4"),
        "mirrored": _rewrite(src, tmp_path / "mirrored.mp4", flip=True),
        "slowed 0.8x": _rewrite(src, tmp_path / "slow.mp4", fps_factor=0.8),
        "sped up 1.25x": _rewrite(src, tmp_path / "fast.mp4", fps_factor=1.25),
    }
    results = wc.load_model().predict(list(variants.values()))
    labels = {name: r.label for name, r in zip(variants, results, strict=True)}
    assert labels["as is"] == rel.split("/")[0], labels
    assert set(labels.values()) == {labels["as is"]}, labels
