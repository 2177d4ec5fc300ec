"""Model files: safetensors + JSON, loaded without torch for numpy models; bad files; old torch files."""

import json
import struct
import sys
import zipfile

import numpy as np
import pytest
from synth import synthetic_tracks
from typer.testing import CliRunner

from workout_classifier.cli import app
from workout_classifier.learn import models
from workout_classifier.learn.checkpoint import DEFAULT_MODEL, FORMAT, Classifier, ModelFileError
from workout_classifier.learn.features import FeatureConfig, eval_windows
from workout_classifier.learn.train import TrainConfig, fit

FEATS = FeatureConfig(steps=24, streams=("raw",))
runner = CliRunner()


@pytest.fixture
def no_torch(monkeypatch):
    """As if torch were not installed: `import torch` fails and no neural model is registered yet."""
    for name in models.list_models():  # the numpy models registered in the real registry first:
        if name not in models.NEURAL:  # one first imported into the stand-in would be lost after it
            models._lookup(name)
    monkeypatch.setitem(sys.modules, "torch", None)
    for name in models.NEURAL:  # a module imported earlier would not register itself again
        monkeypatch.delitem(
            sys.modules, f"workout_classifier.learn.models.{models._MODULES[name]}", raising=False
        )
    kept = {k: v for k, v in models._REGISTRY.items() if k not in models.NEURAL}
    monkeypatch.setattr(models, "_REGISTRY", kept)


@pytest.fixture(scope="module")
def trees_clf():
    tracks, y, groups, classes = synthetic_tracks(n_per_class=4, seconds=6.0)
    clf, _ = fit(tracks, y, groups, classes, "trees", FEATS, TrainConfig(seed=0), {"trees": 12})
    raw, _ = eval_windows(tracks, FEATS)
    return clf, raw


def test_file_is_safetensors_with_versioned_json_header(trees_clf, tmp_path):
    clf, _ = trees_clf
    clf.extra["score"] = np.float32(0.5)  # numpy scalars in extras are stored as plain numbers
    path = tmp_path / "m.safetensors"
    clf.save(path)
    n = struct.unpack("<Q", path.read_bytes()[:8])[0]
    header = json.loads(path.read_bytes()[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["workout-classifier"])
    assert (
        meta["format"] == FORMAT
        and meta["model_name"] == "trees"
        and meta["classes"] == clf.classes
    )
    assert {"feature", "threshold", "left", "right", "value"} <= set(header)
    assert header["value"]["dtype"] == "F16"
    assert not list(tmp_path.glob("*.tmp"))  # written atomically


def test_numpy_model_loads_and_predicts_without_torch(trees_clf, tmp_path, no_torch):
    clf, raw = trees_clf
    clf.save(tmp_path / "m.safetensors")
    back = Classifier.load(tmp_path / "m.safetensors")
    np.testing.assert_allclose(back.predict_windows(raw), clf.predict_windows(raw), atol=1e-6)
    assert "torch" not in {k for k, v in sys.modules.items() if v is not None}


def test_shipped_model_is_numpy(no_torch):
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"no shipped model at {DEFAULT_MODEL}")
    clf = Classifier.load()
    assert models.is_numpy(clf.model)
    p = clf.predict_windows(
        np.random.default_rng(0).normal(0.5, 0.2, (3, 48, 33, 8)).astype(np.float32)
    )
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)


def test_shipped_model_matches_the_default_pose_settings():
    """A default that changes (fps, recovery, main person, pose version) needs the shipped model
    retrained on it: predict reads clips with the model's own settings, but train, evaluate and
    the benchmarks use the defaults, and their figures describe the shipped model only if they agree."""
    from workout_classifier.pose.landmarks import PoseSettings

    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"no shipped model at {DEFAULT_MODEL}")
    pose = dict(Classifier.load().extra["pose"])
    version = pose.pop("version", PoseSettings.VERSION)
    assert PoseSettings(**pose) == PoseSettings() and version == PoseSettings.VERSION, pose


def test_neural_model_without_torch_is_one_line(tmp_path, no_torch):
    with pytest.raises(models.MissingExtraError, match=r"workout-classifier\[neural\]"):
        models.create_model("cnn-lstm", num_classes=2, in_channels=3)
    assert not models.available("stgcn") and models.available("trees")
    r = runner.invoke(app, ["train", str(tmp_path), "--model", "cnn-lstm"])
    assert r.exit_code == 1 and "pip install 'workout-classifier[neural]'" in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, ["models"])
    assert r.exit_code == 0 and "cnn-lstm  (needs torch" in r.output and "\ntrees\n" in r.output


def test_neural_model_file_without_torch_names_the_extra(tmp_path, no_torch):
    from safetensors.numpy import save_file

    meta = {"format": FORMAT, "model_name": "cnn-lstm", "model_config": {"num_classes": 2, "in_channels": 3},
            "classes": ["a", "b"], "features": {}, "extra": {}}  # fmt: skip
    save_file({"w": np.zeros(2, np.float32)}, str(tmp_path / "n.safetensors"),
              metadata={"workout-classifier": json.dumps(meta)})  # fmt: skip
    with pytest.raises(ModelFileError, match=r"needs torch.*\[neural\]"):
        Classifier.load(tmp_path / "n.safetensors")


@pytest.mark.parametrize(
    "content", [b"", b"hello, not a model", b"PK\x03\x04garbage", b"\x10" + b"\x00" * 7 + b"{}"]
)
def test_bad_model_file(tmp_path, content):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a workout-classifier model"):
        Classifier.load(p)


def test_missing_and_foreign_model_file(tmp_path):
    from safetensors.numpy import save_file

    with pytest.raises(ModelFileError, match="not found"):
        Classifier.load(tmp_path / "missing.safetensors")
    save_file(
        {"w": np.zeros(2, np.float32)}, str(tmp_path / "other.safetensors")
    )  # someone else's weights
    with pytest.raises(ModelFileError, match="not a workout-classifier model"):
        Classifier.load(tmp_path / "other.safetensors")


def test_arrays_that_do_not_match_the_config(trees_clf, tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    clf, _ = trees_clf
    clf.save(tmp_path / "m.safetensors")
    with safe_open(str(tmp_path / "m.safetensors"), framework="np") as f:
        meta, state = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    state["left"] = state["left"][:, :1]
    save_file(state, str(tmp_path / "cut.safetensors"), metadata=meta)
    with pytest.raises(ModelFileError, match="does not match its model"):
        Classifier.load(tmp_path / "cut.safetensors")


def test_old_torch_file_without_torch_says_how_to_convert(tmp_path, no_torch):
    old = tmp_path / "old.pt"
    with zipfile.ZipFile(old, "w") as z:  # the layout torch.save writes
        z.writestr("old/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(ModelFileError, match=r"old torch model file.*workout convert-model"):
        Classifier.load(old)


@pytest.mark.neural
def test_old_torch_file_loads_and_converts(trees_clf, tmp_path):
    import torch

    from workout_classifier.learn.checkpoint import LEGACY_FORMAT

    clf, raw = trees_clf
    old = tmp_path / "old.pt"
    torch.save({"format": LEGACY_FORMAT, "model_name": "trees", "model_config": vars(clf.model.config),
                "state_dict": {k: torch.from_numpy(v) for k, v in clf.model.state_dict().items()},
                "classes": clf.classes, "features": clf.features.to_dict(), "extra": {"tta": False}}, old)  # fmt: skip
    np.testing.assert_allclose(
        Classifier.load(old).predict_windows(raw), clf.predict_windows(raw), atol=1e-6
    )
    r = runner.invoke(app, ["convert-model", str(old)])
    assert r.exit_code == 0, r.output
    new = tmp_path / "old.safetensors"
    np.testing.assert_allclose(
        Classifier.load(new).predict_windows(raw), clf.predict_windows(raw), atol=1e-6
    )
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ModelFileError):
        Classifier.load(tmp_path / "foreign.pt")
