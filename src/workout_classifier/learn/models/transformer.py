"""A small temporal transformer over per-frame pose embeddings.

Each frame's joints x channels are embedded by a two-layer MLP, a learned
position embedding is added, a few pre-norm self-attention layers mix time,
and the mean over time (plus a learned class token) feeds a linear head.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from workout_classifier.learn.models import register


@dataclass
class Config:
    num_classes: int
    in_channels: int
    num_joints: int = 33
    steps: int = 48
    dim: int = 64
    heads: int = 4
    layers: int = 2
    dropout: float = 0.2


class PoseTransformer(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = c = config
        f = c.num_joints * c.in_channels
        self.norm_in = nn.LayerNorm(f)
        self.embed = nn.Sequential(
            nn.Linear(f, c.dim), nn.GELU(), nn.Dropout(c.dropout), nn.Linear(c.dim, c.dim)
        )
        self.cls = nn.Parameter(torch.zeros(1, 1, c.dim))
        self.pos = nn.Parameter(torch.randn(1, c.steps + 1, c.dim) * 0.02)
        layer = nn.TransformerEncoderLayer(c.dim, c.heads, 2 * c.dim, c.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.norm_out = nn.LayerNorm(2 * c.dim)
        self.head = nn.Linear(2 * c.dim, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, v, ch = x.shape  # (N, T, V, C)
        h = self.embed(self.norm_in(x.reshape(n, t, v * ch)))  # (N, T, D)
        h = torch.cat([self.cls.expand(n, -1, -1), h], 1)  # (N, 1+T, D)
        h = self.encoder(h + self.pos[:, : t + 1])  # (N, 1+T, D)
        h = torch.cat([h[:, 0], h[:, 1:].mean(1)], -1)  # (N, 2D): class token and mean over time
        return self.head(self.norm_out(h))  # (N, K)


register("transformer", Config)(PoseTransformer)
