"""Every registered model: forward shape, no NaN, checkpoint round trip."""

import numpy as np
import pytest
import torch

from workout_classifier.checkpoint import Classifier, ModelFileError
from workout_classifier.features import FeatureConfig
from workout_classifier.models import count_parameters, create_model, list_models


@pytest.mark.parametrize("name", list_models())
def test_forward_shape_and_finite(name):
    torch.manual_seed(0)
    # 8 channels: what every model can read, including trees, which summarise the raw stream.
    model = create_model(name, num_classes=5, in_channels=8, steps=48).eval()
    x = torch.randn(4, 48, 33, 8)  # (N, T, V, C)
    y = model(x)
    assert y.shape == (4, 5)
    assert torch.isfinite(y).all()
    assert count_parameters(model) > 0


@pytest.mark.parametrize("name", list_models())
def test_train_mode_backward(name):
    model = create_model(name, num_classes=3, in_channels=8, steps=32).train()
    if hasattr(model, "fit_windows"):
        pytest.skip(f"{name} is fitted in one go, not trained by gradient (tests/test_trees.py)")
    loss = model(torch.randn(3, 32, 33, 8)).logsumexp(-1).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


def test_unknown_model_and_option():
    with pytest.raises(ValueError, match="unknown model"):
        create_model("nope", num_classes=2, in_channels=3)
    with pytest.raises(ValueError, match="no option"):
        create_model("cnn-lstm", num_classes=2, in_channels=3, not_an_option=1)


def test_checkpoint_round_trip(tmp_path):
    feats = FeatureConfig(steps=32, streams=("joint", "vis"))
    model = create_model("cnn-lstm", num_classes=3, in_channels=feats.channels, steps=32, lstm1=16)
    clf = Classifier(model, "cnn-lstm", ["a", "b", "c"], feats, {"pose": {"fps": 15.0}})
    path = tmp_path / "m.pt"
    clf.save(path)
    back = Classifier.load(path)
    assert back.classes == ["a", "b", "c"]
    assert back.features == feats
    assert back.model.config.lstm1 == 16
    raw = np.random.default_rng(0).normal(0.5, 0.1, (2, 32, 33, 8)).astype(np.float32)
    np.testing.assert_allclose(back.predict_windows(raw), clf.predict_windows(raw), atol=1e-6)


@pytest.mark.parametrize("content", [b"", b"hello, not a model", b"PK\x03\x04garbage"])
def test_bad_model_file(tmp_path, content):
    p = tmp_path / "bad.pt"
    p.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a workout-classifier model"):
        Classifier.load(p)


def test_missing_and_foreign_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        Classifier.load(tmp_path / "missing.pt")
    p = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, p)
    with pytest.raises(ModelFileError):
        Classifier.load(p)
