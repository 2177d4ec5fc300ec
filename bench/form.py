"""Push-up form check: grouped cross-validation on the 145 labelled pushfit clips,
then the shipped model (src/workout_classifier/assets/pushup_form.json) trained on all.

Groups: pushfit names carry no source video, but clips cut from one video share
their scene. Each clip's first frame is reduced to a 32x18 grey thumbnail; clips
whose thumbnails correlate above 0.7 (single linkage) form one group, so near
twins never sit on both sides of a split. Protocol: StratifiedGroupKFold(5),
5 shuffles (seeds 0-4), mean +- std over the 25 folds; plain StratifiedKFold
beside it for comparison.

Usage: python bench/form.py [--data ../shared/data] [--cache cache] [--no-save]
"""

from __future__ import annotations

import argparse
import csv
import warnings
from pathlib import Path

import cv2
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workout_classifier.extract import PoseCache
from workout_classifier.form import CUE_WORDS, FEATURES, FORM_MODEL, feature_matrix, fit_form_model

HERE = Path(__file__).resolve().parent
C_LR = 0.3


def scene_groups(paths: list[Path], threshold: float = 0.3) -> np.ndarray:
    fps = []
    for p in paths:
        cap = cv2.VideoCapture(str(p))
        ok, frame = cap.read()
        cap.release()
        g = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (32, 18), interpolation=cv2.INTER_AREA)
        g = g.astype(float).ravel()
        fps.append((g - g.mean()) / (g.std() + 1e-6))
    f = np.array(fps)
    dist = np.clip(1 - f @ f.T / f.shape[1], 0, 2)
    np.fill_diagonal(dist, 0)
    return fcluster(linkage(squareform(dist, checks=False), "single"), threshold, "distance")


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parents[1] / "shared" / "data"))
    ap.add_argument("--cache", default=str(HERE.parent / "cache"))
    ap.add_argument("--out", default=str(HERE / "results" / "form.md"))
    ap.add_argument("--no-save", action="store_true", help="Do not rewrite the shipped model.")
    args = ap.parse_args()
    data = Path(args.data)
    cache = PoseCache(args.cache)
    rows = list(csv.DictReader(open(data / "push_up_form.csv")))
    seqs, y, paths, skipped = [], [], [], []
    for r in rows:
        seq = cache.load(data / r["clip"])
        if not seq.detected.any():
            skipped.append(r["clip"])
            continue
        seqs.append(seq)
        y.append(r["form"] == "wrong")
        paths.append(data / r["clip"])
    x, y = feature_matrix(seqs), np.array(y)
    groups = scene_groups(paths)
    models = {
        "logistic regression (shipped)": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=C_LR, max_iter=2000, class_weight="balanced")),
        "random forest (300 trees)": lambda: RandomForestClassifier(
            300, min_samples_leaf=2, class_weight="balanced", random_state=0),
    }  # fmt: skip
    res = {n: (cross_validate(x, y, groups, m, True), cross_validate(x, y, groups, m, False))
           for n, m in models.items()}  # fmt: skip
    base = max(y.mean(), 1 - y.mean())
    model = fit_form_model(x, y, C_LR, info={"clips": int(len(y)), "wrong": int(y.sum()),
                                             "grouped_cv_accuracy": round(res["logistic regression (shipped)"][0][0], 3)})  # fmt: skip
    if not args.no_save:
        model.save(FORM_MODEL)
    order = np.argsort(-np.abs(model.coef))
    lines = [
        "# Push-up form check",
        "",
        f"{len(y)} labelled pushfit push-ups ({int(y.sum())} wrong, {int((~y).sum())} correct); "
        f"skipped (nobody detected): {', '.join(skipped) or 'none'}.",
        f"Groups: {len(set(groups))} scene groups from first-frame thumbnails (see the docstring of bench/form.py);"
        " the largest holds " f"{np.bincount(groups).max()} clips.",
        "Protocol: StratifiedGroupKFold(5), 5 shuffles, mean +- std over 25 folds; plain StratifiedKFold beside it.",
        "Features: 12 interpretable per-clip cues from the 3D world landmarks (`workout_classifier.form`).",
        "",
        "| model | grouped accuracy | plain k-fold accuracy |",
        "| --- | ---: | ---: |",
    ]
    for n, ((gm, gs), (pm, ps)) in res.items():
        lines.append(f"| {n} | {gm:.3f} +- {gs:.3f} | {pm:.3f} +- {ps:.3f} |")
    lines += [
        f"| always 'wrong' (majority) | {base:.3f} | {base:.3f} |",
        "",
        "The source project reported 82.6% (MediaPipe + random forest) and 87.6% (MoveNet + random forest) with",
        "plain 5-fold; the target was >= 0.90. **Not reached**: the honest grouped figure is well below; plain",
        "k-fold inflates it by about 10 points because clips cut from one video land on both sides.",
        "",
        "## Cues the shipped model uses (logistic weights on standardized cues)",
        "",
        "| cue | weight | a higher value means | a lower value means |",
        "| --- | ---: | --- | --- |",
    ]
    for i in order:
        name = FEATURES[i]
        hi, lo = CUE_WORDS[name]
        lines.append(f"| {name} | {model.coef[i]:+.2f} | {hi} | {lo} |")
    lines += ["", "A positive weight pushes toward 'wrong'. Cue medians by label:", "",
              "| cue | correct | wrong |", "| --- | ---: | ---: |"]  # fmt: skip
    for k, name in enumerate(FEATURES):
        lines.append(f"| {name} | {np.median(x[~y, k]):.3f} | {np.median(x[y, k]):.3f} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    for n, ((gm, gs), (pm, ps)) in res.items():
        print(f"{n}: grouped {gm:.3f} +- {gs:.3f}, plain {pm:.3f} +- {ps:.3f}")


if __name__ == "__main__":
    main()
