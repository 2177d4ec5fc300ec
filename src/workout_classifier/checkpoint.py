"""A trained classifier in one file: weights, model config, classes, feature settings.

`Classifier.save` writes a dict of plain types and tensors, so `load` uses
torch's safe `weights_only=True` loader and rebuilds the model from its stored
config; a file that is not such a checkpoint gets one clear ModelFileError.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from workout_classifier import __version__
from workout_classifier.features import FeatureConfig, mirror, to_features
from workout_classifier.models import model_from_config

FORMAT = "workout-classifier/1"
DEFAULT_MODEL = Path(__file__).parent / "assets" / "default.pt"


class ModelFileError(Exception):
    """A model file that is missing, corrupt, or not a workout-classifier checkpoint."""


class Classifier:
    """A model with everything needed to turn raw windows into class probabilities."""

    def __init__(self, model: torch.nn.Module, model_name: str, classes: list[str],
                 features: FeatureConfig, extra: dict | None = None):  # fmt: skip
        self.model = model.eval()
        self.model_name = model_name
        self.classes = list(classes)
        self.features = features
        self.extra = dict(extra or {})  # e.g. pose settings, training metrics, unknown threshold

    @torch.no_grad()
    def predict_windows(self, raw: np.ndarray, tta: bool = False, batch: int = 64) -> np.ndarray:
        """raw windows (W, T, V, 8) -> probabilities (W, K). `tta` averages with the mirror."""
        self.model.eval()
        views = [raw, mirror(raw)] if tta else [raw]
        temperature = float(self.extra.get("temperature", 1.0))  # calibration, see calibrate.py
        out = 0.0
        for view in views:
            x = torch.from_numpy(to_features(view, self.features.streams))  # (W, T, V, C)
            logits = torch.cat([self.model(x[i : i + batch]) for i in range(0, len(x), batch)])
            out = out + torch.softmax(logits / temperature, -1).numpy()
        return np.asarray(out / len(views))

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = {
            "format": FORMAT,
            "version": __version__,
            "model_name": self.model_name,
            "model_config": asdict(self.model.config),
            "state_dict": self.model.state_dict(),
            "classes": self.classes,
            "features": self.features.to_dict(),
            "extra": self.extra,
        }
        tmp = path.with_name(path.name + ".tmp")
        torch.save(blob, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Classifier:
        path = Path(path) if path else DEFAULT_MODEL
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path}")
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise ModelFileError(f"not a workout-classifier model file: {path} ({type(e).__name__})") from None
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            raise ModelFileError(f"not a workout-classifier model file: {path}")
        try:  # a file with the right marker but missing or mismatched parts is still a bad file
            model = model_from_config(blob["model_name"], blob["model_config"])
            model.load_state_dict(blob["state_dict"])
            return cls(model, blob["model_name"], blob["classes"], FeatureConfig.from_dict(blob["features"]),
                       blob.get("extra"))  # fmt: skip
        except Exception as e:
            raise ModelFileError(f"model file {path} does not match its model ({e.__class__.__name__})") from None
