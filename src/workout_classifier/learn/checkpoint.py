"""A trained classifier in one file: weights, model config, classes, feature settings.

The file is one safetensors file (no pickle): the model's arrays as tensors,
and everything else (format version, model name and config, classes, feature
settings, extras such as pose settings and calibration) as JSON in the
safetensors header's metadata. safetensors reads straight into numpy, so a
numpy model (trees, the shipped default) loads and predicts without torch;
neural models import torch when they are built.

Files of the first format (`workout-classifier/1`: a torch zip written by
`torch.save`) still load where torch is installed, with torch's safe
`weights_only=True` loader; without torch they get one line saying how to
convert them (`workout convert-model OLD.pt`). Whatever the file name, `save`
writes the current format. A file that is neither gets one clear ModelFileError.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from workout_classifier import __version__
from workout_classifier.learn.augment import mirror
from workout_classifier.learn.features import FeatureConfig, to_features
from workout_classifier.learn.models import (
    MissingExtraError,
    StaleModelError,
    is_numpy,
    model_from_config,
)

FORMAT = "workout-classifier/2"  # safetensors + JSON metadata
LEGACY_FORMAT = "workout-classifier/1"  # torch.save of a dict of plain types and tensors
SUFFIX = ".safetensors"
# The shipped model. Named for its format, not ".pt": it is not a torch file and needs no torch.
DEFAULT_MODEL = Path(__file__).parents[1] / "assets" / f"default{SUFFIX}"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


class ModelFileError(Exception):
    """A model file that is missing, corrupt, not a workout-classifier checkpoint, or needs an absent extra."""


class Classifier:
    """A model with everything needed to turn raw windows into class probabilities."""

    def __init__(
        self,
        model,
        model_name: str,
        classes: list[str],
        features: FeatureConfig,
        extra: dict | None = None,
    ):
        self.model = model.eval()
        self.model_name = model_name
        self.classes = list(classes)
        self.features = features
        self.extra = dict(extra or {})  # e.g. pose settings, training metrics, unknown threshold

    def predict_windows(self, raw: np.ndarray, tta: bool = False, batch: int = 64) -> np.ndarray:
        """raw windows (W, T, V, 8) -> probabilities (W, K). `tta` averages with the mirror."""
        self.model.eval()
        views = [raw, mirror(raw)] if tta else [raw]
        temperature = float(self.extra.get("temperature", 1.0))  # calibration, see calibrate.py
        out = 0.0
        for view in views:
            x = to_features(view, self.features.streams)  # (W, T, V, C)
            out = out + _softmax(self._logits(x, batch) / temperature)
        return np.asarray(out / len(views))

    def _logits(self, x: np.ndarray, batch: int) -> np.ndarray:
        """(W, T, V, C) -> logits (W, K) as numpy, in batches; torch only for torch models."""
        if is_numpy(self.model):
            return np.concatenate([self.model(x[i : i + batch]) for i in range(0, len(x), batch)])
        import torch

        with torch.no_grad():
            t = torch.from_numpy(x)
            return torch.cat(
                [self.model(t[i : i + batch]) for i in range(0, len(t), batch)]
            ).numpy()

    def save(self, path: str | Path) -> None:
        """Write the model file (current format, whatever the name) atomically."""
        from safetensors.numpy import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT,
            "version": __version__,
            "model_name": self.model_name,
            "model_config": asdict(self.model.config),
            "classes": self.classes,
            "features": self.features.to_dict(),
            "extra": self.extra,
        }
        arrays = {k: np.ascontiguousarray(_to_numpy(v)) for k, v in self.model.state_dict().items()}
        tmp = path.with_name(path.name + ".tmp")
        save_file(
            arrays,
            str(tmp),
            metadata={"workout-classifier": json.dumps(meta, default=_json_default)},
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Classifier:
        path = Path(path) if path else DEFAULT_MODEL
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path}")
        with open(path, "rb") as f:
            head = f.read(4)
        meta, state = _read_legacy(path) if head == _ZIP_MAGIC else _read(path)
        try:  # a file with the right marker but missing or mismatched parts is still a bad file
            model = model_from_config(meta["model_name"], meta["model_config"])
            _load_state(model, state)
            return cls(model, meta["model_name"], meta["classes"], FeatureConfig.from_dict(meta["features"]),
                       meta.get("extra"))  # fmt: skip
        except (MissingExtraError, StaleModelError) as e:
            raise ModelFileError(f"model file {path}: {e}") from None
        except Exception as e:
            raise ModelFileError(
                f"model file {path} does not match its model ({e.__class__.__name__})"
            ) from None


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays) of a current-format file."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            meta = json.loads((f.metadata() or {})["workout-classifier"])
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    except Exception as e:
        raise ModelFileError(
            f"not a workout-classifier model file: {path} ({type(e).__name__})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"not a workout-classifier model file: {path}")
    return meta, state


def _read_legacy(path: Path) -> tuple[dict, dict]:
    """(metadata, tensors) of a first-format torch file; needs torch."""
    try:
        import torch
    except ModuleNotFoundError:
        if not _is_torch_archive(path):
            raise ModelFileError(f"not a workout-classifier model file: {path}") from None
        raise ModelFileError(f"{path} is an old torch model file; convert it once where torch is installed: "
                             f"workout convert-model {path}") from None  # fmt: skip
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelFileError(
            f"not a workout-classifier model file: {path} ({type(e).__name__})"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != LEGACY_FORMAT:
        raise ModelFileError(f"not a workout-classifier model file: {path}")
    return blob, blob.get("state_dict")


def _is_torch_archive(path: Path) -> bool:
    """A zip with the `data.pkl` that torch.save writes (checked without torch)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("/data.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _load_state(model, state: dict) -> None:
    """Load arrays or tensors into a numpy model or a torch module (strict, as torch's loader)."""
    if is_numpy(model):
        model.load_state_dict({k: _to_numpy(v) for k, v in state.items()})
        return
    import torch

    model.load_state_dict(
        {k: v if isinstance(v, torch.Tensor) else torch.from_numpy(v) for k, v in state.items()}
    )


def _to_numpy(v) -> np.ndarray:
    return v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def _json_default(o):
    """numpy scalars and arrays (in extras such as metrics) as plain JSON values."""
    if isinstance(o, np.generic | np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot store {type(o).__name__} in a model file")
