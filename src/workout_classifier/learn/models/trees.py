"""Pose trees: extremely randomized trees over window summaries, held as numpy arrays.

Input x (N, T, V, 8) is the "raw" feature stream (image x/y/z/visibility, world
x/y/z, detected); `summary.window_summary` turns each window into a vector of
readable statistics and the trees vote. On a few hundred clips, trees over good
summaries match or beat the sequence networks and make different mistakes, so
they are a strong ensemble member.

Trees are fitted, not trained by gradient: `fit_windows` grows scikit-learn's
ExtraTreesClassifier and copies every tree into arrays (feature, threshold,
children, leaf class distribution), so the checkpoint is a plain state_dict of
arrays (no pickle) and inference is a few numpy gathers per tree level: no torch
and no scikit-learn at prediction time. The Config records the array sizes so
that loading rebuilds the model. Before fitting, the model is one leaf with
uniform probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workout_classifier.learn.models import StaleModelError, register
from workout_classifier.learn.summary import window_summary

_ARRAYS = ("feature", "threshold", "left", "right", "value")


@dataclass
class Config:
    num_classes: int
    in_channels: int = 8
    num_joints: int = 33
    steps: int = 48
    trees: int = 200
    min_leaf: int = 2  # samples per leaf, at least
    # ... and at least this share of the training windows. Large leaves make smoother votes that
    # transfer better to sources the trees never saw: on the nine exercises (pose version 5, trees
    # seed 0; grouped folds hold ~1100 windows) 2 -> 30 windows per leaf moved leave-source-out
    # accuracy 0.762 -> 0.852 (macro-F1 0.632 -> 0.711) with grouped accuracy 0.926 -> 0.922 (macro-F1
    # 0.885 -> 0.886), and the unknown gate caught more untrained clips (0.33 -> 0.60); 20 and 40 were
    # close, 100 worse (docs/experiments.md). A share, so that a small dataset keeps small leaves.
    leaf_share: float = 0.025
    # Share of the summary features tried at each split. 0.1 (57 of 555) beat sklearn's sqrt (24):
    # grouped macro-F1 0.908 -> 0.911, leave-source-out 0.626 -> 0.634 (docs/experiments.md).
    max_features: float = 0.1
    seed: int = 0
    # The summary's asymmetry block (summary.py): over seeds 0-2, leave-source-out accuracy
    # 0.809 -> 0.840 and grouped 0.924 -> 0.929 (bench/results/levers.md, variant no-asym).
    asymmetry: bool = True
    # Set by fit_windows: the arrays' sizes.
    nodes: int = 1  # nodes of the largest tree
    depth: int = 0  # levels of the deepest tree
    n_trees: int = 1
    # Length of the summary vector the trees were grown on (0: not recorded, older files).
    # summary.py gaining a block shifts every index, so a stale model must fail loudly.
    summary_dim: int = 0


class PoseTrees:
    numpy_inference = True  # numpy in, numpy out; checkpoint.Classifier calls it without torch
    # Averaging with the mirrored clip did not help the trees (docs/experiments.md).
    mirror_tta = False
    streams = ("raw",)
    # One window per repetition (learn/cycles.py), time windows where no rhythm is found. Against
    # 4 s windows, over seeds 0-2 (bench/results/levers.md): grouped accuracy 0.926 -> 0.924,
    # leave-source-out 0.800 -> 0.809, the 25 new-source clips 0.89 -> 0.96 right (best guess).
    unit = "rep"

    def __init__(self, config: Config):
        if config.in_channels != 8:
            raise ValueError(
                f"trees read the 'raw' feature stream (8 channels), not {config.in_channels} channels"
            )
        self.config = c = config
        shape = (c.n_trees, c.nodes)
        self.feature = np.zeros(shape, np.int32)
        self.threshold = np.zeros(shape, np.float32)
        # A leaf points to itself on both sides, so walking `depth` levels always ends on a leaf.
        self.left = np.zeros(shape, np.int32)
        self.right = np.zeros(shape, np.int32)
        self.value = np.full((*shape, c.num_classes), 1.0 / c.num_classes, np.float16)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # x (N, T, V, 8) -> summaries (N, D) -> mean leaf distribution over trees (N, K) -> log-probabilities
        s = window_summary(np.asarray(x), self.config.asymmetry)
        if self.config.summary_dim and s.shape[1] != self.config.summary_dim:
            raise self._stale(s.shape[1])
        n, t = len(s), self.config.n_trees
        node = np.zeros((n, t), np.intp)
        tree = np.broadcast_to(np.arange(t), (n, t))
        rows = np.arange(n)[:, None]
        for _ in range(self.config.depth):
            f = self.feature[tree, node]  # (N, trees)
            go_left = s[rows, f] <= self.threshold[tree, node]
            node = np.where(go_left, self.left[tree, node], self.right[tree, node])
        probs = self.value[tree, node].astype(np.float32).mean(1)  # (N, K)
        return np.log(np.maximum(probs, 1e-6))

    # The torch-module calls that generic code makes (train.py, checkpoint.py) work here too.
    def eval(self) -> PoseTrees:
        return self

    def train(self, mode: bool = True) -> PoseTrees:
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in _ARRAYS}

    def _stale(self, dim: int) -> StaleModelError:
        return StaleModelError(f"this trees model was trained on {self.config.summary_dim} summary features, "
                               f"this version computes {dim}: retrain it with `workout train`")  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        """Arrays by name, each with the shape the config gives (as torch's strict loading)."""
        # A file from before a summary block was added fails here, in one line, not at its first clip.
        dim = window_summary(
            np.zeros((1, 2, self.config.num_joints, 8), np.float32), self.config.asymmetry
        ).shape[1]
        if self.config.summary_dim and dim != self.config.summary_dim:
            raise self._stale(dim)
        if set(state) != set(_ARRAYS):
            raise KeyError(f"trees need exactly the arrays {_ARRAYS}, got {sorted(state)}")
        for k in _ARRAYS:
            want = getattr(self, k)
            arr = np.asarray(state[k])
            if arr.shape != want.shape:
                raise ValueError(
                    f"trees array {k!r} has shape {arr.shape}, the config says {want.shape}"
                )
            setattr(self, k, arr.astype(want.dtype, copy=False))

    def fit_windows(
        self, raw: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
    ) -> PoseTrees:
        """Grow the trees on raw windows (N, T, V, 8) with labels y (N,) and sample weights."""
        from sklearn.ensemble import ExtraTreesClassifier

        c = self.config
        leaf = max(c.min_leaf, round(c.leaf_share * len(raw)))
        et = ExtraTreesClassifier(n_estimators=c.trees, min_samples_leaf=leaf, class_weight="balanced",
                                  max_features=c.max_features,
                                  random_state=c.seed, n_jobs=1)  # fmt: skip
        summaries = window_summary(raw, c.asymmetry)
        c.summary_dim = summaries.shape[1]
        et.fit(summaries, y, sample_weight=weight)
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
        self.feature, self.threshold, self.left, self.right = feature, threshold, left, right
        self.value = value.astype(np.float16)  # leaf shares to 3 digits: half the file
        return self


register("trees", Config)(PoseTrees)
