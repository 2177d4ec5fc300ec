"""Calibrated confidence and an `unknown` answer for exercises the model never saw.

Temperature scaling (Guo et al. 2017): one scalar T divides the logits so that
the clip-level negative log-likelihood on held-out clips is smallest; accuracy
is unchanged. The unknown threshold is then a low quantile of the calibrated
top-class confidence on held-out clips of *known* exercises: it rejects about
`reject_rate` of them and, one hopes, much more of what the model never saw.
Both come from validation data only (the inner grouped hold-out of the
training clips, or out-of-fold predictions), never from a test fold, and are
stored in the checkpoint's `extra["temperature"]` and `extra["unknown_threshold"]`
(Classifier.predict_windows applies the first, predict.answer the second).
"""

from __future__ import annotations

import numpy as np

# Share of known out-of-fold clips `workout train` lets the gate answer `unknown`, the resting, range and
# stance checks (analysis/) counted first. 3% until 2026-12-06; once the body checks carried the
# rejection of exercises never seen, bench/unknown.py at 3% / 2% / 1.5% / 1% / 0 put known clips of a new
# source `unknown` 14.5 / 10.9 / 9.3 / 7.7 / 5.2% and left-out exercises 76 / 67 / 66 / 63 / 63%: 1% is
# the least that keeps a confidence floor with left-out exercises over 60% (docs/unknown.md).
REJECT_RATE = 0.01
# Live decides on the last 4 s without the range and stance checks (predict.py applies them to whole
# clips), so its threshold keeps the budget of before them, the resting rule counted first.
LIVE_REJECT_RATE = 0.03


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Re-scale probabilities (N, K) as softmax(log p / T)."""
    z = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(probs: np.ndarray, y: np.ndarray, grid: np.ndarray | None = None) -> float:
    """T minimizing the NLL of softmax(log probs / T) on labelled held-out clips (probs at T=1)."""
    # Never sharpen (T >= 1): a small hold-out with no errors drives the NLL optimum
    # towards T -> 0, saturating every confidence at 1.0 and making any threshold useless.
    grid = np.exp(np.linspace(0.0, np.log(8.0), 61)) if grid is None else grid
    y = np.asarray(y)
    nll = [-np.log(apply_temperature(probs, t)[np.arange(len(y)), y] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def choose_threshold(probs: np.ndarray, reject_rate: float = 0.05) -> float:
    """Confidence below which an answer becomes `unknown`: the `reject_rate` quantile of the
    top-class confidence on held-out known clips, never below chance (1/K)."""
    conf = probs.max(1)
    return (
        float(max(np.quantile(conf, reject_rate), 1.0 / probs.shape[1]))
        if len(conf)
        else 1.0 / probs.shape[1]
    )


def calibrate(clf, tracks, y, reject_rate: float = 0.05) -> dict:
    """Fit temperature and unknown threshold of `clf` on held-out clips (tracks, y); store them in clf.extra."""
    from workout_classifier.learn.features import clip_probs, eval_windows

    clf.extra.pop("temperature", None)
    raw, owner = eval_windows(list(tracks), clf.features)
    probs = clip_probs(clf.predict_windows(raw), owner, len(tracks))
    t = fit_temperature(probs, y)
    cal = apply_temperature(probs, t)
    thr = choose_threshold(cal, reject_rate)
    clf.extra.update(temperature=t, unknown_threshold=thr,
                     calibration={"clips": len(tracks), "reject_rate": reject_rate})  # fmt: skip
    return {"temperature": t, "unknown_threshold": thr}


def calibrate_oof(clf, probs: np.ndarray, y: np.ndarray, reject_rate: float = REJECT_RATE,
                  resting: np.ndarray | None = None, live_resting: np.ndarray | None = None) -> dict:  # fmt: skip
    """Fit temperature and threshold on out-of-fold clip probabilities (N, K) of a whole grouped CV
    (models of the same settings as `clf`, at T=1); store them in clf.extra like `calibrate`.

    `resting` (N,) marks clips that `predict` answers `unknown` anyway (posture.resting_windows on
    every window, or the range and stance checks of analysis/); the threshold then rejects only what
    is left of `reject_rate` among the others (where they take it all, the threshold is the least
    confident clip's confidence: only an answer less sure than every known clip is `unknown`).
    `live_resting` (N,), the clips live answers `unknown` anyway (resting only): with it, a second
    threshold for `workout live` and the camera page, `extra["live_unknown_threshold"]`, at
    LIVE_REJECT_RATE."""
    t = fit_temperature(probs, y)
    conf = apply_temperature(probs, t)
    rest = np.zeros(len(y), bool) if resting is None else np.asarray(resting, bool)
    thr = _threshold(conf, rest, reject_rate)
    clf.extra.update(temperature=t, unknown_threshold=thr,
                     calibration={"clips": len(y), "reject_rate": reject_rate, "on": "out-of-fold grouped CV",
                                  "resting_clips": int(rest.sum())})  # fmt: skip
    if live_resting is not None:
        live = _threshold(conf, np.asarray(live_resting, bool), LIVE_REJECT_RATE)
        clf.extra.update(live_unknown_threshold=live)
        clf.extra["calibration"]["live_reject_rate"] = LIVE_REJECT_RATE
    return {"temperature": t, "unknown_threshold": thr}


def _threshold(conf: np.ndarray, rest: np.ndarray, reject_rate: float) -> float:
    """The confidence below which the clips not in `rest` are rejected, so that they and `rest`
    together make up `reject_rate` of all (conf: calibrated probabilities (N, K))."""
    left = max(reject_rate - rest.mean(), 0.0) * len(rest) / max((~rest).sum(), 1)  # of the others
    return (
        choose_threshold(conf[~rest], left)
        if (~rest).any()
        else choose_threshold(conf, reject_rate)
    )


def unknown_rates(probs_known: np.ndarray, probs_unseen: np.ndarray, threshold: float) -> dict:
    """How often known clips are wrongly rejected, and how often unseen-exercise clips are caught."""
    return {
        "known_rejected": float((probs_known.max(1) < threshold).mean())
        if len(probs_known)
        else float("nan"),
        "unseen_unknown": float((probs_unseen.max(1) < threshold).mean())
        if len(probs_unseen)
        else float("nan"),
    }
