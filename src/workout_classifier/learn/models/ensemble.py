"""Late fusion: several registered models, each on its own feature streams, probabilities averaged.

The ensemble is itself a registered model, so a checkpoint holds it like any
other: its Config lists the members (registry name, member config, and the
input channels each member reads). Input x (N, T, V, C) carries the union of
the members' streams; member i sees x[..., channels_i]. The output is
log(mean_i softmax(member_i)), a valid logit vector whose softmax is exactly the
averaged probability.

Members are trained separately (`train.fit_ensemble`, also reached through
`train.fit(model_name="ensemble", model_options={"members": [spec, ...]})` where
a spec is {"model": name, "streams": [...], "options": {...}, "train": {...}}).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn

from workout_classifier.learn.models import model_from_config, register


@dataclass
class Config:
    num_classes: int
    in_channels: int
    num_joints: int = 33
    steps: int = 48
    # [{"name": registry name, "config": member Config as a dict, "channels": [input channel indices]}].
    # Empty: an ST-GCN and a transformer, both on all channels (for tests and joint training).
    members: list = field(default_factory=list)


class Ensemble(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = c = config
        if not c.members:
            base = dict(
                num_classes=c.num_classes, in_channels=c.in_channels, num_joints=c.num_joints
            )
            c.members = [
                {"name": "stgcn", "config": base, "channels": list(range(c.in_channels))},
                {
                    "name": "transformer",
                    "config": {**base, "steps": c.steps},
                    "channels": list(range(c.in_channels)),
                },
            ]
        members = [model_from_config(m["name"], dict(m["config"])) for m in c.members]
        for m, spec in zip(members, c.members, strict=True):
            if not isinstance(
                m, nn.Module
            ):  # numpy models (trees) fuse outside: average their probabilities
                raise ValueError(
                    f"{spec['name']!r} is not a torch model and cannot be an ensemble member"
                )
        self.members = nn.ModuleList(members)
        for i, m in enumerate(c.members):
            self.register_buffer(
                f"idx{i}", torch.as_tensor(list(m["channels"]), dtype=torch.long), persistent=False
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x (N, T, V, C) -> per member (N, K) log-probabilities -> log of their mean (N, K)
        logp = [
            m(x.index_select(-1, getattr(self, f"idx{i}"))).log_softmax(-1)
            for i, m in enumerate(self.members)
        ]
        return torch.logsumexp(torch.stack(logp), 0) - math.log(len(logp))


register("ensemble", Config)(Ensemble)

# The members chosen by grouped 5-fold CV (docs/experiments.md); used by `fit(model_name="ensemble")`
# when no members are given. Member "train" entries override the TrainConfig passed to fit.
STREAMS = ["joint", "bone", "motion", "vis", "detect", "gravity", "facing", "orient"]
RECOMMENDED = [
    {"model": "stgcn", "streams": STREAMS, "options": {},
     "train": {"epochs": 25, "patience": 6, "lr": 2e-3, "label_smoothing": 0.1, "windows_per_clip": 2}},
    {"model": "transformer", "streams": STREAMS, "options": {},
     "train": {"epochs": 40, "patience": 10, "label_smoothing": 0.1}},
]  # fmt: skip


def stream_channels(specs: list[dict]) -> tuple[tuple[str, ...], list[list[int]]]:
    """Union of the members' streams (first-seen order) and each member's channel indices in it."""
    from workout_classifier.learn.features import STREAM_CHANNELS

    union: list[str] = []
    for s in specs:
        union += [st for st in s["streams"] if st not in union]
    start = {st: sum(STREAM_CHANNELS[u] for u in union[: union.index(st)]) for st in union}
    return tuple(union), [
        [start[st] + j for st in s["streams"] for j in range(STREAM_CHANNELS[st])] for s in specs
    ]


def build_ensemble(
    specs: list[dict], num_classes: int, steps: int = 48, member_configs=None
) -> Ensemble:
    """An (untrained, unless member_configs come from trained members) ensemble for member specs."""
    from workout_classifier.learn.features import STREAM_CHANNELS
    from workout_classifier.learn.models import create_model

    union, channels = stream_channels(specs)
    if member_configs is None:
        member_configs = [
            asdict(
                create_model(
                    s["model"],
                    num_classes,
                    sum(STREAM_CHANNELS[t] for t in s["streams"]),
                    steps=steps,
                    **(s.get("options") or {}),
                ).config
            )
            for s in specs
        ]
    members = [
        {"name": s["model"], "config": mc, "channels": ch}
        for s, mc, ch in zip(specs, member_configs, channels, strict=True)
    ]
    return Ensemble(Config(num_classes=num_classes, in_channels=sum(STREAM_CHANNELS[t] for t in union),
                           steps=steps, members=members))  # fmt: skip
