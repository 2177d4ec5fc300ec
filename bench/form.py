"""Push-up form check: grouped cross-validation on the 145 labelled pushfit clips,
then the shipped model (src/workout_classifier/assets/pushup_form.json) trained on all.

Groups: pushfit names carry no source video, but clips cut from one video share
their scene. Each clip's first frame is reduced to a 32x18 grey thumbnail; clips
whose thumbnails correlate above 0.7 (single linkage) form one group, so near
twins never sit on both sides of a split. Thumbnails alone miss some twins (the
same person and room seen from a moved camera, a compilation of one coach's
trainees), so the clips listed in SAME_SOURCE (formlib.py), found by eye on a contact sheet of
all first frames, are merged on top. Protocol: StratifiedGroupKFold(5),
5 shuffles (seeds 0-4), mean +- std over the 25 folds; plain StratifiedKFold
beside it for comparison.

Usage: python bench/form.py [--data ../shared/data] [--cache cache] [--no-save]
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path
from string import digits

import numpy as np
from common import write_table
from formlib import (
    SAME_SOURCE,
    MeanProba,
    TwoSided,
    clip_name,
    cross_validate,
    leave_source_out,
    scene_groups,
)
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from workout_classifier.analysis.bodyline import BODYLINE_FEATURES, bodyline_features
from workout_classifier.analysis.form import (
    CLIP_FEATURES,
    CUE_WORDS,
    FEATURES,
    FORM_MODEL,
    FormClassifier,
    feature_matrix,
    fit_form_model,
)
from workout_classifier.analysis.repdetail import rep_details
from workout_classifier.analysis.reps import count_reps
from workout_classifier.learn.features import FeatureConfig, prepare, windows
from workout_classifier.learn.summary import window_summary
from workout_classifier.pose.cache import PoseCache

HERE = Path(__file__).resolve().parent
C_LR = 0.3
NOTES = """**Target (issue 27): leave-source-out >= 0.80. Not reached**: the shipped model scores {lso:.3f} leaving each
source out ({lso_gap:.3f} short) and {grouped:.3f} grouped; the best leave-source-out figure in the table is {best_lso:.3f}
({best_lso_name}), {best_gap:.3f} short. The source project's 82.6% (MediaPipe + random forest) used plain 5-fold,
which inflates every model here, by {infl_lo:.0f} to {infl_hi:.0f} points: clips cut from one video land on both sides of
the split. The differences between the better models, old cues or new, are within about one fold standard
deviation grouped (about 0.13) and a few clips leaving sources out (one source group of 14 clips is 0.097 of
the accuracy there), so no model here is shown better than the shipped one under both protocols, and it stays.

Body-frame measures (issue 27; `analysis/bodyline.py`): the world landmarks turned into the body's own frame
(long axis, shoulder axis, floor normal toward the hands), so a front, angled or side view of one pose reads
the same; the body line (shoulder-hip-ankle, shoulder-hip-knee, hip offset from the shoulder-ankle line in body
lengths), elbow and knee angles, head offset and shoulder height above the hands, each at the bottoms and tops of
the counted reps (median over reps) and as 10th/90th percentiles over the reps' frames. On their own they score a
little under the 52 mixed-view cues (logistic {body_g:.3f} grouped / {body_l:.3f} leave-source-out; trees and a two-sided
variant about level with them), within noise; added to them, within noise too. Dropping the image-plane cues,
which do depend on the view, costs accuracy instead, most of it leaving sources out. Small models do not help:
depth-2 and depth-3 trees do worse than the logistic models (see the table). Also tried outside
this script and dropped: nested forward selection of up to 5 body-frame measures by an inner grouped CV
(0.540 grouped / 0.559 leave-source-out: it picks noise), a view-reliability weight (the measures times how
side-on the camera is: 0.677 / 0.676 with the 52 cues), and a view indicator for the trees (0.671 / 0.669).

The shipped model is the logistic one because each cue's weight can be read off and said in words and it fits
in a small JSON; its weights are held to each cue's own direction (a cue that is higher in wrong clips can only
push toward 'wrong'), so that no cue is used backwards to offset a correlated one.

What 'wrong' means in this data set (contact sheets of 8 frames per clip looked at by eye, checked against
the measured hip bend): hips piked up (wrong1; wrong23/24, a tutorial whose drawn arrow pushes the hips
down), hips sagging with the head hanging (wrong6-9, wrong28-47), the chest rising before the hips like a
worm (wrong11-15: hips in line at the top, sagging on the way up), short range of motion (wrong62-69,
wrong88-91), and a filmed-from-the-front series with a timer overlay (wrong96-117) where the fault is hard
to see at all. Correct clips are mostly side views of a straight plank going to full depth.

Why the target is out of reach here:

- Many wrong and correct clips show the same person in the same room and differ only subtly (wrong11-15
  vs correct14/19, wrong3/5 vs correct8, wrong53/54 vs correct66, wrong75-77 vs correct75); a few degrees
  of hip bend separate them, about the noise of the pose landmarks on a 360p clip.
- The landmarks blur the line between faults and good form, in the body frame too: wrong23/24 are clearly
  piked by eye (body-frame bend at the top about -25 degrees), but correct clips filmed from above or at an
  angle read as piked by as much or more (correct60/98, correct67/85, correct76: -27 to -36), and the
  median correct clip reads -8. No clear label error was found by eye. Of the clips both the shipped and the
  body-frame logistic model miss out of source (listed below), most are the cases above (the pikes, the
  worm, wrong3/5, wrong6-9, wrong53/54, views from above); looked at again this session: correct112/113
  and wrong123 (one man, one room) are hard to tell apart by eye too, correct70 is a close view from behind
  with the legs cut off, wrong55 a one-armed push-up filmed from above. So the gap is mostly measurement,
  with a few labels that are judgement calls.
- Not used, on purpose: wrong clips hold more reps (median 2 vs 1), are more often filmed from the front
  and show less of the legs. These are traits of how the clips were cut and filmed, not of form.
"""


REP_FEATURES = (
    "elbow_bottom_median",
    "elbow_bottom_max",
    "hip_bend_median",
    "hip_bend_max",
    "hip_bend_min",
    "hip_bend_abs_max",
    "down_s_median",
    "up_s_median",
    "range_median",
    "has_rep",
)


def rep_features(seq) -> tuple[list[float], list[str]]:
    """Per-rep measures (reps.rep_details: elbow angle and hip bend at the bottom, tempo, range) summed
    up per clip, and the per-rep cues ("rep 2: hips sag")."""
    det = rep_details(count_reps(seq, "push up"), seq)
    el = [d["elbow_angle"] for d in det if "elbow_angle" in d]
    hb = [d["hip_bend"] for d in det if "hip_bend" in d]
    dn, up, rg = [d["down_s"] for d in det], [d["up_s"] for d in det], [d["range"] for d in det]

    def agg(v, fn, empty):
        return float(fn(v)) if len(v) else empty

    row = [agg(el, np.median, 110.0), agg(el, np.max, 110.0), agg(hb, np.median, 0.0), agg(hb, np.max, 0.0),
           agg(hb, np.min, 0.0), agg(np.abs(hb), np.max, 0.0), agg(dn, np.median, 1.0), agg(up, np.median, 1.0),
           agg(rg, np.median, 0.5), float(len(det) > 0)]  # fmt: skip
    return row, [c for d in det for c in d.get("cues", [])]


def cue_check(seqs, y, rep_cues) -> list[str]:
    """Do the shipped model's hip cues agree with the per-rep hip bend, and do per-rep cues alone tell form?"""
    from workout_classifier.analysis.form import check_form

    agree = total = 0
    for seq in seqs:
        words = " ".join(check_form(seq)["form_cues"])
        bends = [
            d["hip_bend"] for d in rep_details(count_reps(seq, "push up"), seq) if "hip_bend" in d
        ]
        if not bends or not ("sag" in words or "pike" in words):
            continue
        total += 1
        agree += ("sag" in words) == (float(np.median(bends)) > 0)
    any_cue = np.array([bool(c) for c in rep_cues])
    return [
        f"- Hip cues of the shipped model against the per-rep hip bend (`reps.rep_details`, median over the reps):"
        f" {total} clips get a sag or pike cue; on {agree} ({agree / max(total, 1):.2f}) the per-rep bend points"
        " the same way (sag: hips below the shoulder-ankle line).",
        f"- Per-rep cues alone as a verdict ('wrong' if any rep gets a cue: depth > {110:.0f} deg elbow, hip"
        f" bend beyond +-20 deg), no fitting: accuracy {float(np.mean(any_cue == y)):.3f}; a cue on"
        f" {any_cue[y].mean():.2f} of wrong clips and {any_cue[~y].mean():.2f} of correct ones.",
    ]


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
    # The exercise model's window summaries over each whole clip: do generic pose statistics tell form too?
    summ = np.concatenate([window_summary(windows(t, FeatureConfig(window_seconds=max(t.duration, 0.1),
                                                                   steps=64))[0]) for t in map(prepare, seqs)])  # fmt: skip
    groups = scene_groups(paths)
    reps = [rep_features(s) for s in seqs]
    xr, rep_cues = np.array([r for r, _ in reps]), [c for _, c in reps]
    old = [FEATURES.index(f) for f in CLIP_FEATURES]
    world = [i for i, f in enumerate(FEATURES) if not f.startswith("img_")]
    xb = np.array([[bodyline_features(s)[k] for k in BODYLINE_FEATURES] for s in seqs])
    xi = np.array([[bodyline_features(s, image=True)[k] for k in BODYLINE_FEATURES] for s in seqs])
    nb = len(BODYLINE_FEATURES)
    two = [i for i, f in enumerate(BODYLINE_FEATURES) if f.split("_")[0] in ("line", "knee", "hip", "head")
           and not f.startswith("knee_bend")]  # fmt: skip
    kw = {"class_weight": "balanced", "random_state": 0}
    tree = lambda d: lambda: DecisionTreeClassifier(max_depth=d, min_samples_leaf=5, **kw)  # noqa: E731
    rf3 = lambda: RandomForestClassifier(300, min_samples_leaf=3, **kw)  # noqa: E731
    et = lambda: ExtraTreesClassifier(300, min_samples_leaf=3, **kw)  # noqa: E731
    lr = lambda c: lambda: make_pipeline(  # noqa: E731
        StandardScaler(), LogisticRegression(C=c, max_iter=2000, class_weight="balanced"))  # fmt: skip
    rf = lambda: RandomForestClassifier(  # noqa: E731
        300, min_samples_leaf=2, class_weight="balanced", random_state=0
    )
    hgb = lambda: HistGradientBoostingClassifier(  # noqa: E731
        max_depth=3, learning_rate=0.05, max_iter=150, min_samples_leaf=8, random_state=0)  # fmt: skip
    runs = [  # (name, cue columns, model)
        ("logistic regression, 12 world cues (previous)", old, lr(C_LR)),
        ("random forest, 12 world cues", old, rf),
        (f"logistic regression C={C_LR}, {len(FEATURES)} cues, weights keep each cue's own sign (**shipped**)",
         None, lambda: FormClassifier(C_LR)),
        (f"logistic regression C={C_LR}, {len(FEATURES)} cues, free weights", None, lr(C_LR)),
        (f"logistic regression C=0.1, {len(FEATURES)} cues", None, lr(0.1)),
        (f"random forest, {len(FEATURES)} cues", None, rf),
        (f"gradient boosting (HistGB, depth 3), {len(FEATURES)} cues", None, hgb),
        (f"mean of free logistic + gradient boosting, {len(FEATURES)} cues", None,
         lambda: MeanProba([lr(C_LR)(), hgb()])),
        (f"logistic regression C={C_LR}, {len(REP_FEATURES)} per-rep measures (rep_details)", "reps", lr(C_LR)),
        (f"logistic regression C={C_LR}, {len(FEATURES)} cues + {len(REP_FEATURES)} per-rep measures", "both", lr(C_LR)),
        (f"gradient boosting, {len(FEATURES)} cues + {len(REP_FEATURES)} per-rep measures", "both", hgb),
        (f"extremely randomized trees, the exercise model's {summ.shape[1]} window statistics (whole clip)",
         "summary", lambda: ExtraTreesClassifier(500, min_samples_leaf=2, class_weight="balanced", random_state=0)),
        # Issue 27: measures in the body's own frame (analysis/bodyline.py), which no turn of the camera changes.
        (f"logistic regression C={C_LR}, own signs, {nb} body-frame measures (world landmarks)", "body",
         lambda: FormClassifier(C_LR)),
        (f"logistic regression C=0.1, own signs, {nb} body-frame measures + how far each two-sided one (bends,"
         " offsets) lies from the correct clips' median", "body", lambda: TwoSided(0.1, two)),
        (f"decision tree, depth 2, {nb} body-frame measures", "body", tree(2)),
        (f"decision tree, depth 3, {nb} body-frame measures", "body", tree(3)),
        (f"random forest, {nb} body-frame measures", "body", rf3),
        (f"extremely randomized trees, {nb} body-frame measures", "body", et),
        (f"logistic regression C={C_LR}, own signs, {nb} body-frame measures from the image landmarks and their"
         " depth", "body_img", lambda: FormClassifier(C_LR)),
        (f"extremely randomized trees, {2 * nb} body-frame measures (world and image)", "body_both", et),
        (f"logistic regression C={C_LR}, own signs, the {len(world)} world cues (image-plane cues dropped)",
         world, lambda: FormClassifier(C_LR)),
        (f"logistic regression C={C_LR}, own signs, {len(world)} world cues + {nb} body-frame measures",
         "world_body", lambda: FormClassifier(C_LR)),
        (f"logistic regression C={C_LR}, own signs, {len(FEATURES)} cues + {nb} body-frame measures",
         "cues_body", lambda: FormClassifier(C_LR)),
    ]  # fmt: skip
    res, pred = {}, {}
    for name, cols, make in runs:
        named = {"summary": summ, "reps": xr, "both": np.hstack([x, xr]), "body": xb, "body_img": xi,
                 "body_both": np.hstack([xb, xi]), "world_body": np.hstack([x[:, world], xb]),
                 "cues_body": np.hstack([x, xb])}  # fmt: skip
        xs = named[cols] if isinstance(cols, str) else x if cols is None else x[:, cols]
        res[name] = (cross_validate(xs, y, groups, make, True), cross_validate(xs, y, groups, make, False),
                     leave_source_out(xs, y, groups, make, pred.setdefault(name, np.zeros(len(y), bool))))  # fmt: skip
        print(f"{name}: grouped {res[name][0][0]:.3f} +- {res[name][0][1]:.3f}, "
              f"plain {res[name][1][0]:.3f} +- {res[name][1][1]:.3f}, leave-source-out {res[name][2]:.3f}",
              flush=True)  # fmt: skip
    shipped = runs[2][0]
    base = max(y.mean(), 1 - y.mean())
    model = fit_form_model(x, y, C_LR, info={"clips": int(len(y)), "wrong": int(y.sum()),
                                             "grouped_cv_accuracy": round(res[shipped][0][0], 3)})  # fmt: skip
    if not args.no_save:
        model.save(FORM_MODEL)
    order = np.argsort(-np.abs(model.coef))
    gm = res[shipped][0][0]
    lines = [
        "# Push-up form check",
        "",
        f"{len(y)} labelled pushfit push-ups ({int(y.sum())} wrong, {int((~y).sum())} correct); "
        f"skipped (nobody detected): {', '.join(skipped) or 'none'}.",
        f"Groups: {len(set(groups))} source groups: first-frame thumbnails plus {len(SAME_SOURCE)} merges of near"
        " twins found by eye (see the docstring and SAME_SOURCE in bench/formlib.py); the largest holds "
        f"{np.bincount(groups).max()} clips.",
        "Protocol: StratifiedGroupKFold(5), 5 shuffles, mean +- std over 25 folds; plain StratifiedKFold beside it.",
        f"Cues: {len(FEATURES)} interpretable per-clip cues (`workout_classifier.analysis.form`): the 12 original ones from the",
        "3D world landmarks, and 20 more measured twice, in the image plane (`img_`) and in world coordinates",
        "(`world_`), including per-rep values at the bottom and top of each rep and in the way down / way up;",
        f"and {len(BODYLINE_FEATURES)} body-frame measures (`analysis/bodyline.py`, see below) that no turn of the camera changes.",
        "",
        "Leave-source-out: each of the source groups in turn predicted by a model fitted on all the others",
        "(LeaveOneGroupOut), accuracy over all clips.",
        f"Machine load while measuring (1/5/15 min): {' / '.join(f'{v:.2f}' for v in os.getloadavg())} on 2 shared cores.",
        "",
        "| model | grouped accuracy | plain k-fold accuracy | leave-source-out |",
        "| --- | ---: | ---: | ---: |",
    ]
    for n, ((gm_, gs), (pm, ps), lso) in res.items():
        lines.append(f"| {n} | {gm_:.3f} +- {gs:.3f} | {pm:.3f} +- {ps:.3f} | {lso:.3f} |")
    lines += [f"| always 'wrong' (majority) | {base:.3f} | {base:.3f} | {base:.3f} |", ""]
    best = max(res, key=lambda n: res[n][2])
    body = next(n for n in res if "body-frame measures (world" in n)
    infl = [100 * (r[1][0] - r[0][0]) for r in res.values()]
    lines += NOTES.format(infl_lo=min(infl), infl_hi=max(infl), grouped=gm, lso=res[shipped][2], lso_gap=0.8 - res[shipped][2], best_lso=res[best][2],
                          best_lso_name=best.replace("**", ""), best_gap=0.8 - res[best][2],
                          body_g=res[body][0][0], body_l=res[body][2]).splitlines()  # fmt: skip
    names = [clip_name(p) for p in paths]
    both = [names[i] for i in np.nonzero((pred[shipped] != y) & (pred[body] != y))[0]]
    lines += ["", f"Missed out of source by both the shipped and the body-frame logistic model ({len(both)}):",
              ", ".join(sorted(both, key=lambda n: (n.rstrip(digits), int(n[len(n.rstrip(digits)):]))))]  # fmt: skip
    lines += ["", "## Cues against the per-rep measures", "", *cue_check(seqs, y, rep_cues)]
    lines += [
        "",
        "## Cues the shipped model leans on most (logistic weights on standardized cues; "
        f"{int((np.abs(model.coef) > 1e-6).sum())} of {len(FEATURES)} cues have a weight, the top 15 shown)",
        "",
        "| cue | weight | a higher value means | a lower value means | median correct | median wrong |",
        "| --- | ---: | --- | --- | ---: | ---: |",
    ]
    for i in [i for i in order if abs(model.coef[i]) > 1e-6][:15]:
        name = FEATURES[i]
        hi, lo = CUE_WORDS[name]
        lines.append(f"| {name} | {model.coef[i]:+.2f} | {hi} | {lo} | {np.median(x[~y, i]):.3f} "
                     f"| {np.median(x[y, i]):.3f} |")  # fmt: skip
    lines += ["", "A positive weight pushes toward 'wrong'. `check_form` names the two cues that push a clip",
              "hardest toward 'wrong', in the words of the table."]  # fmt: skip
    write_table(lines, Path(args.out))


if __name__ == "__main__":
    main()
