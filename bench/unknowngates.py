"""The gates bench/unknown.py compares, beside the shipped one (calibrate.py).

`NoveltyScore` and `Gate`: the `maxprob+dist` gate (max-probability, or the clip far from every
exercise in a discriminant space of the window summaries); `learned_gates`: the learned gate
(learn/gate.py) judged with nested leave-one-exercise-out. Split out of unknown.py, unchanged,
to keep each file short.
"""

from __future__ import annotations

import numpy as np

from workout_classifier.analysis import stance
from workout_classifier.analysis.motionrange import answers_out_of_range, fit_limits
from workout_classifier.learn.calibrate import (
    apply_temperature,
    calibrate_oof,
    choose_threshold,
    fit_temperature,
)
from workout_classifier.learn.gate import fit_gate
from workout_classifier.learn.summary import window_summary


class NoveltyScore:
    """How far a clip lies from every exercise the model was trained on.

    Window summaries (summary.window_summary) are projected by a shrinkage LDA
    fitted on the training windows (K - 1 directions that separate the exercises),
    averaged per clip, and compared with each exercise's centre of training clips,
    in units of that exercise's own spread (RMS distance of its clips to the centre).
    The score is the smallest of these distances: large for a clip unlike any
    exercise, whatever the classifier's confidence. Learned arrays end in `_`.
    """

    def __init__(
        self, mean_: np.ndarray, proj_: np.ndarray, centres_: np.ndarray, radius_: np.ndarray
    ):
        self.mean_, self.proj_, self.centres_, self.radius_ = mean_, proj_, centres_, radius_

    @classmethod
    def fit(cls, raw: np.ndarray, owner: np.ndarray, y: np.ndarray) -> NoveltyScore:
        """raw windows (W, T, V, 8), their clip (W,), clip labels (N,)."""
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        s = window_summary(raw).astype(np.float64)
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(s, y[owner])
        k = len(lda.classes_) - 1
        mean_, proj_ = s.mean(0), lda.scalings_[:, :k]
        z = _clip_mean((s - mean_) @ proj_, owner, len(y))
        present = np.unique(y)
        centres, radius = np.zeros((len(present), k)), np.zeros(len(present))
        for i, c in enumerate(present):
            zc = z[y == c]
            centres[i] = zc.mean(0)
            radius[i] = np.sqrt(((zc - centres[i]) ** 2).sum(1).mean()) + 1e-6
        return cls(mean_, proj_, centres, radius)

    def score(self, raw: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """(N,) distance of each clip to the nearest exercise, in that exercise's spreads."""
        n = int(owner.max()) + 1 if len(owner) else 0
        z = _clip_mean((window_summary(raw).astype(np.float64) - self.mean_) @ self.proj_, owner, n)
        d = (
            np.linalg.norm(z[:, None, :] - self.centres_[None], axis=-1) / self.radius_[None]
        )  # (N, K)
        return d.min(1)


def _clip_mean(z: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, z.shape[1]))
    np.add.at(out, owner, z)
    return out / np.maximum(np.bincount(owner, minlength=n), 1)[:, None]


class Gate:
    """The gates of one trained model, fitted on out-of-fold predictions of its training clips.

    `ranges`, `stances`, `classes`: the training clips' joint ranges and stances and the class names,
    for the range limits of `maxprob+resting+range` (shipped 2026-12-06 night) and the stance limits
    of `maxprob+resting+range+stance` (what `workout train` ships since 2026-12-06 late night;
    api.fit_training_set)."""

    def __init__(
        self, oof_probs, oof_y, oof_dist, oof_rest, reject: float, ranges, stances, classes
    ):
        self.classes = list(classes)
        labels = [self.classes[k] for k in oof_y]
        self.limits = fit_limits(ranges, labels)
        self.stance_limits = stance.fit_limits(stances, labels)
        oof_out = answers_out_of_range(oof_probs, ranges, self.classes, self.limits)
        oof_held = stance.answers_out_of_stance(
            oof_probs, stances, self.classes, self.stance_limits
        )
        self.t = fit_temperature(oof_probs, oof_y)
        conf = apply_temperature(oof_probs, self.t)
        self.thr = choose_threshold(conf, reject)
        self.thr_half = choose_threshold(conf, reject / 2)
        self.dist_thr = float(np.quantile(oof_dist, 1 - reject / 2))
        clf = type(
            "C", (), {"extra": {}}
        )()  # what `workout train` ships: calibrate_oof with the resting rule
        self.thr_rest = calibrate_oof(clf, oof_probs, oof_y, reject, resting=oof_rest)[
            "unknown_threshold"
        ]
        self.thr_range = calibrate_oof(clf, oof_probs, oof_y, reject, resting=oof_rest | oof_out)[
            "unknown_threshold"
        ]
        self.thr_stance = calibrate_oof(
            clf, oof_probs, oof_y, reject, resting=oof_rest | oof_out | oof_held
        )["unknown_threshold"]

    def rejects(
        self, probs: np.ndarray, dist: np.ndarray, rest: np.ndarray, ranges, stances
    ) -> dict[str, np.ndarray]:
        conf = apply_temperature(probs, self.t).max(1)
        out = answers_out_of_range(probs, ranges, self.classes, self.limits)
        held = stance.answers_out_of_stance(probs, stances, self.classes, self.stance_limits)
        return {
            "maxprob": conf < self.thr,
            "maxprob+resting": (conf < self.thr_rest) | rest,
            "maxprob+resting+range": (conf < self.thr_range) | rest | out,
            "maxprob+resting+range+stance": (conf < self.thr_stance) | rest | out | held,
            "maxprob+dist": (conf < self.thr_half) | (dist > self.dist_thr),
        }


def learned_gates(parts, reject: float) -> dict:
    """The learned gate (learn/gate.py) judged with nested leave-one-exercise-out.

    parts: (feature rows, known, exercise id, kind "oof" / "lso" / "loeo" / "few", resting) of every
    held-out prediction above; the untrained exercises' clips ("few") are judged, never fitted on
    (`workout train` leaves such small exercises out). Each exercise's rows (its out-of-fold and held-out-source clips, and
    its clips answered by the model trained without it) are judged by gates fitted on the other
    exercises' rows only, with the threshold set for `reject` of their out-of-fold known clips
    (`learned`), or of their out-of-fold and held-out-source known clips pooled (`learned, both
    pooled`). Returns {gate: (rejected (N,), OOF known rejected by each exercise's gate, full gate)}."""
    rows, known, ex, kind, rest = (np.concatenate(a) for a in zip(*parts, strict=True))
    out = {}
    for name, on in LEARNED.items():
        budget = np.isin(kind, on)
        rej, oof_rej = np.zeros(len(rows), bool), {}
        for e in np.unique(ex):
            tr = (ex != e) & (
                kind != "few"
            )  # as `workout train`: it never sees the untrained clips
            g = fit_gate(rows[tr], known[tr], ex[tr], budget[tr], reject, rest[tr])
            rej[ex == e] = g.rejects(rows[ex == e]) | rest[ex == e]
            oof = tr & (kind == "oof")
            oof_rej[int(e)] = float((g.rejects(rows[oof]) | rest[oof]).mean())
        fit_on = kind != "few"
        full = fit_gate(
            rows[fit_on], known[fit_on], ex[fit_on], budget[fit_on], reject, rest[fit_on]
        )
        out[name] = (rej, oof_rej, full)
    return out


# The learned gate's threshold: the budget of which known clips (learned_gates).
LEARNED = {"learned+resting": ("oof",), "learned+resting, both pooled": ("oof", "lso")}
