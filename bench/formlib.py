"""Helpers of bench/form.py: the scene groups of the pushfit clips and the two protocols.

Groups: pushfit names carry no source video, but clips cut from one video share their scene
(`scene_groups`: first-frame thumbnails, single linkage, plus the twins in SAME_SOURCE found by
eye). Protocols: grouped k-fold over several shuffles (`cross_validate`) and leave one source
group out (`leave_source_out`). Split out of form.py, unchanged, to keep each file short.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

from workout_classifier.analysis.form import FormClassifier

# Clips from one source video or session that the thumbnails did not join (checked by eye
# on a contact sheet of every clip's first frame): same person, same room or same overlay.
SAME_SOURCE = (
    ("wrong6", "wrong8", "wrong9"),  # bald man, blue shorts, red X overlay
    ("wrong28", "wrong35", "wrong36", "wrong40"),  # same man and room as wrong29-47
    ("wrong59", "wrong60"),  # "Popeye's" banner
    ("wrong78", "wrong79", "wrong80"),  # same man, white room
    ("wrong105", "wrong107"),  # same man, rep counter overlay
    ("wrong96", "wrong102", "wrong103", "wrong104", "wrong111", "wrong112", "wrong113", "wrong115",
     "wrong117"),  # "MILAM" timer overlay series and its white-shirt trainee
    ("wrong26", "correct43", "correct44"),  # same man in yellow, same gym
    ("wrong66", "wrong67"),  # orange wall
    ("correct59", "correct97"),  # same woman outdoors
    ("wrong27", "correct50"),  # blue wall gym
)  # fmt: skip


def scene_groups(paths: list[Path], threshold: float = 0.3) -> np.ndarray:
    fps = []
    for p in paths:
        cap = cv2.VideoCapture(str(p))
        ok, frame = cap.read()
        cap.release()
        g = cv2.resize(
            cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (32, 18), interpolation=cv2.INTER_AREA
        )
        g = g.astype(float).ravel()
        fps.append((g - g.mean()) / (g.std() + 1e-6))
    f = np.array(fps)
    dist = np.clip(1 - f @ f.T / f.shape[1], 0, 2)
    np.fill_diagonal(dist, 0)
    groups = fcluster(linkage(squareform(dist, checks=False), "single"), threshold, "distance")
    names = [clip_name(p) for p in paths]
    for same in SAME_SOURCE:
        members = [i for i, n in enumerate(names) if n in same]
        for old in {groups[i] for i in members}:
            groups[groups == old] = groups[members[0]]
    return np.unique(groups, return_inverse=True)[1] + 1


def clip_name(path: Path) -> str:
    return Path(path).stem.replace("pushfit-", "")


def leave_source_out(x, y, groups, make, pred=None) -> float:
    """Accuracy when each source group in turn is predicted by a model fitted on all the others
    (the predictions land in ``pred`` when given)."""
    pred = np.zeros(len(y), bool) if pred is None else pred
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tr, te in LeaveOneGroupOut().split(x, y, groups):
            pred[te] = make().fit(x[tr], y[tr]).predict(x[te])
    return float((pred == y).mean())


def cross_validate(x, y, groups, make, grouped=True, seeds=range(5)):
    accs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in seeds:
            cv = (StratifiedGroupKFold(5, shuffle=True, random_state=seed) if grouped
                  else StratifiedKFold(5, shuffle=True, random_state=seed))  # fmt: skip
            for tr, te in cv.split(x, y, groups):
                m = make().fit(x[tr], y[tr])
                accs.append(float((m.predict(x[te]) == y[te]).mean()))
    return float(np.mean(accs)), float(np.std(accs))


class TwoSided:
    """``FormClassifier`` on the measures plus, for the two-sided ones (a bend either way is a fault),
    their distance from the median of the correct clips it is fitted on."""

    def __init__(self, c, cols):
        self.c, self.cols = c, list(cols)

    def _x(self, x):
        return np.hstack([x, np.abs(x[:, self.cols] - self.centre)])

    def fit(self, x, y):
        self.centre = np.median(x[~y][:, self.cols], 0)
        self.model = FormClassifier(self.c).fit(self._x(x), y)
        return self

    def predict(self, x):
        return self.model.predict(self._x(x))


class MeanProba:
    """Average the 'wrong' probabilities of several fitted classifiers."""

    def __init__(self, models):
        self.models = models

    def fit(self, x, y):
        for m in self.models:
            m.fit(x, y)
        return self

    def predict(self, x):
        return np.mean([m.predict_proba(x)[:, 1] for m in self.models], 0) >= 0.5
