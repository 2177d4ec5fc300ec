"""Pose recovery and main-person benchmark on ../shared/data (issue 10).

Steps (each writes its part to bench/results/pose_recovery.json; `report` turns
that into bench/results/pose_recovery.md):

    python bench/pose_recovery.py frames                 # per exercise, from cache metadata, no extraction
    python bench/pose_recovery.py build-off              # recover=False copies of clips with recovered frames
    python bench/pose_recovery.py extract-new --new /work/cache-10   # clips needing recovery, current code
    flock /work/cpu.lock python bench/pose_recovery.py timing --sample 30
    python bench/pose_recovery.py accuracy               # grouped 5-fold, default model, recovery on vs off
    python bench/pose_recovery.py report

`frames`: "before" is what the tracker alone found (detected minus the
recovered_frames each clip's metadata records), "after" is what the cache holds;
`--new CACHE` adds the shares of a cache made by newer code, for the clips it has.
`build-off` writes recover=False extractions of the clips that had recovered
frames into `--off` (other clips give the same arrays either way, so the "off"
set is those plus the shared cache). `timing` extracts a sample of clips that
need no recovery (found on every frame with the tracker alone) with recovery and
main-person choice on, and with both off, alternating, one process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from common import write_table
from pose_recovery_report import render

from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.landmarks import PoseSequence, PoseSettings
from workout_classifier.pose.runner import extract_pose

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "clips"
RESULTS = ROOT / "bench" / "results"
STORE = RESULTS / "pose_recovery.json"


def _load_store() -> dict:
    return json.loads(STORE.read_text()) if STORE.exists() else {}


def _save(part: str, value, **extra) -> None:
    store = _load_store()
    store[part] = {
        "value": value,
        **extra,
        "load": list(os.getloadavg()),
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    STORE.write_text(json.dumps(store, indent=1))


def _metas(cache_dir: Path) -> dict[str, tuple[dict, np.ndarray]]:
    """source path -> (meta, detected) for every clip file in a cache folder (any settings)."""
    out = {}
    for f in sorted(Path(cache_dir).glob("*.npz")):
        with np.load(f, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            out[(meta["source"], meta["settings"]["version"], meta["settings"]["recover"])] = (
                meta,
                z["detected"],
            )
    return out


def _exercise(source: str) -> str:
    return Path(source).parent.name


def _rel(source) -> str:
    """exercise/clip name: the same clip whichever folder the cache was made from."""
    return "/".join(Path(source).parts[-2:])


def frames(args) -> None:
    shared = {_rel(src): (m, det) for src, m, det in _shared(args)}
    rows = defaultdict(lambda: Counter())
    for src, (meta, det) in shared.items():
        r = rows[_exercise(src)]
        n, found, rec = len(det), int(det.sum()), int(meta.get("recovered_frames", 0))
        r["clips"] += 1
        r["frames"] += n
        r["before"] += found - rec
        r["after"] += found
        r["none_before"] += found - rec == 0
        r["none_after"] += found == 0
        r["needs_recovery"] += found - rec < n
    if args.new:
        new = {
            _rel(k[0]): v
            for k, v in _metas(Path(args.new)).items()
            if k[1] == PoseSettings.VERSION and k[2]
        }
        for src, (meta, det) in new.items():
            if src not in shared:
                continue
            r = rows[_exercise(src)]
            old_meta, old_det = shared[src]
            r["new_clips"] += 1
            r["new_frames"] += len(det)
            r["new_found"] += int(det.sum())
            r["new_old_found"] += int(old_det.sum())  # the same clips in the shared cache
            r["new_none"] += int(det.sum()) == 0
            r["new_people"] += meta.get("people", 1) > 1
        for src, (
            _,
            det,
        ) in shared.items():  # the whole exercise: re-extracted clips new, the others as cached
            rows[_exercise(src)]["whole_new"] += (
                int(new[src][1].sum()) if src in new else int(det.sum())
            )
            rows[_exercise(src)]["whole_new_none"] += (
                int((new[src][1] if src in new else det).sum()) == 0
            )
    _save("frames", {k: dict(v) for k, v in sorted(rows.items())}, version=args.shared_version)
    print(json.dumps(_load_store()["frames"], indent=1))


def _extract_into(cache: PoseCache, todo: list[str]) -> None:
    """Extract each clip of `todo` that `cache` lacks, with the cache's settings and the current code."""
    t0 = time.time()
    for i, p in enumerate(todo):
        key = cache.key(p)
        if not cache.data_path(key).exists():
            extract_pose(p, cache.settings, sha256=cache.sha256(p)).save(cache.data_path(key))
        if i % 10 == 0:
            print(f"{i}/{len(todo)} {time.time() - t0:.0f}s", flush=True)
    print(f"{len(todo)} clips in {cache.root}, {time.time() - t0:.0f}s")


def _shared(args):
    """(source, meta, detected) of the shared cache's files (recovery on, its settings version)."""
    return [(src, m, det) for (src, ver, rec), (m, det) in _metas(Path(args.cache)).items()
            if rec and ver == args.shared_version]  # fmt: skip


def build_off(args) -> None:
    """recover=False (and no main-person choice) copies of the clips that had recovered frames."""
    todo = sorted(
        str(DATA / _rel(src)) for src, m, _ in _shared(args) if m.get("recovered_frames", 0) > 0
    )
    _extract_into(PoseCache(args.off, PoseSettings(recover=False, main_person=False)), todo)


def extract_new(args) -> None:
    """Extract with the current code (settings VERSION now) the clips the tracker alone missed frames of."""
    todo = [str(DATA / _rel(src)) for src, m, det in _shared(args)
            if int(det.sum()) - m.get("recovered_frames", 0) < len(det)
            and (not args.exercise or _exercise(src) == args.exercise)][args.part::args.every]  # fmt: skip
    _extract_into(PoseCache(args.new or args.off, PoseSettings(main_person=args.main_person)), todo)


def timing(args) -> None:
    clean = sorted(str(DATA / _rel(src)) for src, m, det in _shared(args)
                   if det.all() and m.get("recovered_frames", 0) == 0)  # fmt: skip
    sample = random.Random(0).sample(clean, min(args.sample, len(clean)))
    on, off = (
        PoseSettings(main_person=bool(args.main_person)),
        PoseSettings(recover=False, main_person=False),
    )
    extract_pose(sample[0], on)  # warm-up: imports and the first graph
    secs = {"on": [], "off": []}
    people = 0
    for rep in range(args.repeats):
        for i, p in enumerate(sample):
            order = (("on", on), ("off", off)) if (i + rep) % 2 == 0 else (("off", off), ("on", on))
            for name, s in order:
                t = time.perf_counter()
                seq = extract_pose(p, s)
                secs[name].append(time.perf_counter() - t)
                people += name == "on" and rep == 0 and seq.meta["people"] > 1
        print(
            f"repeat {rep + 1}: on {sum(secs['on']):.1f}s off {sum(secs['off']):.1f}s", flush=True
        )
    part = (
        "timing" if args.main_person else "timing_default"
    )  # main person on (the default since 2026-12-04) / off
    _save(part, {"clips": len(sample), "repeats": args.repeats, "pool": len(clean), "multi_person": people,
                     "on_s": sum(secs["on"]), "off_s": sum(secs["off"]),
                     "per_clip_ratio_median": float(np.median(np.divide(secs["on"], secs["off"])))})  # fmt: skip
    print(_load_store()[part])


class _Layers:
    """Loads a clip from the first of several {source: npz file} maps that has it."""

    def __init__(self, *layers: dict[str, Path]):
        self.layers = layers

    def load(self, path) -> PoseSequence:
        for files in self.layers:
            if _rel(path) in files:
                return PoseSequence.load(files[_rel(path)])
        raise KeyError(f"not in any cache: {path}")


def _files(
    cache_dir: Path, version: int | None = None, recover: bool | None = None
) -> dict[str, Path]:
    """source path -> npz file in `cache_dir`, for files made with that settings version and recover flag."""
    out = {}
    for f in sorted(Path(cache_dir).glob("*.npz")):
        with np.load(f, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
        s = meta["settings"]
        if (version is None or s["version"] == version) and (
            recover is None or s["recover"] == recover
        ):
            out[_rel(meta["source"])] = f
    return out


def accuracy(args) -> None:
    from workout_classifier.learn.dataset import scan_dataset
    from workout_classifier.learn.evaluate import cross_validate
    from workout_classifier.learn.models import default_features
    from workout_classifier.learn.train import TrainConfig, load_training_set

    clips, _ = scan_dataset(DATA)
    counts = Counter(c.label for c in clips)
    clips = [c for c in clips if counts[c.label] >= 7]  # as `workout evaluate` (--min-clips 7)
    shared = _files(Path(args.cache), args.shared_version, recover=True)
    sets = {
        "on": _Layers(shared),
        "off": _Layers(_files(Path(args.off), args.shared_version, recover=False), shared),
    }
    if args.new:  # the clips re-extracted by the current code, the others as in the shared cache
        sets["new"] = _Layers(_files(Path(args.new), PoseSettings.VERSION, recover=True), shared)
    out, right = {}, {}
    for name, cache in sets.items():
        ts = load_training_set([c for c in clips if _rel(c.path) in shared], cache)
        names = [f"{ts.classes[k]}/{n}" for k, n in zip(ts.y, ts.names, strict=True)]
        acc, f1, t = [], [], time.time()
        for seed in range(args.seeds):
            res = cross_validate(ts.tracks, ts.y, ts.groups, ts.classes, "trees", default_features("trees"),
                                 TrainConfig(seed=seed), folds=5, protocol="grouped")  # fmt: skip
            acc += [f["accuracy"] for f in res.folds]
            f1 += [f["macro_f1"] for f in res.folds]
            for i, ok in zip(res.tested, res.y_pred == res.y_true, strict=True):
                right.setdefault(name, {}).setdefault(names[i], []).append(bool(ok))
        out[name] = {
            "clips": len(ts.y),
            "skipped": len(ts.skipped),
            "seeds": args.seeds,
            "accuracy": float(np.mean(acc)),
            "accuracy_std": float(np.std(acc)),
            "macro_f1": float(np.mean(f1)),
            "macro_f1_std": float(np.std(f1)),
            "seconds": time.time() - t,
        }
        print(name, out[name], flush=True)
    common = set.intersection(*(set(r) for r in right.values()))  # clips every variant could use
    for name, r in right.items():
        out[name]["common_clips"] = len(common)
        out[name]["common_accuracy"] = float(np.mean([np.mean(r[c]) for c in common]))
    _save("accuracy", out)


def report(args) -> None:
    write_table(render(_load_store()).splitlines(), Path(args.out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "step", choices=["frames", "build-off", "extract-new", "timing", "accuracy", "report"]
    )
    ap.add_argument("--cache", default="/work/cache", help="the shared cache (current settings)")
    ap.add_argument("--off", default="/work/cache-10", help="where recover=False copies go")
    ap.add_argument("--new", default=None, help="a cache made by newer code (settings VERSION now)")
    ap.add_argument(
        "--shared-version",
        type=int,
        default=PoseSettings.VERSION,
        help="settings VERSION of the shared cache's files",
    )
    ap.add_argument("--exercise", default=None, help="extract-new: only this exercise")
    ap.add_argument("--every", type=int, default=1, help="extract-new: every n-th clip of the list")
    ap.add_argument(
        "--part", type=int, default=0, help="extract-new: start at this index (split a run)"
    )
    ap.add_argument(
        "--main-person",
        type=int,
        default=1,
        help="extract-new, timing: main-person choice on (1) or off (0)",
    )
    ap.add_argument("--seeds", type=int, default=3, help="accuracy: split seeds 0..n-1, averaged")
    ap.add_argument("--sample", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default=str(RESULTS / "pose_recovery.md"))
    args = ap.parse_args()
    {
        "frames": frames,
        "build-off": build_off,
        "extract-new": extract_new,
        "timing": timing,
        "accuracy": accuracy,
        "report": report,
    }[args.step](args)


if __name__ == "__main__":
    main()
