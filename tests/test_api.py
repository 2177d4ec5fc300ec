"""The Python API (workout_classifier.api): the README's example as written, and what it promises."""

import json
import shutil

import pytest
from conftest import real_clip, write_video
from typer.testing import CliRunner

import workout_classifier as wc
from workout_classifier.api import Result, video_sources


@pytest.mark.slow
def test_readme_example_runs_as_written(real_clips, tmp_path, monkeypatch):
    shutil.copy(real_clip(real_clips, "squat/squat_correct_001.mp4"), tmp_path / "clip.mp4")
    monkeypatch.chdir(tmp_path)
    # -- as in the README and in api.py's docstring --
    import workout_classifier as wc

    model = wc.load_model()  # the shipped model, or wc.load_model("mine.safetensors")
    r = model.predict(
        "clip.mp4", reps=True, timeline=True
    )  # a list of results for a list of sources
    r.label, r.confidence, r.top, r.reps, r.timeline, r.to_dict()
    # -- what it gives --
    assert isinstance(r, Result) and r.error is None
    assert r.label in model.classes + ["unknown"] and 0 < r.confidence <= 1
    assert (
        r.top[0]["label"] in model.classes
        and isinstance(r.reps, int)
        and isinstance(r.timeline, list)
    )
    d = r.to_dict()
    assert d["video"] == "clip.mp4" and d["label"] == r.label and d["reps"] == r.reps
    # to_dict() is exactly what `workout predict --json` prints for the same clip
    from workout_classifier.cli import app

    out = CliRunner().invoke(app, ["predict", "clip.mp4", "--json", "--reps", "--timeline"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == [d]
    assert json.loads(r.to_json()) == d


def test_a_list_gives_a_list_and_a_bad_clip_its_error(tmp_path):
    clip = write_video(tmp_path / "ball.mp4", frames=12, fps=12)
    model = wc.load_model()
    rs = model.predict([clip, tmp_path / "missing.mp4"])
    assert isinstance(rs, list) and len(rs) == 2
    assert rs[0].label is None and rs[0].error  # a drawing: nobody to see
    assert rs[1].error == "file not found"
    one = model.predict(clip)
    assert isinstance(one, Result) and one.error == rs[0].error


def test_a_folder_is_its_videos(tmp_path):
    for name in ("b.mp4", "a.MOV", "sub/c.webm"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.split("/")[-1] for p in video_sources(tmp_path)] == ["a.MOV", "b.mp4", "c.webm"]
    assert video_sources(["x.mp4", tmp_path / "sub"]) == ["x.mp4", str(tmp_path / "sub" / "c.webm")]


def test_wrong_model_file_raises_the_model_file_error(tmp_path):
    from workout_classifier.learn.checkpoint import ModelFileError

    bad = tmp_path / "m.safetensors"
    bad.write_text("not a model")
    with pytest.raises(ModelFileError):
        wc.load_model(bad)


def test_extract_of_a_missing_folder_raises_and_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder or video"):
        wc.extract(tmp_path / "missing", cache=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_extract_train_evaluate_on_a_dataset(fake_dataset, tmp_path):
    data, cache, _ = fake_dataset
    summary = wc.extract(data, cache=cache)
    assert summary.total == 18 and summary.cached == 18 and summary.extracted == 0
    out = tmp_path / "m.safetensors"
    model = wc.train(data, cache=cache, out=out, min_clips=1, epochs=3)
    assert out.is_file() and wc.load_model(out).classes == model.classes == sorted(model.classes)
    m = wc.evaluate(data, cache=cache, folds=3, min_clips=1, epochs=3)
    assert m["protocol"] == "grouped" and len(m["folds"]) == 3 and 0 <= m["accuracy_mean"] <= 1
    with pytest.raises(ValueError, match="unknown protocol"):
        wc.evaluate(data, cache=cache, protocol="nope", min_clips=1)
