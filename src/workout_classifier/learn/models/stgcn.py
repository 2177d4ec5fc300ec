"""A compact spatial-temporal graph convolution network (ST-GCN, Yan et al. 2018).

The graph is MediaPipe's skeleton (pose.BONES). Each block mixes joints with a
graph convolution over three adjacency subsets (self, towards the hip, away from
the hip; symmetric-normalized) plus a learned additive adjacency as in 2s-AGCN,
then mixes time with a 9x1 convolution; residual connections throughout.
Global average pooling over time and joints, then a linear head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from workout_classifier.learn.models import register
from workout_classifier.pose.landmarks import BONES, NUM_JOINTS


@dataclass
class Config:
    num_classes: int
    in_channels: int
    num_joints: int = 33
    channels: tuple = (32, 48, 64)  # output channels per block
    strides: tuple = (2, 2, 1)  # temporal stride per block
    temporal_kernel: int = 9
    dropout: float = 0.2


def skeleton_adjacency(num_joints: int = NUM_JOINTS) -> np.ndarray:
    """(3, V, V): identity, inward (child -> parent) and outward edges, each D^-1/2 A D^-1/2."""
    inward = np.zeros((num_joints, num_joints), dtype=np.float32)
    for child, parent in BONES:
        if child < num_joints and parent < num_joints:
            inward[child, parent] = 1.0
    deg = inward.sum(0) + inward.sum(1) + 1.0  # undirected degree incl. self loop
    norm = deg[:, None] ** -0.5 * inward * deg[None, :] ** -0.5
    return np.stack([np.eye(num_joints, dtype=np.float32), norm, norm.T.copy()])


class GraphConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, adjacency: np.ndarray):
        super().__init__()
        self.register_buffer("A", torch.from_numpy(adjacency))  # (S, V, V)
        self.B = nn.Parameter(torch.zeros_like(self.A))  # learned extra edges
        s = adjacency.shape[0]
        self.conv = nn.Conv2d(c_in, c_out * s, 1)
        self.s, self.c_out = s, c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape  # (N, C, T, V)
        h = self.conv(x).view(n, self.s, self.c_out, t, v)  # (N, S, C', T, V)
        h = h.reshape(n, self.s, self.c_out * t, v) @ (self.A + self.B).unsqueeze(
            0
        )  # (N, S, C'*T, V)
        return h.sum(1).view(n, self.c_out, t, v)  # (N, C', T, V)


class STBlock(nn.Module):
    def __init__(
        self, c_in: int, c_out: int, adjacency: np.ndarray, stride: int, kernel: int, dropout: float
    ):
        super().__init__()
        self.gcn = GraphConv(c_in, c_out, adjacency)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.tcn = nn.Sequential(
            nn.Conv2d(c_out, c_out, (kernel, 1), (stride, 1), (kernel // 2, 0)),
            nn.BatchNorm2d(c_out),
            nn.Dropout(dropout),
        )
        if c_in == c_out and stride == 1:
            self.res = nn.Identity()
        else:
            self.res = nn.Sequential(nn.Conv2d(c_in, c_out, 1, (stride, 1)), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, T, V) -> (N, C', T/stride, V)
        h = torch.relu(self.bn1(self.gcn(x)))
        return torch.relu(self.tcn(h) + self.res(x))


class STGCN(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = c = config
        adj = skeleton_adjacency(c.num_joints)
        self.data_bn = nn.BatchNorm1d(c.in_channels * c.num_joints)
        blocks, c_in = [], c.in_channels
        for c_out, stride in zip(c.channels, c.strides, strict=True):
            blocks.append(STBlock(c_in, c_out, adj, stride, c.temporal_kernel, c.dropout))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c_in, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, v, ch = x.shape  # (N, T, V, C)
        h = self.data_bn(x.permute(0, 2, 3, 1).reshape(n, v * ch, t))  # (N, V*C, T)
        h = h.view(n, v, ch, t).permute(0, 2, 3, 1)  # (N, C, T, V)
        h = self.blocks(h)  # (N, C', T', V)
        return self.head(self.drop(h.mean(dim=(2, 3))))  # (N, K)


register("stgcn", Config)(STGCN)
