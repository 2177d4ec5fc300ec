"""A learned `unknown` gate: "is this an exercise the model knows?" from the shape of its answer.

Tried, not shipped (2026-12-06): bench/unknown.py measures it beside the max-probability gate
that `workout train` fits (docs/unknown.md says what it gave and why it is not used).

The max-probability gate (calibrate.py) looks at one number. This gate looks at several that
describe how a clip's rep-window votes came out (FEATURES: top probability, margin to the second,
entropy, how many windows agree with the clip's answer, the spread and the least of the window
top probabilities, the number of windows) and a logistic regression says how likely the clip is a
known exercise. It is fitted on three kinds of held-out predictions of models of the same settings:

- known, out of fold: clips of a grouped 5-fold CV of the training clips;
- known, out of source: clips of a source (camera, people) held out of training
  (evaluate.source_splits), so that a hard clip from a new source still counts as known;
- not known: each exercise's clips answered by a model trained without that exercise.

Each left-out exercise weighs the same among the negatives. The threshold is a low quantile of the
known out-of-fold clips' scores, taken from scores of gates fitted without each clip's exercise
(leave one exercise out), so that it rejects `reject_rate` of the known clips (resting ones
counted, as calibrate_oof does). A fitted gate is a few numbers (KnownGate.to_dict, JSON that a
model file's extra could hold); judging a clip needs only numpy (0.07 ms a clip).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

FEATURES = ("top", "margin", "entropy", "agree", "window_top_mean", "window_top_spread",
            "window_least", "log_windows")  # fmt: skip


def clip_features(win: np.ndarray) -> np.ndarray:
    """One clip's window probabilities (W, K) (as predict sees them) -> FEATURES (D,)."""
    win = np.asarray(win, np.float64)
    p = win.mean(0)
    c = int(p.argmax())
    second = np.partition(p, -2)[-2] if len(p) > 1 else 0.0
    entropy = float(-(p * np.log(np.clip(p, 1e-12, 1.0))).sum() / np.log(max(len(p), 2)))
    top = win.max(1)
    return np.array([p[c], p[c] - second, entropy, (win.argmax(1) == c).mean(), top.mean(),
                     top.std(), win[:, c].min(), np.log(len(win))])  # fmt: skip


def clip_feature_rows(win_probs: np.ndarray, owner: np.ndarray, n_clips: int) -> np.ndarray:
    """Window probabilities (W, K) of several clips and each window's clip (W,) -> (n_clips, D)."""
    return np.stack([clip_features(win_probs[owner == i]) for i in range(n_clips)])


@dataclass
class KnownGate:
    """Standardise FEATURES, logistic regression, threshold on the probability of 'known'."""

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float
    features: tuple[str, ...] = FEATURES

    def score(self, rows: np.ndarray) -> np.ndarray:
        """(N, D) feature rows -> (N,) probability that each clip is a known exercise."""
        z = (np.atleast_2d(rows) - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept)))

    def rejects(self, rows: np.ndarray) -> np.ndarray:
        return self.score(rows) < self.threshold

    def to_dict(self) -> dict:
        return {**asdict(self), "features": list(self.features)}

    @classmethod
    def from_dict(cls, d: dict) -> KnownGate:
        d = dict(d)
        if tuple(d.get("features", FEATURES)) != FEATURES:
            raise ValueError(f"this gate reads {d['features']}, this version computes {list(FEATURES)}: "
                             "retrain the model with `workout train`")  # fmt: skip
        d["features"] = FEATURES
        return cls(**d)


def _fit_lr(rows, known, exercise) -> KnownGate:
    from sklearn.linear_model import LogisticRegression

    w = np.ones(len(known))
    neg = ~known
    for e in np.unique(exercise[neg]):  # each left-out exercise weighs the same among the negatives
        m = neg & (exercise == e)
        w[m] = neg.sum() / (m.sum() * len(np.unique(exercise[neg])))
    mean, scale = rows.mean(0), rows.std(0) + 1e-9
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    lr.fit((rows - mean) / scale, known.astype(int), sample_weight=w)
    return KnownGate(
        mean.tolist(), scale.tolist(), lr.coef_[0].tolist(), float(lr.intercept_[0]), 0.5
    )


def fit_gate(rows: np.ndarray, known: np.ndarray, exercise: np.ndarray, budget: np.ndarray,
             reject_rate: float = 0.03, resting: np.ndarray | None = None) -> KnownGate:  # fmt: skip
    """Fit a KnownGate on feature rows (N, D): `known` (N,) True for known clips, `exercise` (N,) the
    clip's exercise (any ids; the leave-one-exercise-out of the threshold groups by it), `budget`
    (N,) the known rows whose rejection is held to `reject_rate` (the out-of-fold ones), `resting`
    (N,) the rows `predict` answers `unknown` anyway (they use up part of the budget)."""
    rows, known = np.asarray(rows, np.float64), np.asarray(known, bool)
    exercise, budget = np.asarray(exercise), np.asarray(budget, bool) & known
    rest = np.zeros(len(rows), bool) if resting is None else np.asarray(resting, bool)
    if known.all() or not known.any():
        raise ValueError("the gate needs known and not-known clips")
    gate = _fit_lr(rows, known, exercise)
    held = np.full(len(rows), np.nan)  # scores from gates that never saw the row's exercise
    for e in np.unique(exercise):
        out = exercise == e
        if known[~out].any() and (~known[~out]).any():
            held[out] = _fit_lr(rows[~out], known[~out], exercise[~out]).score(rows[out])
    sel = budget & ~np.isnan(held)
    free = sel & ~rest
    left = max(reject_rate - rest[sel].mean(), 0.0) * sel.sum() / max(free.sum(), 1)
    gate.threshold = float(np.quantile(held[free], left)) if free.any() else 0.0
    return gate
