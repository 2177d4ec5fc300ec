"""The train / evaluate / predict commands through typer's CliRunner.

Tiny real video files are generated, and their cache entries are filled with
synthetic landmarks, so the commands run their whole path (scan, cache lookup,
features, model, report) in seconds without MediaPipe finding anyone.
"""

import json

from conftest import tiny_video
from synth import MOVES
from typer.testing import CliRunner

from workout_classifier.cli import app

runner = CliRunner()


def test_evaluate_writes_report(fake_dataset):
    data, cache, root = fake_dataset
    out = root / "eval"
    r = runner.invoke(app, ["evaluate", str(data), "--cache", str(cache), "--folds", "3", "--epochs", "3",
                            "--out", str(out), "--min-clips", "1"])  # fmt: skip
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["protocol"] == "grouped" and len(m["folds"]) == 3
    assert {"accuracy_mean", "accuracy_std", "macro_f1_mean", "per_class"} <= set(m)
    assert (out / "confusion_matrix.png").exists() and (out / "training_curves.png").exists()
    assert "accuracy" in r.output


def test_evaluate_bad_protocol_and_model(fake_dataset):
    data, cache, root = fake_dataset
    r = runner.invoke(app, ["evaluate", str(data), "--cache", str(cache), "--protocol", "nope"])
    assert r.exit_code == 1 and "unknown protocol" in r.output
    r = runner.invoke(app, ["evaluate", str(data), "--cache", str(cache), "--model", "nope"])
    assert r.exit_code == 1 and "unknown model" in r.output


def test_train_then_predict_json(fake_dataset):
    data, cache, root = fake_dataset
    model = root / "m.pt"
    r = runner.invoke(
        app,
        [
            "train",
            str(data),
            "--cache",
            str(cache),
            "--epochs",
            "4",
            "--out",
            str(model),
            "--min-clips",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert model.exists()
    from workout_classifier.learn.checkpoint import Classifier

    clf = Classifier.load(model)  # the default model reads the streams it needs, without mirror TTA
    assert (clf.model_name, clf.features.streams, clf.extra["tta"]) == ("trees", ("raw",), False)
    # The unknown gate comes from out-of-fold predictions of a whole grouped CV, every clip once.
    assert clf.extra["calibration"] == {
        "clips": 18,
        "reject_rate": 0.01,
        "live_reject_rate": 0.03,
        "on": "out-of-fold grouped CV",
        "resting_clips": 0,
        "out_of_range_clips": 0,
        "out_of_stance_clips": 0,
    }
    # Range limits for the exercises with a joint to check (motionrange.DEFINING): squat's knee.
    assert (
        clf.extra["range_limits"].keys() == {"squat"}
        and clf.extra["range_limits"]["squat"]["min"] > 10
    )
    # Stance rules for the exercises that have them (stance.RULES): a squat stands, its hands above the knees.
    assert [r["measure"] for r in clf.extra["stance_limits"]["squat"]] == [
        "torso_tilt",
        "hands_low",
    ]
    assert 0 < clf.extra["unknown_threshold"] < 1
    assert "one fit" in r.output
    videos = sorted(str(p) for p in data.rglob("*.mp4"))[:2]
    bad = root / "notes.mp4"
    bad.write_text("not a video")
    r = runner.invoke(app, ["predict", *videos, str(bad), "--model", str(model), "--cache", str(cache),
                            "--json", "--top", "2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert [x["video"] for x in res] == [*videos, str(bad)]
    for x in res[:2]:
        assert x["error"] is None and x["label"] in MOVES and len(x["top"]) == 2
        assert 0 <= x["confidence"] <= 1
    assert res[2]["label"] is None and "not a video" in res[2]["error"]


def test_predict_bad_model_file(tmp_path):
    bad = tmp_path / "m.pt"
    bad.write_text("garbage")
    video = tmp_path / "v.mp4"
    tiny_video(video, 0)
    r = runner.invoke(app, ["predict", str(video), "--model", str(bad)])
    assert r.exit_code == 1 and "not a workout-classifier model file" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_train_missing_folder(tmp_path):
    r = runner.invoke(app, ["train", str(tmp_path / "nope"), "--cache", str(tmp_path / "c")])
    assert r.exit_code == 1 and "does not exist" in r.output
