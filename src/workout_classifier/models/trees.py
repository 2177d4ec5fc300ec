"""Pose trees: extremely randomized trees over window summaries, held as tensors.

Input x (N, T, V, 8) is the "raw" feature stream (image x/y/z/visibility, world
x/y/z, detected); `summary.window_summary` turns each window into a vector of
readable statistics and the trees vote. On a few hundred clips, trees over good
summaries match or beat the sequence networks and make different mistakes, so
they are a strong ensemble member.

Trees are fitted, not trained by gradient: `fit_windows` grows scikit-learn's
ExtraTreesClassifier and copies every tree into buffers (feature, threshold,
children, leaf class distribution), so the checkpoint is a plain state_dict
(no pickle) and inference is a few gathers per tree level. The Config records
the buffer sizes so that loading rebuilds the model. Before fitting, the model
is one leaf with uniform probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from workout_classifier.models import register
from workout_classifier.summary import window_summary


@dataclass
class Config:
    num_classes: int
    in_channels: int = 8
    num_joints: int = 33
    steps: int = 48
    trees: int = 200
    min_leaf: int = 2  # samples per leaf: smaller trees, smoother votes
    seed: int = 0
    # Set by fit_windows: the buffers' sizes.
    nodes: int = 1  # nodes of the largest tree
    depth: int = 0  # levels of the deepest tree
    n_trees: int = 1


class PoseTrees(nn.Module):
    counts_buffers = True  # its size is in the trees, not in parameters
    mirror_tta = False  # averaging with the mirrored clip did not help the trees (bench/results/accuracy.md)
    streams = ("raw",)

    def __init__(self, config: Config):
        super().__init__()
        if config.in_channels != 8:
            raise ValueError(f"trees read the 'raw' feature stream (8 channels), not {config.in_channels} channels")
        self.config = c = config
        shape = (c.n_trees, c.nodes)
        self.register_buffer("feature", torch.zeros(shape, dtype=torch.int32))
        self.register_buffer("threshold", torch.zeros(shape, dtype=torch.float32))
        # A leaf points to itself on both sides, so walking `depth` levels always ends on a leaf.
        self.register_buffer("left", torch.zeros(shape, dtype=torch.int32))
        self.register_buffer("right", torch.zeros(shape, dtype=torch.int32))
        self.register_buffer("value", torch.full((*shape, c.num_classes), 1.0 / c.num_classes, dtype=torch.float16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x (N, T, V, 8) -> summaries (N, D) -> mean leaf distribution over trees (N, K) -> log-probabilities
        s = torch.from_numpy(window_summary(x.detach().cpu().numpy()))
        n, t = len(s), self.config.n_trees
        node = torch.zeros((n, t), dtype=torch.long)
        tree = torch.arange(t).expand(n, t)
        for _ in range(self.config.depth):
            f = self.feature[tree, node].long()  # (N, trees)
            go_left = s.gather(1, f) <= self.threshold[tree, node]
            node = torch.where(go_left, self.left[tree, node], self.right[tree, node]).long()
        probs = self.value[tree, node].float().mean(1)  # (N, K)
        return torch.log(probs.clamp_min(1e-6))

    def fit_windows(self, raw: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> PoseTrees:
        """Grow the trees on raw windows (N, T, V, 8) with labels y (N,) and sample weights."""
        from sklearn.ensemble import ExtraTreesClassifier

        c = self.config
        et = ExtraTreesClassifier(n_estimators=c.trees, min_samples_leaf=c.min_leaf, class_weight="balanced",
                                  random_state=c.seed, n_jobs=1)  # fmt: skip
        et.fit(window_summary(raw), y, sample_weight=weight)
        trees = [e.tree_ for e in et.estimators_]
        c.n_trees, c.nodes = len(trees), max(tr.node_count for tr in trees)
        c.depth = max(tr.max_depth for tr in trees)
        shape = (c.n_trees, c.nodes)
        feature, threshold = np.zeros(shape, np.int32), np.zeros(shape, np.float32)
        left, right = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
        value = np.zeros((*shape, c.num_classes), np.float32)
        for i, tr in enumerate(trees):
            m = tr.node_count
            leaf = tr.children_left == -1
            own = np.arange(m)
            feature[i, :m] = np.where(leaf, 0, tr.feature)
            threshold[i, :m] = tr.threshold
            left[i, :m] = np.where(leaf, own, tr.children_left)
            right[i, :m] = np.where(leaf, own, tr.children_right)
            v = tr.value[:, 0, :]
            v = v / np.maximum(v.sum(-1, keepdims=True), 1e-12)  # class shares at the node
            value[i, :m][:, et.classes_] = v  # classes absent from training keep probability 0
        for name, arr in dict(feature=feature, threshold=threshold, left=left, right=right).items():
            setattr(self, name, torch.from_numpy(arr))
        self.value = torch.from_numpy(value).to(torch.float16)
        return self


register("trees", Config)(PoseTrees)
