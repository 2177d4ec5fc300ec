"""Dataset scanning: labels from folders, extensions, problems, and groups for CV splits."""

from __future__ import annotations

import pytest
from conftest import UNICODE_NAME, write_video

from workout_classifier.learn.dataset import DatasetError, default_group, scan_dataset


def test_scan_labels_extensions_and_order(synthetic_dataset):
    clips, problems = scan_dataset(synthetic_dataset)
    assert problems == []
    assert {c.label for c in clips} == {"squat", "push up", "lunges"}
    names = {c.name for c in clips}
    assert "push up/slow.MP4" in names  # extension case does not matter
    assert "lunges/lunge.avi" in names
    assert f"squat/{UNICODE_NAME}" in names
    assert len(clips) == 8
    keys = [(c.label, c.path.name) for c in clips]
    assert keys == sorted(keys)


def test_scan_reports_non_videos_and_empty_folders(messy_dataset):
    clips, problems = scan_dataset(messy_dataset)
    reasons = {p["file"].split("/")[-1]: p["reason"] for p in problems}
    assert "readme.txt" in reasons and "not a video" in reasons["readme.txt"]
    assert "empty" in reasons and "empty folder" in reasons["empty"]
    # Bad *contents* are not judged here (header-free scan): they are clips by extension.
    assert {"empty.mp4", "notes.mp4", "truncated.mp4"} <= {c.path.name for c in clips}


def test_hidden_files_are_ignored(tmp_path):
    write_video(tmp_path / "squat" / "a.mp4", frames=3)
    (tmp_path / "squat" / ".DS_Store").write_bytes(b"x")
    (tmp_path / ".git").mkdir()
    clips, problems = scan_dataset(tmp_path)
    assert [c.name for c in clips] == ["squat/a.mp4"]
    assert problems == []


def test_ucf_groups_per_source_video_within_class(synthetic_dataset):
    clips, _ = scan_dataset(synthetic_dataset)
    g = {c.path.name: c.group for c in clips}
    assert g["v_BodyWeightSquats_g01_c01.mp4"] == g["v_BodyWeightSquats_g01_c02.mp4"]
    assert g["v_BodyWeightSquats_g01_c01.mp4"] != g["v_BodyWeightSquats_g02_c01.mp4"]
    others = [g["clip_a.mp4"], g[UNICODE_NAME], g["portrait.mp4"], g["slow.MP4"], g["lunge.avi"]]
    assert len(set(others)) == len(others)  # every other clip is its own group
    assert not set(others) & {g["v_BodyWeightSquats_g01_c01.mp4"]}


def test_same_ucf_group_number_in_two_classes_differs(tmp_path):
    a = default_group("bench press", tmp_path / "v_BenchPress_g08_c01.mp4")
    b = default_group("bench press", tmp_path / "v_BenchPress_g08_c04.mp4")
    c = default_group("lunges", tmp_path / "v_Lunges_g08_c01.mp4")
    assert a == b and a != c
    assert default_group("squat", tmp_path / "v_Squat_g08.mp4") == "squat/v_Squat_g08.mp4"


def test_groups_csv_overrides(tmp_path):
    for name in ("a.mp4", "b.mp4", "c.mp4", "v_Lunges_g01_c01.mp4"):
        write_video(tmp_path / "lunges" / name, frames=2)
    (tmp_path / "groups.csv").write_text(
        "clip,group\nlunges/a.mp4,person1\nb.mp4,person1\nlunges/v_Lunges_g01_c01.mp4,person2\n"
    )
    clips, _ = scan_dataset(tmp_path)
    g = {c.path.name: c.group for c in clips}
    assert g["a.mp4"] == g["b.mp4"] == "person1"  # by relative path or by bare name
    assert g["v_Lunges_g01_c01.mp4"] == "person2"
    assert g["c.mp4"] == "lunges/c.mp4"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "not a folder"),
        (lambda p: p, "no exercise folders"),
        (lambda p: (p / "squat").mkdir() or p, "no video clips"),
    ],
    ids=["missing", "file", "no-folders", "no-clips"],
)
def test_unusable_dataset_raises_one_line(tmp_path, make, message):
    with pytest.raises(DatasetError) as e:
        scan_dataset(make(tmp_path))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_source_of_a_clip_follows_its_name():
    from pathlib import Path

    from workout_classifier.learn.dataset import default_source

    names = {"v_BenchPress_g01_c02.mp4": "ucf101", "pushfit-wrong12.mp4": "pushfit", "squat_correct_3.avi": "kaiakol",
             "bench press_7.mp4": "kaggle", "pull-ups-videoplayback.mp4": "kaggle", "push up_basit.mp4": "other",
             # `<owner>__<file>`: each owner a source of its own, whatever the file is called
             "j-lederer__squat_3.mp4": "owner:j-lederer", "Joe-Lo0716__v_PullUps_g01_c01.mp4": "owner:Joe-Lo0716",
             "a_b__c.mp4": "owner:a_b", "__x.mp4": "other"}  # fmt: skip
    assert {n: default_source(Path(n)) for n in names} == names
