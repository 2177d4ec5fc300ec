"""The answer does not change when a clip is mirrored, cropped, shrunk, slowed down or sped up (issue 25).

Made in the test from a real clip (../shared/data) by tests/variants.py: mirrored frame by frame,
cropped to the middle 0.8 of its width and height, shrunk to half size, and the same frames written
at 0.8x and 1.25x the frame rate (the exercise done slower and faster). bench/invariance.py measures
the same on the clips of new sources."""

import pytest
from conftest import real_clip
from variants import VARIANTS, rewrite

import workout_classifier as wc

CLIPS = ("squat/squat_11.mp4", "push up/push-up_2.mp4", "lunges/v_Lunges_g08_c01.mp4")


@pytest.mark.slow
@pytest.mark.parametrize("rel", CLIPS)
def test_changed_copies_of_a_clip_get_the_same_label(real_clips, tmp_path, rel):
    src = real_clip(real_clips, rel)
    paths = [rewrite(src, tmp_path / f"{i}.mp4", v) for i, v in enumerate(VARIANTS)]
    results = wc.load_model().predict(paths)
    labels = {name: r.label for name, r in zip(VARIANTS, results, strict=True)}
    assert labels["as is"] == rel.split("/")[0], labels
    assert set(labels.values()) == {labels["as is"]}, labels
