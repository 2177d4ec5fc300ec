"""Where one clip's extraction time goes: decode, skipped-frame grab, colour conversion, pose graph.

Per sampled frame (15 fps), on a few real clips of different sizes, in one process
after a warm-up; and the pose graph again on frames resized to 480 rows first (does
shrinking large frames before MediaPipe pay?). Prints a table and writes
bench/results/profile_pose.md. Run under `flock /work/cpu.lock` on the shared machine.

Usage: python bench/profile_pose.py [CLIP ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2

from workout_classifier.pose import PoseSettings, create_pose
from workout_classifier.video import sample_stride

HERE = Path(__file__).resolve().parent
CLIPS = HERE.parents[1] / "shared" / "data" / "clips"
DEFAULT = ["squat/v_BodyWeightSquats_g25_c07.mp4", "squat/squat_16.mp4", "push up/pushfit-correct1.mp4"]


def profile(path: Path) -> str:
    cap = cv2.VideoCapture(str(path))
    stride = sample_stride(cap.get(cv2.CAP_PROP_FPS) or 30.0, 15.0)
    nxt, i, read_s, grab_s, colour_s, frames = 0.0, 0, 0.0, 0.0, 0.0, []
    while True:
        t = time.perf_counter()
        if i + 1e-6 >= nxt:
            ok, f = cap.read()
            read_s += time.perf_counter() - t
            if not ok:
                break
            nxt += stride
            t = time.perf_counter()
            frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
            colour_s += time.perf_counter() - t
        else:
            ok = cap.grab()
            grab_s += time.perf_counter() - t
            if not ok:
                break
        i += 1
    cap.release()
    h, w = frames[0].shape[:2]

    def pose_ms(fr) -> float:
        p = create_pose(PoseSettings())
        p.process(fr[0])  # warm-up frame, off the clock
        t = time.perf_counter()
        for f in fr[1:]:
            p.process(f)
        p.close()
        return 1e3 * (time.perf_counter() - t) / max(len(fr) - 1, 1)

    small = f"{pose_ms([cv2.resize(f, (int(w * 480 / h), 480)) for f in frames]):.1f}" if h > 480 else "-"
    n = len(frames)
    return (f"| {path.parent.name}/{path.name} | {w}x{h} | {n} | {1e3 * read_s / n:.1f} | {1e3 * grab_s / n:.1f} | "
            f"{1e3 * colour_s / n:.2f} | {pose_ms(frames):.1f} | {small} |")  # fmt: skip


def main() -> None:
    paths = [Path(a) for a in sys.argv[1:]] or [CLIPS / c for c in DEFAULT]
    paths = [p for p in paths if p.is_file()]
    if not paths:
        print(f"skipped: no clips (the shared clips sit beside the checkout at {CLIPS})")
        return
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [
        "# Where extraction time goes (ms per sampled frame, 15 fps, one process)",
        "",
        f"`python bench/profile_pose.py`, {time.strftime('%Y-%m-%d %H:%M')}, load average {load} at the start.",
        "",
        "| clip | size | frames | read (decode) | grab (skipped frames) | BGR->RGB | pose graph | pose on 480-row resize |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[profile(p) for p in paths],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "profile_pose.md").write_text(text)


if __name__ == "__main__":
    main()
