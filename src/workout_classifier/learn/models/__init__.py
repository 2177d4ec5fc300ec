"""Model registry: every model takes x (N, T, V, C) and returns logits (N, K).

Each model module defines a `Config` dataclass and a model class whose
constructor takes that config and keeps it as `.config`, so a checkpoint that
stores `asdict(config)` and the registry name rebuilds the exact model
(nanoGPT-style). Register with `register("name", Config)(ModelClass)`; build with `create_model`.

Models come in two kinds. Neural models are torch modules (torch is the
optional `neural` extra). Fitted models (trees) are numpy: they take and return
numpy arrays, keep numpy arrays in `state_dict()`, and set `numpy_inference =
True`. Each model module is imported only when its name is asked for, so
listing models or predicting with trees never imports torch.
"""

from __future__ import annotations

import importlib
from dataclasses import fields

# name -> module under workout_classifier.learn.models; whether it needs torch.
_MODULES = {"cnn-lstm": "cnn_lstm", "ensemble": "ensemble", "stgcn": "stgcn", "transformer": "transformer",
            "trees": "trees"}  # fmt: skip
NEURAL = frozenset({"cnn-lstm", "ensemble", "stgcn", "transformer"})
INSTALL_NEURAL = "pip install 'workout-classifier[neural]'"

_REGISTRY: dict[str, tuple[type, type]] = {}


class MissingExtraError(ImportError):
    """A model that needs an optional dependency (torch) which is not installed."""


class StaleModelError(ValueError):
    """A model file made by an older version whose inputs this version computes differently."""


def register(name: str, config_cls: type):
    def deco(cls):
        _REGISTRY[name] = (cls, config_cls)
        cls.registry_name = name
        return cls

    return deco


def list_models() -> list[str]:
    """Every model name, whether or not its optional dependencies are installed."""
    return sorted(_MODULES)


def available(name: str) -> bool:
    """Whether `name` can be built here (a neural model needs torch)."""
    try:
        _lookup(name)
    except MissingExtraError:
        return False
    return True


def create_model(
    name: str,
    num_classes: int,
    in_channels: int,
    num_joints: int = 33,
    steps: int = 48,
    **overrides,
):
    """Build a registered model. Unknown keys in `overrides` are an error, not ignored."""
    cls, cfg_cls = _lookup(name)
    known = {f.name for f in fields(cfg_cls)}
    bad = set(overrides) - known
    if bad:
        raise ValueError(f"model {name!r} has no option(s) {sorted(bad)}; options: {sorted(known)}")
    base = dict(
        num_classes=num_classes, in_channels=in_channels, num_joints=num_joints, steps=steps
    )
    cfg = cfg_cls(**{k: v for k, v in base.items() if k in known}, **overrides)
    return cls(cfg)


def model_from_config(name: str, config: dict):
    """Rebuild a model from its stored config (JSON gives lists where the config had tuples)."""
    cls, cfg_cls = _lookup(name)
    tuples = {f.name for f in fields(cfg_cls) if isinstance(f.default, tuple)}
    return cls(
        cfg_cls(
            **{k: tuple(v) if k in tuples and isinstance(v, list) else v for k, v in config.items()}
        )
    )


def _lookup(name: str) -> tuple[type, type]:
    if name not in _MODULES:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    if name not in _REGISTRY:  # importing the module registers it
        try:
            importlib.import_module(f"workout_classifier.learn.models.{_MODULES[name]}")
        except ModuleNotFoundError as e:
            if e.name != "torch" and not (e.name or "").startswith("torch."):
                raise
            raise MissingExtraError(
                f"model {name!r} needs torch, which is not installed: {INSTALL_NEURAL}"
            ) from None
    return _REGISTRY[name]


def input_streams(name: str) -> tuple[str, ...] | None:
    """The feature streams a model must read, where it fixes them (trees: "raw"); None: any."""
    return getattr(_lookup(name)[0], "streams", None)


def default_features(name: str):
    """Default FeatureConfig for a model: the streams it fixes (trees read "raw"), else the defaults."""
    from dataclasses import replace

    from workout_classifier.learn.features import FeatureConfig

    streams = input_streams(name)
    cfg = FeatureConfig(streams=streams) if streams else FeatureConfig()
    unit = getattr(
        _lookup(name)[0], "unit", None
    )  # what one window holds, where the model fixes it
    return replace(cfg, unit=unit) if unit else cfg


def mirror_tta(name: str) -> bool:
    """Whether averaging with the mirrored clip at test time is this model's default (as benchmarked)."""
    return bool(getattr(_lookup(name)[0], "mirror_tta", True))


def is_numpy(model) -> bool:
    """A fitted numpy model (trees), as opposed to a torch module."""
    return bool(getattr(model, "numpy_inference", False))


def count_parameters(model) -> int:
    """Learned numbers: parameters, plus the arrays of fitted (non-gradient) models such as trees."""
    if is_numpy(model):
        return int(sum(a.size for a in model.state_dict().values()))
    fitted = sum(
        b.numel()
        for m in model.modules()
        if getattr(m, "counts_buffers", False)
        for b in m.buffers()
    )
    return sum(p.numel() for p in model.parameters()) + fitted
