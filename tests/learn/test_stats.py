"""`stats`: every clip counted, bad ones listed as problems, outputs written, nothing crashes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import UNICODE_NAME
from rich.console import Console

from workout_classifier.learn.stats import collect, summary_table, write_stats


@pytest.fixture(scope="module")
def messy_stats(messy_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("stats")
    return out, write_stats(messy_dataset, out)


def test_stats_json_layout(messy_stats):
    out, summary = messy_stats
    on_disk = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert on_disk == summary
    assert set(summary) >= {"total_clips", "exercises", "durations", "problems"}
    # 5 squat files with a video extension + 2 push-ups + 1 plank; readme.txt is not a clip.
    assert summary["total_clips"] == 8
    assert summary["readable_clips"] == 5
    assert set(summary["exercises"]) == {"squat", "push up", "plank"}
    sq = summary["exercises"]["squat"]
    assert sq["clips"] == 5 and sq["unreadable"] == 3
    for key in (
        "total_duration",
        "min_duration",
        "median_duration",
        "mean_duration",
        "max_duration",
    ):
        assert key in sq
    assert sq["resolutions"] == {"160x120": 2} and sq["fps"] == {"30": 2}
    pu = summary["exercises"]["push up"]
    assert pu["resolutions"] == {"120x160": 1, "160x120": 1}  # portrait kept as is
    assert pu["fps"] == {"30": 1, "15": 1}


def test_long_clip_and_durations(messy_stats):
    _, summary = messy_stats
    plank = summary["exercises"]["plank"]
    assert plank["max_duration"] == pytest.approx(240.0)
    d = summary["durations"]
    assert d["clips"] == 5
    assert d["max"] == pytest.approx(240.0)
    assert d["min"] == pytest.approx(1 / 30, abs=1e-3)  # the one-frame clip
    assert d["min"] <= d["median"] <= d["max"]
    assert d["total"] == pytest.approx(240 + 1.5 + 1 / 30 + 1 + 2, abs=0.01)


def test_problems_have_file_and_reason(messy_stats):
    _, summary = messy_stats
    probs = {p["file"]: p for p in summary["problems"]}
    assert probs["squat/empty.mp4"]["kind"] == "unreadable"
    assert "empty file" in probs["squat/empty.mp4"]["reason"]
    assert probs["squat/truncated.mp4"]["kind"] == "unreadable"
    assert probs["squat/notes.mp4"]["kind"] == "not a video"
    assert probs["squat/readme.txt"]["kind"] == "not a video"
    assert probs["squat/one_frame.mp4"]["kind"] == "very short"
    assert probs["empty"]["kind"] == "empty folder"
    assert "plank/long.mp4" not in probs and f"push up/{UNICODE_NAME}" not in probs
    for p in summary["problems"]:
        assert set(p) == {"file", "kind", "reason"} and "\n" not in p["reason"]


def test_clips_csv_one_row_per_clip(messy_stats):
    out, summary = messy_stats
    with (out / "clips.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["total_clips"]
    assert list(rows[0]) == [
        "exercise",
        "file",
        "group",
        "duration",
        "fps",
        "frames",
        "width",
        "height",
        "rotation",
        "codec",
        "problem",
    ]
    by = {r["file"]: r for r in rows}
    assert by[f"push up/{UNICODE_NAME}"]["frames"] == "30"  # non-ASCII survives the round trip
    assert by["plank/long.mp4"]["duration"] == "240.0"
    assert by["squat/notes.mp4"]["duration"] == "" and by["squat/notes.mp4"]["problem"]
    assert by["squat/good.mp4"]["problem"] == ""


def test_plots_are_pngs(messy_stats):
    out, _ = messy_stats
    for name in ("clips_per_exercise.png", "durations.png", "durations_by_exercise.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, name


def test_summary_table_renders(messy_stats):
    _, summary = messy_stats
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(summary_table(summary))
    text = console.export_text()
    for word in ("squat", "push up", "plank", "all", "160x120"):
        assert word in text


def test_collect_on_clean_dataset(synthetic_dataset):
    stats, problems = collect(synthetic_dataset)
    assert problems == [] and len(stats) == 8 and all(s.readable for s in stats)
    assert {s.group for s in stats if s.file.startswith("squat/v_")} == {
        "squat/ucf:BodyWeightSquats_g01",
        "squat/ucf:BodyWeightSquats_g02",
    }
