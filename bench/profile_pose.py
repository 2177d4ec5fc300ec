"""Where one clip's extraction time goes, in the real pipeline (`pose.extract_pose` + cache write).

On a seeded random sample of real clips (default 40), in one process after a
warm-up, at each rate asked for (default 15 and 10 fps), the wall time of
`extract_pose` + `PoseSequence.save` is split into: the tracking graph's
`process` calls (first frame of each clip apart: a fresh graph detects the
person and warms up), the static-mode graph of pose recovery (frames the tracker
missed), graph creation and closing, the compressed write, and the rest (Python
around the graph, waiting for frames). Decoding runs in a helper thread beside
the graph, so it is measured apart: a decode-only pass over the same clips
(PyAV, sampling, conversion to RGB; every frame is decoded, only sampled ones
converted). Prints a table and writes bench/results/profile_pose.md. Run under
`flock /work/cpu.lock` on the shared machine.

Usage: python bench/profile_pose.py [--clips 40] [--fps 15,10]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import workout_classifier.pose.landmarks as pose_mod

HERE = Path(__file__).resolve().parent
CLIPS = HERE.parents[1] / "shared" / "data" / "clips"
PARTS = ("track", "track_first", "static", "create", "close", "save")


def timed_pose_factory(clock: Counter):
    """A create_pose that books every call of the graphs it makes into `clock`."""
    create = pose_mod.create_pose

    def make(settings, static: bool = False):
        t = time.perf_counter()
        pose = create(settings, static)
        clock["create"] += time.perf_counter() - t
        process, close, first = pose.process, pose.close, [not static]

        def timed_process(frame):
            t = time.perf_counter()
            res = process(frame)
            key = "static" if static else ("track_first" if first[0] else "track")
            first[0] = False
            clock[key] += time.perf_counter() - t
            clock[key + "_n"] += 1
            return res

        def timed_close():
            t = time.perf_counter()
            close()
            clock["close"] += time.perf_counter() - t

        pose.process, pose.close = timed_process, timed_close
        return pose

    return make


def profile(paths: list[Path], fps: float) -> list[str]:
    from workout_classifier.frames.video import open_frames

    settings = pose_mod.PoseSettings(fps=fps)
    t = time.perf_counter()
    for p in paths:
        _, frames = open_frames(p, fps)
        for _ in frames:
            pass
    decode = time.perf_counter() - t
    clock: Counter = Counter()
    saved = pose_mod.create_pose
    pose_mod.create_pose = timed_pose_factory(clock)
    try:
        pose_mod.extract_pose(
            paths[0], settings
        )  # warm-up (the first graph of a process loads the model)
        clock.clear()
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            for i, p in enumerate(paths):
                seq = pose_mod.extract_pose(p, settings)
                s = time.perf_counter()
                seq.save(Path(d) / f"{i}.npz")
                clock["save"] += time.perf_counter() - s
            total = time.perf_counter() - t
    finally:
        pose_mod.create_pose = saved
    n = clock["track_n"] + clock["track_first_n"]
    rest = total - sum(clock[k] for k in PARTS)
    rows = [(k, clock[k]) for k in PARTS] + [("rest", rest)]
    names = {
        "track": "tracking graph, frames after the first", "track_first": "tracking graph, first frame of a clip",
        "static": f"recovery (static graph, {clock['static_n']} calls)", "create": "graph creation",
        "close": "graph close", "save": "compressed write (npz)", "rest": "rest (Python, waiting for frames)",
    }  # fmt: skip
    lines = [f"### {fps:g} fps: {len(paths)} clips, {n} sampled frames, {total:.1f} s ({1e3 * total / n:.1f} ms "
             "per sampled frame)", "", "| part | s | ms per sampled frame | share |", "| --- | ---: | ---: | ---: |"]  # fmt: skip
    lines += [f"| {names[k]} | {v:.2f} | {1e3 * v / n:.2f} | {v / total:.1%} |" for k, v in rows]
    lines += [f"| decoding (helper thread, measured apart) | {decode:.2f} | {1e3 * decode / n:.2f} | "
              f"({decode / total:.1%}) |", ""]  # fmt: skip
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--fps", default="15,10")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "profile_pose.md")
    args = ap.parse_args()
    paths = sorted(
        p
        for p in CLIPS.glob("*/*")
        if p.suffix.lower() in {".mp4", ".avi", ".mov", ".mkv", ".webm"}
    )
    if not paths:
        print(f"skipped: no clips (the shared clips sit beside the checkout at {CLIPS})")
        return
    random.Random(args.seed).shuffle(paths)
    paths = paths[: args.clips]
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [
        "# Where extraction time goes (one process, real pipeline)",
        "",
        f"`python bench/profile_pose.py --clips {args.clips} --fps {args.fps}`, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"load average {load} at the start; {len(paths)} clips drawn with random.Random({args.seed}) from "
        "`../shared/data/clips`. Pose settings: the defaults (recovery on) but the rate.",
        "",
    ]
    for fps in (float(f) for f in args.fps.split(",")):
        lines += profile(paths, fps)
    text = "\n".join(lines)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
