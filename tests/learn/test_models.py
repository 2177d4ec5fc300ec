"""Every neural model: forward shape, no NaN, gradients, checkpoint round trip (needs torch)."""

import numpy as np
import pytest

from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.learn.features import FeatureConfig
from workout_classifier.learn.models import NEURAL, count_parameters, create_model

pytestmark = pytest.mark.neural
torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_forward_shape_and_finite(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=5, in_channels=8, steps=48).eval()
    x = torch.randn(4, 48, 33, 8)  # (N, T, V, C)
    y = model(x)
    assert y.shape == (4, 5)
    assert torch.isfinite(y).all()
    assert count_parameters(model) > 0


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_train_mode_backward(name):
    model = create_model(name, num_classes=3, in_channels=8, steps=32).train()
    loss = model(torch.randn(3, 32, 33, 8)).logsumexp(-1).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


def test_unknown_option():
    with pytest.raises(ValueError, match="no option"):
        create_model("cnn-lstm", num_classes=2, in_channels=3, not_an_option=1)


def test_checkpoint_round_trip(tmp_path):
    feats = FeatureConfig(steps=32, streams=("joint", "vis"))
    model = create_model("cnn-lstm", num_classes=3, in_channels=feats.channels, steps=32, lstm1=16)
    clf = Classifier(model, "cnn-lstm", ["a", "b", "c"], feats, {"pose": {"fps": 15.0}})
    path = tmp_path / "m.safetensors"
    clf.save(path)
    back = Classifier.load(path)
    assert back.classes == ["a", "b", "c"]
    assert back.features == feats
    assert back.model.config.lstm1 == 16
    raw = np.random.default_rng(0).normal(0.5, 0.1, (2, 32, 33, 8)).astype(np.float32)
    np.testing.assert_allclose(back.predict_windows(raw), clf.predict_windows(raw), atol=1e-6)


def test_tuple_options_survive_the_json_config(tmp_path):
    model = create_model("stgcn", num_classes=2, in_channels=3, channels=(8, 8), strides=(2, 1))
    Classifier(model, "stgcn", ["a", "b"], FeatureConfig(streams=("joint",))).save(
        tmp_path / "g.safetensors"
    )
    back = Classifier.load(tmp_path / "g.safetensors")
    assert back.model.config == model.config  # (8, 8) comes back a tuple, not a list


def test_trees_cannot_join_a_torch_ensemble():
    from workout_classifier.learn.models.ensemble import build_ensemble

    specs = [{"model": "trees", "streams": ["raw"]}, {"model": "stgcn", "streams": ["joint"]}]
    with pytest.raises(ValueError, match="not a torch model"):
        build_ensemble(specs, num_classes=3)


def test_training_keeps_the_epoch_with_the_best_validation_accuracy(monkeypatch):
    """The class-weighted validation loss may rise from the first epoch while more clips come out
    right: the epoch kept is the most accurate one (the lower loss among equals), not the first."""
    from synth import synthetic_tracks

    from workout_classifier.learn import train

    scripted = iter(
        [(1.0, 0.40), (1.1, 0.60), (1.2, 0.80), (1.3, 0.80), (0.9, 0.50)] + [(2.0, 0.3)] * 20
    )
    monkeypatch.setattr(train, "_validate", lambda *a, **k: next(scripted))
    tracks, y, groups, classes = synthetic_tracks(n_per_class=4)
    cfg = train.TrainConfig(epochs=8, patience=3, windows_per_clip=1, seed=0, threads=1)
    _, hist = train.fit(tracks, y, groups, classes, "cnn-lstm", FeatureConfig(steps=16), cfg)
    assert hist["best_epoch"] == 3  # 0.80 first reached there, at the lower loss of the two
    assert len(hist["val_acc"]) == 6  # stopped 3 epochs after it
