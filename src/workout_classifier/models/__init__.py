"""Model registry: every model takes x (N, T, V, C) and returns logits (N, K).

Each model module defines a `Config` dataclass and a module class whose
constructor takes that config and keeps it as `.config`, so a checkpoint that
stores `asdict(config)` and the registry name rebuilds the exact model
(nanoGPT-style). Register with `register("name", Config)(ModelClass)`; build with `create_model`.
"""

from __future__ import annotations

from dataclasses import fields

import torch.nn as nn

_REGISTRY: dict[str, tuple[type, type]] = {}


def register(name: str, config_cls: type):
    def deco(cls):
        _REGISTRY[name] = (cls, config_cls)
        cls.registry_name = name
        return cls

    return deco


def list_models() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def create_model(name: str, num_classes: int, in_channels: int, num_joints: int = 33, steps: int = 48, **overrides) -> nn.Module:
    """Build a registered model. Unknown keys in `overrides` are an error, not ignored."""
    cls, cfg_cls = _lookup(name)
    known = {f.name for f in fields(cfg_cls)}
    bad = set(overrides) - known
    if bad:
        raise ValueError(f"model {name!r} has no option(s) {sorted(bad)}; options: {sorted(known)}")
    base = dict(num_classes=num_classes, in_channels=in_channels, num_joints=num_joints, steps=steps)
    cfg = cfg_cls(**{k: v for k, v in base.items() if k in known}, **overrides)
    return cls(cfg)


def model_from_config(name: str, config: dict) -> nn.Module:
    cls, cfg_cls = _lookup(name)
    return cls(cfg_cls(**config))


def _lookup(name: str) -> tuple[type, type]:
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def input_streams(name: str) -> tuple[str, ...] | None:
    """The feature streams a model must read, where it fixes them (trees: "raw"); None: any."""
    return getattr(_lookup(name)[0], "streams", None)


def default_features(name: str):
    """Default FeatureConfig for a model: the streams it fixes (trees read "raw"), else the defaults."""
    from workout_classifier.features import FeatureConfig

    streams = input_streams(name)
    return FeatureConfig(streams=streams) if streams else FeatureConfig()


def mirror_tta(name: str) -> bool:
    """Whether averaging with the mirrored clip at test time is this model's default (as benchmarked)."""
    return bool(getattr(_lookup(name)[0], "mirror_tta", True))


def count_parameters(model: nn.Module) -> int:
    """Learned numbers: parameters, plus the buffers of fitted (non-gradient) models such as trees."""
    fitted = sum(b.numel() for m in model.modules() if getattr(m, "counts_buffers", False) for b in m.buffers())
    return sum(p.numel() for p in model.parameters()) + fitted


def _load_all() -> None:
    # Import side effects register the models; kept lazy so `import models` is cheap.
    from workout_classifier.models import cnn_lstm, ensemble, stgcn, transformer, trees  # noqa: F401
