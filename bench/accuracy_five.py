"""The earlier accuracy benchmark, five exercises: every registered model in one grouped 5-fold split.

Kept for its comparisons (bench/results/accuracy_five.md), its unknown-exercise study over Ray
(docs/scale.md) and its reference-protocol row; the nine-exercise, both-protocol table is
bench/accuracy.py.

    python bench/accuracy_five.py                    # full run, writes bench/results/accuracy_five.md
    python bench/accuracy_five.py --quick            # fewer epochs, no plain-k-fold, no unknown study
    python bench/accuracy_five.py --models cnn-lstm,transformer --epochs 20
    python bench/accuracy_five.py --seed 1 --no-unknown --out bench/results/accuracy_five-seed1.md   # another split

Protocol: the five exercises with many clips (push up, bench press, squat, lunges,
pull up); StratifiedGroupKFold (evaluate.make_splits, protocol "grouped", seed 0 unless --seed),
so clips cut from one source video never sit on both sides of a split. Every
model sees the same folds. cnn-lstm is also run with protocol "seed" (the
reference's plain stratified k-fold) for comparison. The ensemble averages the
out-of-fold probabilities of its members, which are trained exactly as in their
own rows (same folds, seeds and settings give the same weights), so its
training time is the sum of theirs. Everything runs on one CPU thread
(torch.set_num_threads(1)); inference is features + model per clip, all windows.

Unknown exercises: leave one exercise out. For each of the five, the default
model is trained (with temperature and threshold fitted on its inner grouped
hold-out) on the training part of a grouped split of the other four; we report
how many of the held-out known clips are rejected as `unknown` and how many
clips of the left-out exercise are.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import FIVE, write_table

from workout_classifier.learn.models.ensemble import RECOMMENDED

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_NOTE = (
    "The reference design's 94.28% +- 2.18% is plain 5-fold cross-validation with features that use the "
    "true class and mirrored twins on both sides of a split; it leaks and is not comparable to these numbers."
)

# Candidates: registry name, feature streams, model options, TrainConfig overrides.
# `tta`: average with the mirrored clip at test time (Classifier.predict_windows(tta=True)).
# The stgcn and transformer rows are the shipped ensemble's members, as models/ensemble.py defines them.
CANDIDATES = {
    "cnn-lstm": dict(
        model="cnn-lstm", streams=None, options={}, train={}, tta=False
    ),  # its own defaults
    "trees": dict(model="trees", streams=("raw",), options={}, train={}, tta=False),
    **{m["model"]: {**m, "streams": tuple(m["streams"]), "tta": True} for m in RECOMMENDED},
}
ENSEMBLE = (
    "stgcn",
    "transformer",
)  # members of the late-fusion row (the registry's default ensemble)
WITH_TREES = "ensemble + trees"  # the same fusion with trees as a third member, for comparison
DEFAULT = "trees"  # the model proposed for `workout train` and the package (best grouped macro-F1)


def spec_features(spec: dict):
    from workout_classifier.learn.features import FeatureConfig

    return FeatureConfig(streams=tuple(spec["streams"])) if spec["streams"] else FeatureConfig()


def spec_train(spec: dict, args) -> object:
    from workout_classifier.learn.train import TrainConfig

    cfg = replace(TrainConfig(threads=1, seed=args.seed), **spec["train"])
    if args.epochs:
        cfg = replace(cfg, epochs=args.epochs)
    if args.quick:
        cfg = replace(cfg, epochs=min(cfg.epochs, 15), patience=min(cfg.patience, 5))
    return cfg


def ensemble_specs(args) -> list[dict]:
    out = []
    for name in ENSEMBLE:
        s = CANDIDATES[name]
        tc = spec_train(s, args)
        from workout_classifier.learn.train import TrainConfig

        diff = {k: v for k, v in vars(tc).items() if getattr(TrainConfig(), k) != v}
        out.append(
            {
                "model": s["model"],
                "streams": list(s["streams"]),
                "options": s["options"],
                "train": diff,
            }
        )
    return out


def infer_ms(clf, tracks, tta: bool = False, repeats: int = 1) -> float:
    """Per-clip CPU time of features + model over all windows, one thread."""
    from workout_classifier.learn.features import windows

    t0 = time.perf_counter()
    for _ in range(repeats):
        for tr in tracks:
            raw, _ = windows(tr, clf.features)
            clf.predict_windows(raw, tta=tta)
    return 1000 * (time.perf_counter() - t0) / (repeats * len(tracks))


def fused_result(parts: list, splits, y, classes):
    """CVResult of a late-fusion ensemble from its members' out-of-fold probabilities."""
    from workout_classifier.learn.evaluate import CVResult, fold_metrics

    probs = np.mean([p.probs for p in parts], axis=0)
    res = CVResult(
        protocol=parts[0].protocol, model="ensemble", classes=list(classes), rare=parts[0].rare
    )
    for k, (_, te) in enumerate(splits):
        pred = probs[te].argmax(1)
        res.folds.append({"fold": k + 1, "clips": int(len(te)), **fold_metrics(y[te], pred)})
    res.y_true, res.probs, res.y_pred = y, probs, probs.argmax(1)
    res.seconds = sum(p.seconds for p in parts)
    return res


_STATE: dict = {}  # (ts, args) for worker processes (fork)


def pmap(fn, items: list, jobs: int, ray: str | None = None) -> list:
    """fn over items, in `jobs` forked processes (each single-threaded) when jobs > 1.

    With `ray` (an address, or "local"), as Ray tasks instead: `fn` is pickled by value
    (this file runs as __main__), with the `_STATE` it reads, so workers need no bench/.
    """
    if ray:
        from workout_classifier.pose.distributed import ray_map

        return list(ray_map(fn, items, ray))
    if jobs <= 1 or len(items) <= 1:
        return [fn(it) for it in items]
    import multiprocessing as mp

    with mp.get_context("fork").Pool(min(jobs, len(items))) as pool:
        return pool.map(fn, items, chunksize=1)


def _cv_task(item):
    from workout_classifier.learn.evaluate import cross_validate

    name, protocol = item
    ts, args = _STATE["ts"], _STATE["args"]
    s = CANDIDATES[name]
    print(
        f"== {name} ({protocol}): streams {spec_features(s).streams}, train {s['train']}",
        flush=True,
    )
    return cross_validate(ts.tracks, ts.y, ts.groups, ts.classes, s["model"], spec_features(s), spec_train(s, args),
                          s["options"], folds=args.folds, protocol=protocol, tta=s["tta"] and protocol == "grouped",
                          log=lambda m: print(f"[{name} {protocol}] {m}", flush=True))  # fmt: skip


def run_models(ts, names, args, log):
    """Grouped 5-fold for each named model; returns {row name: (CVResult, params, infer ms)}."""
    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.learn.evaluate import make_splits
    from workout_classifier.learn.features import eval_windows
    from workout_classifier.learn.models import count_parameters, create_model
    from workout_classifier.learn.models.ensemble import build_ensemble, stream_channels

    tasks = [(n, "grouped") for n in names if n != "ensemble"]
    if "cnn-lstm" in names and not args.quick:
        tasks.append(("cnn-lstm", "seed"))
    results = dict(zip(tasks, pmap(_cv_task, tasks, args.jobs, args.ray), strict=True))
    rows = {}
    probe = slice(0, len(ts.tracks), max(1, len(ts.tracks) // 60))  # ~60 clips for timing
    for name in names:
        if name == "ensemble":
            continue
        s = CANDIDATES[name]
        feats = spec_features(s)
        model = create_model(
            s["model"], len(ts.classes), feats.channels, steps=feats.steps, **s["options"]
        )
        if hasattr(
            model, "fit_windows"
        ):  # trees: their size and depth set the time, so fit them first
            raw, owner = eval_windows(ts.tracks, feats)
            model.fit_windows(raw, ts.y[owner])
        clf = Classifier(
            model, s["model"], ts.classes, feats
        )  # nets untrained: weights do not change the timing
        rows[name] = (
            results[name, "grouped"],
            count_parameters(clf.model),
            infer_ms(clf, ts.tracks[probe], s["tta"]),
        )
    if "ensemble" in names and all(m in rows for m in ENSEMBLE):
        splits = make_splits(ts.y, ts.groups, args.folds, "grouped", args.seed)
        res = fused_result([rows[m][0] for m in ENSEMBLE], splits, ts.y, ts.classes)
        specs = ensemble_specs(args)
        feats = replace(spec_features({"streams": None}), streams=stream_channels(specs)[0])
        clf = Classifier(
            build_ensemble(specs, len(ts.classes), feats.steps), "ensemble", ts.classes, feats
        )
        tta = any(CANDIDATES[m]["tta"] for m in ENSEMBLE)
        rows["ensemble"] = (res, count_parameters(clf.model), infer_ms(clf, ts.tracks[probe], tta))
        if "trees" in rows:  # members' own out-of-fold probabilities; cost: the sum of theirs
            parts = [rows[m] for m in (*ENSEMBLE, "trees")]
            res3 = fused_result([p[0] for p in parts], splits, ts.y, ts.classes)
            rows[WITH_TREES] = (res3, sum(p[1] for p in parts), sum(p[2] for p in parts))
    if ("cnn-lstm", "seed") in results:
        rows["cnn-lstm (plain k-fold)"] = (
            results["cnn-lstm", "seed"],
            rows["cnn-lstm"][1],
            rows["cnn-lstm"][2],
        )
    return rows


def _loo_task(k: int) -> dict:
    """Leave exercise k out: train on the others (grouped fold 1's training part), calibrated."""
    from workout_classifier.learn.calibrate import unknown_rates
    from workout_classifier.learn.evaluate import make_splits
    from workout_classifier.learn.features import clip_probs, eval_windows
    from workout_classifier.learn.train import TrainConfig, fit

    ts, args = _STATE["ts"], _STATE["args"]
    left = ts.classes[k]
    keep = np.flatnonzero(ts.y != k)
    classes = [c for c in ts.classes if c != left]
    y = np.searchsorted([ts.classes.index(c) for c in classes], ts.y[keep])
    tr, te = make_splits(y, ts.groups[keep], args.folds, "grouped", 0)[0]
    tracks = [ts.tracks[i] for i in keep]
    name = args.unknown_model
    if name == "ensemble":
        tta = any(CANDIDATES[m]["tta"] for m in ENSEMBLE)
        clf, _ = fit([tracks[i] for i in tr], y[tr], ts.groups[keep][tr], classes, "ensemble",
                     spec_features({"streams": None}), replace(TrainConfig(threads=1), calibrate=True),
                     {"members": ensemble_specs(args)})  # fmt: skip
    else:
        s, tta = CANDIDATES[name], CANDIDATES[name]["tta"]
        clf, _ = fit([tracks[i] for i in tr], y[tr], ts.groups[keep][tr], classes, s["model"],
                     spec_features(s), replace(spec_train(s, args), calibrate=True), s["options"])  # fmt: skip

    def probs(trs):
        raw, owner = eval_windows(trs, clf.features)
        return clip_probs(clf.predict_windows(raw, tta=tta), owner, len(trs))

    p_known = probs([tracks[i] for i in te])
    p_unseen = probs([ts.tracks[i] for i in np.flatnonzero(ts.y == k)])
    r = unknown_rates(p_known, p_unseen, clf.extra["unknown_threshold"])
    r.update(left_out=left, threshold=clf.extra["unknown_threshold"], temperature=clf.extra["temperature"],
             known_clips=len(te), unseen_clips=len(p_unseen),
             known_accuracy=float((p_known.argmax(1) == y[te]).mean()))  # fmt: skip
    print(f"left out {left}: {r}", flush=True)
    return r


def leave_one_out(ts, args, log) -> list[dict]:
    """Unknown-exercise study (see module docstring), one exercise left out at a time."""
    return pmap(_loo_task, list(range(len(ts.classes))), args.jobs, args.ray)


def fmt_table(rows, classes) -> list[str]:
    head = ["model", "protocol", "accuracy", "macro-F1", *[f"F1 {c}" for c in classes], "params",
            "ms/clip (1 core)", "train s (all folds)"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, (res, params, ms) in rows.items():
        m = res.metrics()
        pcf = [f"{m['per_class'][c]['f1']:.3f}" for c in classes]
        lines.append(f"| {name} | {m['protocol']} | {m['accuracy_mean']:.4f} ± {m['accuracy_std']:.4f} | "
                     f"{m['macro_f1_mean']:.4f} | " + " | ".join(pcf) +
                     f" | {params:,} | {ms:.1f} | {res.seconds:.0f} |")  # fmt: skip
    return lines


def target_lines(rows) -> list[str]:
    def verdict(ok, text, by):
        return f"- {text}: **{'met' if ok else 'missed'}**" + ("" if ok else f" (by {by})")

    out = []
    grouped = {k: v for k, v in rows.items() if v[0].protocol == "grouped"}
    if "cnn-lstm" in grouped:
        m, secs = grouped["cnn-lstm"][0].metrics(), grouped["cnn-lstm"][0].seconds
        out += ["Issue 3 (cnn-lstm, grouped):",
                verdict(m["accuracy_mean"] >= 0.88, f"accuracy {m['accuracy_mean']:.4f} ≥ 0.88",
                        f"{0.88 - m['accuracy_mean']:.4f}"),
                verdict(m["macro_f1_mean"] >= 0.86, f"macro-F1 {m['macro_f1_mean']:.4f} ≥ 0.86",
                        f"{0.86 - m['macro_f1_mean']:.4f}"),
                verdict(secs < 600, f"5-fold training {secs:.0f} s < 600 s (one thread here, 2 cores shared)",
                        f"{secs - 600:.0f} s")]  # fmt: skip
    cands = {k: v for k, v in grouped.items() if k != "cnn-lstm"}
    if cands:
        best = max(cands, key=lambda k: cands[k][0].metrics()["macro_f1_mean"])
        m, ms = cands[best][0].metrics(), cands[best][2]
        ref = grouped["cnn-lstm"][0].metrics()["accuracy_mean"] if "cnn-lstm" in grouped else None
        out += ["", f"Issue 4 (best by grouped macro-F1: **{best}**):",
                verdict(m["accuracy_mean"] >= 0.98, f"accuracy {m['accuracy_mean']:.4f} ≥ 0.98",
                        f"{0.98 - m['accuracy_mean']:.4f}"),
                verdict(m["accuracy_std"] <= 0.02, f"accuracy std {m['accuracy_std']:.4f} ≤ 0.02",
                        f"{m['accuracy_std'] - 0.02:.4f}"),
                verdict(m["macro_f1_mean"] >= 0.97, f"macro-F1 {m['macro_f1_mean']:.4f} ≥ 0.97",
                        f"{0.97 - m['macro_f1_mean']:.4f}"),
                verdict(ms < 20, f"inference {ms:.1f} ms per clip < 20 ms", f"{ms - 20:.1f} ms")]  # fmt: skip
        if ref is not None:
            gap = m["accuracy_mean"] - ref
            out.append(verdict(gap >= 0.05, f"{100 * gap:+.1f} points of accuracy over cnn-lstm (≥ +5)",
                               f"{100 * (0.05 - gap):.1f} points"))  # fmt: skip
    return out


def unknown_lines(loo: list[dict], model: str) -> list[str]:
    """The markdown section of the leave-one-exercise-out study."""
    md: list[str] = []
    if loo:
        md += ["", "## Unknown exercises (leave one exercise out)", "",
               f"Model: {model} (settings as in accuracy_five.md), trained on four exercises (training part of grouped fold 1); temperature and "
               "threshold fitted on its inner grouped hold-out (5% of known hold-out clips rejected by design). "
               "`known rejected`: held-out clips of the four known exercises answered `unknown`; "
               "`left-out → unknown`: clips of the fifth exercise answered `unknown` (higher is better).", "",
               "| left out | temperature | threshold | known accuracy | known rejected | left-out → unknown |",
               "|---|---|---|---|---|---|"]  # fmt: skip
        for r in loo:
            md.append(f"| {r['left_out']} ({r['unseen_clips']} clips) | {r['temperature']:.2f} | "
                      f"{r['threshold']:.3f} | {r['known_accuracy']:.3f} | {100 * r['known_rejected']:.1f}% "
                      f"of {r['known_clips']} | {100 * r['unseen_unknown']:.1f}% |")  # fmt: skip
        md.append(f"| mean | | | {np.mean([r['known_accuracy'] for r in loo]):.3f} | "
                  f"{100 * np.mean([r['known_rejected'] for r in loo]):.1f}% | "
                  f"{100 * np.mean([r['unseen_unknown'] for r in loo]):.1f}% |")  # fmt: skip
    if any(r["temperature"] <= 0.2501 for r in loo):
        md += ["", "Where the temperature sits at the grid's lower end (0.25) the inner hold-out was classified "
               "without error, so the likelihood favours sharpening and the 5% quantile threshold lands near 1.0; "
               "on test clips that rejects far more than 5% of known exercises. Fitting temperature and threshold "
               "on out-of-fold predictions (harder, like test clips) is the next step."]  # fmt: skip
    return md


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cache", type=Path, default=ROOT / "cache")
    ap.add_argument(
        "--models", default=None, help="comma-separated (default: all registered + ensemble)"
    )
    ap.add_argument("--epochs", type=int, default=None, help="override every model's epochs")
    ap.add_argument(
        "--quick", action="store_true", help="≤ 15 epochs, no plain-k-fold row, no unknown study"
    )
    ap.add_argument(
        "--no-unknown", action="store_true", help="skip the leave-one-exercise-out study"
    )
    ap.add_argument(
        "--unknown-only",
        action="store_true",
        help="only the leave-one-exercise-out study, written to bench/results/unknown.md",
    )
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--seed", type=int, default=0, help="split and training seed (another seed: another split)"
    )
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes, one thread each")
    ap.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run the models' CVs and the leave-one-out study as Ray tasks (local, or a cluster address)",
    )
    ap.add_argument(
        "--unknown-model", default=DEFAULT, help="model of the leave-one-exercise-out study"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "accuracy_five.md")
    args = ap.parse_args(argv)
    clips_dir = args.data / "clips"
    if not clips_dir.is_dir():
        print(
            f"skipping: no shared data at {clips_dir} (clone the data beside the repo as ../shared)"
        )
        return 0

    import torch

    from workout_classifier.learn.dataset import scan_dataset
    from workout_classifier.learn.models import list_models
    from workout_classifier.learn.train import load_training_set
    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.extract import extract_clips

    torch.set_num_threads(1)
    names = args.models.split(",") if args.models else [*list_models()]
    unknown = [n for n in names if n not in CANDIDATES and n != "ensemble"]
    if unknown:
        print(f"no benchmark settings for {unknown}; known: {sorted(CANDIDATES)} + ensemble")
        return 2
    clips, _ = scan_dataset(clips_dir)
    clips = [c for c in clips if c.label in FIVE]
    cache = PoseCache(args.cache)
    extract_clips(
        [str(c.path) for c in clips], cache, workers=1, progress=False
    )  # only what the cache lacks
    ts = load_training_set(clips, cache, classes=FIVE)
    print(
        f"{len(ts.y)} clips, {len(np.unique(ts.groups))} groups, {len(ts.skipped)} skipped",
        flush=True,
    )

    _STATE.update(ts=ts, args=args)
    t0 = time.perf_counter()
    if args.unknown_only:
        loo = leave_one_out(ts, args, log=lambda s: print(s, flush=True))
        text = "\n".join(["# Unknown exercises", "", f"{len(ts.y)} clips of {', '.join(ts.classes)}; "
                          "`python bench/accuracy_five.py --unknown-only` reproduces it.", *unknown_lines(loo, args.unknown_model),
                          "", f"Time {time.perf_counter() - t0:.0f} s."]) + "\n"  # fmt: skip
        out = args.out.with_name("unknown.md")
        out.write_text(text)
        print(text)
        return 0
    rows = run_models(ts, names, args, log=lambda s: print(s, flush=True))
    loo = (
        []
        if (args.quick or args.no_unknown)
        else leave_one_out(ts, args, log=lambda s: print(s, flush=True))
    )

    md = [f"# Accuracy: grouped {args.folds}-fold on the five exercises with many clips", "",
          f"Protocol: `evaluate.make_splits(protocol='grouped', seed={args.seed})` (StratifiedGroupKFold: clips of one source "
          f"video never on both sides), {len(ts.y)} clips in {len(np.unique(ts.groups))} groups "
          f"({', '.join(f'{c} {int((ts.y == k).sum())}' for k, c in enumerate(ts.classes))}); {len(ts.skipped)} "
          "clips skipped (nobody visible / not extracted). The `plain k-fold` row is the reference's protocol "
          "(StratifiedKFold over clips), for comparison only. One CPU thread for training and inference, on a "
          "machine whose 2 cores were shared with other jobs, so times are upper bounds. "
          f"{'Quick run (≤ 15 epochs). ' if args.quick else ''}`python bench/accuracy_five.py` reproduces it.", "",
          *fmt_table(rows, ts.classes), "", "Settings:", ""]  # fmt: skip
    for name in rows:
        if name in CANDIDATES:
            s = CANDIDATES[name]
            md.append(f"- {name}: streams {list(spec_features(s).streams)}, options {s['options']}, "
                      f"TrainConfig overrides {s['train'] or 'none (defaults)'}")  # fmt: skip
    if "ensemble" in rows:
        md.append(
            f"- ensemble: mean of the probabilities of {', '.join(ENSEMBLE)} as above (late fusion)"
        )
    if WITH_TREES in rows:
        md.append(
            f"- {WITH_TREES}: mean of the probabilities of {', '.join(ENSEMBLE)} and trees as above"
        )
    md += ["", "## Targets", "", *target_lines(rows), "", REFERENCE_NOTE]
    md += unknown_lines(loo, args.unknown_model)
    md += ["", f"Total benchmark time {time.perf_counter() - t0:.0f} s."]
    write_table([*md, ""], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
