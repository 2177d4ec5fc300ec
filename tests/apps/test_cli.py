"""The `extract` and `stats` commands through typer's CliRunner: exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest
from conftest import write_video
from typer.testing import CliRunner

from workout_classifier.cli import app

runner = CliRunner()


def _error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    return lines[0]


@pytest.fixture
def tiny_dataset(tmp_path):
    write_video(tmp_path / "data" / "squat" / "a.mp4", frames=6, fps=6)
    (tmp_path / "data" / "squat" / "broken.mp4").write_text("not a video")
    return tmp_path / "data"


def _on_folder(command: str, data, tmp_path):
    """`workout extract|stats DATA` with its output folder under tmp_path."""
    return runner.invoke(
        app, [command, str(data), "--out" if command == "stats" else "--cache", str(tmp_path / "o")]
    )


@pytest.mark.parametrize("command", ["extract", "stats"])
def test_missing_dataset_folder(tmp_path, command):
    r = _on_folder(command, tmp_path / "nope", tmp_path)
    assert r.exit_code == 1
    assert "does not exist" in _error_line(r)


@pytest.mark.parametrize("command", ["extract", "stats"])
def test_no_exercise_folders(tmp_path, command):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "loose.mp4").write_bytes(b"")
    r = _on_folder(command, tmp_path / "data", tmp_path)
    assert r.exit_code == 1
    assert "no exercise folders" in _error_line(r)


def test_extract_unwritable_cache(tiny_dataset, tmp_path):
    (tmp_path / "afile").write_text("x")
    r = runner.invoke(
        app, ["extract", str(tiny_dataset), "--cache", str(tmp_path / "afile" / "cache")]
    )
    assert r.exit_code == 1
    assert "not writable" in _error_line(r)


def test_extract_runs_reports_and_resumes(tiny_dataset, tmp_path):
    cache = tmp_path / "cache"
    r = runner.invoke(app, ["extract", str(tiny_dataset), "--cache", str(cache), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert (summary["total"], summary["extracted"], len(summary["failed"])) == (2, 1, 1)
    assert "broken.mp4: not a video" in r.stderr
    assert "no person" in r.stderr  # the drawing is reported, not fatal
    assert "Traceback" not in r.output
    r2 = runner.invoke(app, ["extract", str(tiny_dataset), "--cache", str(cache), "--json"])
    assert r2.exit_code == 0
    assert json.loads(r2.stdout)["extracted"] == 0
    assert "2 clips: 2 already cached, 0 extracted" in r2.stderr


def test_extract_rejects_zero_workers(tiny_dataset, tmp_path):
    r = runner.invoke(
        app, ["extract", str(tiny_dataset), "--cache", str(tmp_path / "c"), "--workers", "0"]
    )
    assert r.exit_code == 2


def test_stats_writes_outputs_and_table(messy_dataset, tmp_path):
    out = tmp_path / "stats out"
    r = runner.invoke(app, ["stats", str(messy_dataset), "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in (
        "stats.json",
        "clips.csv",
        "clips_per_exercise.png",
        "durations.png",
        "durations_by_exercise.png",
    ):
        assert (out / name).is_file(), name
    assert "Dataset statistics" in r.stdout and "plank" in r.stdout
    assert "problem" in r.stdout and "notes.mp4" in r.stdout
    assert json.loads((out / "stats.json").read_text())["total_clips"] == 8


def test_stats_unwritable_out(tiny_dataset, tmp_path):
    (tmp_path / "afile").write_text("x")
    r = runner.invoke(app, ["stats", str(tiny_dataset), "--out", str(tmp_path / "afile" / "out")])
    assert r.exit_code == 1
    assert "cannot write" in _error_line(r)


def test_predict_on_an_empty_folder_says_so(tmp_path):
    from typer.testing import CliRunner

    from workout_classifier.cli import app

    (tmp_path / "notes.txt").write_text("not a video")
    r = CliRunner().invoke(app, ["predict", str(tmp_path)])
    assert r.exit_code == 1 and f"no video files in {tmp_path}" in r.stderr
    assert "Traceback" not in r.output


def test_an_unknown_answer_says_why():
    from workout_classifier.cli.use import unknown_reason

    base = {"label": "unknown", "top": [{"label": "squat", "probability": 0.6}]}
    assert unknown_reason(base) == "below the model's threshold"
    assert unknown_reason({**base, "resting": True}) == "but the body looks at rest"
    rom = {"joint": "knee", "degrees": 12.3, "min": 30.0}
    assert unknown_reason({**base, "out_of_range": True, "range_of_motion": rom}) == (
        "but the knee moves 12°, under the 30° it needs"
    )
    rom = {"joint": "elbow", "degrees": 60.2, "max": 21.0}
    assert unknown_reason({**base, "out_of_range": True, "range_of_motion": rom}) == (
        "but the elbow moves 60°, over the 21° it allows"
    )
    rule = {"measure": "hands_low", "value": 0.6, "max": 0.3, "says": "a hand is below the knees"}
    assert unknown_reason({**base, "out_of_stance": True, "stance_rule": rule}) == (
        "but a hand is below the knees"
    )


def test_a_clip_of_several_exercises_says_so_under_its_answer(capsys):
    from workout_classifier.cli import use

    answer = {"video": "/x/session.mp4", "label": "unknown", "confidence": 0.3, "error": None,
              "top": [{"label": "push up", "probability": 0.3}], "warnings": [],
              "exercises": [{"label": "squat", "seconds": 41.5}, {"label": "push up", "seconds": 44.0}]}  # fmt: skip
    use._print_predictions([answer, {**answer, "video": "/x/one.mp4", "exercises": []}])
    out = capsys.readouterr().out.replace("\n", " ")
    assert "session.mp4: several exercises (squat 42 s, push up 44 s)" in out
    assert "--timeline names each part" in out and "one.mp4: several" not in out
    assert "the timeline below names" in use.several_line(answer["exercises"], has_timeline=True)
