"""Does the default model depend on how the clip is framed? Writes bench/results/reframe.md.

The trees' window statistics include framing (torso size, where hips and
shoulders sit in the frame), so a phone clip filmed closer, farther or off-centre
might read differently. Grouped 5-fold as in bench/accuracy_five.py (seed 0): each
fold's model is trained on the clips as they are, then tested on its test clips
as they are and re-framed: image landmarks zoomed about the frame centre and
shifted, as if the camera had been closer, farther or aimed elsewhere (world
landmarks, in metres around the hips, do not change with framing).

Usage: python bench/reframe.py [--model trees] [--cache cache]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import FIVE, cached_five
from sklearn.metrics import f1_score

HERE = Path(__file__).resolve().parent
VIEWS = {  # name: (zoom, shift x, shift y), shifts in frame heights
    "as filmed": (1.0, 0.0, 0.0),
    "farther (zoom 0.6)": (0.6, 0.0, 0.0),
    "closer (zoom 1.4)": (1.4, 0.0, 0.0),
    "off-centre (+0.15, +0.10)": (1.0, 0.15, 0.10),
    "farther and off-centre (0.7; -0.10, +0.15)": (0.7, -0.10, 0.15),
}


def reframe(raw: np.ndarray, aspect: float, zoom: float, dx: float, dy: float) -> np.ndarray:
    """Image landmarks of windows (W, T, V, 8) zoomed about the frame centre and shifted."""
    out = raw.copy()
    cx = aspect / 2  # x is in frame heights after features.windows
    out[..., 0] = cx + zoom * (out[..., 0] - cx) + dx
    out[..., 1] = 0.5 + zoom * (out[..., 1] - 0.5) + dy
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "clips")
    ap.add_argument("--cache", type=Path, default=HERE.parent / "cache")
    ap.add_argument("--model", default="trees")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "reframe.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipping: no shared data at {args.data}")
        return
    from workout_classifier.learn.evaluate import make_splits
    from workout_classifier.learn.features import windows
    from workout_classifier.learn.models import default_features, mirror_tta
    from workout_classifier.learn.train import TrainConfig, fit

    _, ts = cached_five(args.data, args.cache)
    feats = default_features(args.model)
    t0 = time.perf_counter()
    probs = {v: np.zeros((len(ts.y), len(FIVE))) for v in VIEWS}
    for tr, te in make_splits(ts.y, ts.groups, 5, "grouped", 0):
        clf, _ = fit([ts.tracks[i] for i in tr], ts.y[tr], ts.groups[tr], ts.classes, args.model, feats,
                     TrainConfig(seed=0, threads=1))  # fmt: skip
        for i in te:
            raw, _ = windows(ts.tracks[i], clf.features)
            for v, (z, dx, dy) in VIEWS.items():
                w = clf.predict_windows(
                    reframe(raw, ts.tracks[i].aspect, z, dx, dy), tta=mirror_tta(args.model)
                )
                probs[v][i] = w.mean(0)
    lines = [
        "# Framing: the same test clips, re-framed",
        "",
        f"Model `{args.model}`, grouped 5-fold (seed 0), {len(ts.y)} clips of {', '.join(FIVE)}; trained on clips as "
        "filmed, tested on its held-out clips as filmed and with the image landmarks zoomed about the frame "
        "centre and shifted (as if filmed closer, farther or off-centre). `python bench/reframe.py` reproduces it.",
        "",
        "| test clips | accuracy | macro-F1 |",
        "| --- | ---: | ---: |",
    ]
    for v, p in probs.items():
        pred = p.argmax(1)
        lines.append(
            f"| {v} | {(pred == ts.y).mean():.3f} | {f1_score(ts.y, pred, average='macro'):.3f} |"
        )
    lines += ["", f"Time {time.perf_counter() - t0:.0f} s."]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
