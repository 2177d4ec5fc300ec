"""The reference design's CNN-LSTM, layer for layer.

Conv1D 64 + BatchNorm + MaxPool + Dropout -> LSTM 128 (sequences) -> LSTM 64
-> BatchNorm + Dropout -> Dense 64 + BatchNorm -> Dense K (softmax in the loss).
Joints and channels are flattened per time step, as the reference fed a flat
feature vector per frame.
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
    conv_filters: int = 64
    kernel_size: int = 3
    lstm1: int = 128
    lstm2: int = 64
    dense: int = 64
    dropout: float = 0.3


class CNNLSTM(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.config = c = config
        f = c.num_joints * c.in_channels
        self.conv = nn.Conv1d(f, c.conv_filters, c.kernel_size, padding=c.kernel_size // 2)
        self.bn1 = nn.BatchNorm1d(c.conv_filters)
        self.pool = nn.MaxPool1d(2)
        self.drop1 = nn.Dropout(c.dropout)
        self.lstm1 = nn.LSTM(c.conv_filters, c.lstm1, batch_first=True)
        self.lstm2 = nn.LSTM(c.lstm1, c.lstm2, batch_first=True)
        self.bn2 = nn.BatchNorm1d(c.lstm2)
        self.drop2 = nn.Dropout(c.dropout)
        self.dense = nn.Linear(c.lstm2, c.dense)
        self.bn3 = nn.BatchNorm1d(c.dense)
        self.head = nn.Linear(c.dense, c.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, v, ch = x.shape  # (N, T, V, C)
        h = x.reshape(n, t, v * ch).transpose(1, 2)  # (N, F, T)
        h = self.drop1(self.pool(torch.relu(self.bn1(self.conv(h)))))  # (N, 64, T/2)
        h, _ = self.lstm1(h.transpose(1, 2))  # (N, T/2, 128)
        h, _ = self.lstm2(h)  # (N, T/2, 64)
        h = self.drop2(self.bn2(h[:, -1]))  # (N, 64)
        h = self.bn3(torch.relu(self.dense(h)))  # (N, 64)
        return self.head(h)  # (N, K)


register("cnn-lstm", Config)(CNNLSTM)
