"""Speed of an answer: `workout predict` cold and `workout serve` warm, beside a bare MediaPipe loop.

Two videos: a real clip of about 5 s, and a session of two minutes or more
(real clips of three exercises joined end to end, scaled to 1280x720 at 30 fps,
written to a temporary folder, never into the project). For each:

- bare: a fresh Python process that imports MediaPipe and OpenCV, decodes the
  video, keeps as many frames a second as the shipped model samples (its pose
  settings' fps: the same frames `predict` reads), converts them to RGB and runs
  `Pose.process` on each: the floor any pose-based answer stands on;
- cold: a fresh `workout predict VIDEO --json` process (no cache, shipped model):
  what a user waits for, imports and model loading included;
- warm: one POST /api/predict to a running `workout serve` (workers started and
  warmed up by one request first).

Each is run `--repeats` times, alternating, and the median kept; the machine
is shared, so the ratio to the bare loop measured in the same run is the
figure to compare, and `uptime` is printed before and after. Run it under
`flock /work/cpu.lock` on the shared machine. Writes bench/results/predict.md.

Usage: flock /work/cpu.lock python bench/predict.py [--repeats 3]

On a machine shared with other jobs, give the run the CPU as bench/extract.py says (the results
file says when a run had raised priority).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from common import free_port, multipart, priority_note, uptime, wait_for_server, write_table

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

BARE = r"""
import sys, cv2, mediapipe as mp
cap = cv2.VideoCapture(sys.argv[1])
fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
stride, nxt, i, n = max(fps / float(sys.argv[2]), 1.0), 0.0, 0, 0
with mp.solutions.pose.Pose(model_complexity=1) as pose:
    while True:
        if i + 1e-6 >= nxt:
            ok, f = cap.read()
            if not ok:
                break
            nxt += stride
            pose.process(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
            n += 1
        elif not cap.grab():
            break
        i += 1
print(n)
"""


def model_fps() -> float:
    """The sampling rate of the shipped model's pose settings (what `workout predict` reads)."""
    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.predict import pose_settings_for

    return float(pose_settings_for(Classifier.load()).fps)


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    s = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return s, r.stdout


def duration(path: Path) -> float:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n, fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS) or 30.0
    cap.release()
    return n / fps


def five_second_clip(data: Path) -> Path:
    """The real squat clip closest to 5 s (first by name among equals): the same one every run."""
    clips = sorted(
        p for p in (data / "squat").glob("*") if p.suffix.lower() in {".mp4", ".mov", ".avi"}
    )
    return min(clips, key=lambda p: (abs(duration(p) - 5.0), str(p)))


def make_session(data: Path, out: Path, seconds: float = 130.0) -> Path:
    """Real clips of squat, push up and lunges (a third of the time each), joined at 1280x720, 30 fps.

    Frames are written as they come (the clips are 25-30 fps, so a few play slightly fast)."""
    import cv2

    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (1280, 720))
    for ex in ("squat", "push up", "lunges"):
        frames = 0
        for clip in sorted((data / ex).glob("*.mp4")):
            if frames >= seconds / 3 * 30:
                break
            cap = cv2.VideoCapture(str(clip))
            while True:
                ok, f = cap.read()
                if not ok:
                    break
                vw.write(cv2.resize(f, (1280, 720)))
                frames += 1
            cap.release()
    vw.release()
    return out


def post(port: int, path: Path) -> dict:
    body, ctype = multipart(path)
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/predict", data=body, method="POST",
                                 headers={"Content-Type": ctype})  # fmt: skip
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def start_server(port: int) -> subprocess.Popen:
    """`workout serve` as a user starts it."""
    proc = subprocess.Popen([str(BIN / "workout"), "serve", "--port", str(port), "--max-upload-mb", "2000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return wait_for_server(proc, port, 60, "workout serve")


def said(answer: dict) -> str:
    """The answer column: the label (or error), and the exercises of a clip of several."""
    several = ", ".join(e["label"] for e in answer.get("exercises") or [])
    return (answer["label"] or answer["error"]) + (f" (several: {several})" if several else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "clips")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "predict.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared clips sit beside the checkout)")
        return
    load_before = uptime()
    tmp = tempfile.TemporaryDirectory(prefix="bench-predict-")
    clip = five_second_clip(args.data)
    session = make_session(args.data, Path(tmp.name) / "session.mp4")
    videos = [("5 s clip", clip), ("session", session)]
    fps = model_fps()
    port = free_port()
    server = start_server(port)
    rows = []
    try:
        post(port, clip)  # warm-up: workers load MediaPipe and the model
        for name, v in videos:
            bare, cold, warm = [], [], []
            answer = None
            for _ in range(args.repeats if name == "5 s clip" else 1):
                bare.append(timed([sys.executable, "-c", BARE, str(v), str(fps)])[0])
                s, out = timed([str(BIN / "workout"), "predict", str(v), "--json"])
                cold.append(s)
                answer = json.loads(out)[0]
                t0 = time.perf_counter()
                post(port, v)
                warm.append(time.perf_counter() - t0)
            b, c, w = (float(np.median(x)) for x in (bare, cold, warm))
            rows.append((name, v, duration(v), b, c, w, said(answer), len(bare)))
            print(rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait(10)
        tmp.cleanup()
    load_after = uptime()
    lines = [
        "# Time to an answer",
        "",
        f"`python bench/predict.py` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}; load average "
        f"(1, 5, 15 min) {load_before} before, {load_after} after (a shared machine: compare the ratios)."
        + priority_note(),
        f"Bare: a fresh process importing MediaPipe and running `Pose.process` at {fps:g} fps (the shipped model's "
        "rate) over the same frames. "
        "Cold: a fresh `workout predict VIDEO --json` (no cache, shipped model). Warm: POST /api/predict to a "
        "running `workout serve` (2 workers, warmed up). Median of the runs shown.",
        "",
        "| video | length s | runs | bare s | cold s | cold / bare | warm s | warm / bare | video s per cold s | answer |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *[
            f"| {n} (`{v.name if n != 'session' else 'squat, push up, lunges at 720p'}`) | {d:.1f} | {k} | {b:.2f} | "
            f"{c:.2f} | {c / b:.2f} | {w:.2f} | {w / b:.2f} | {d / c:.1f} | {a} |"
            for n, v, d, b, c, w, a, k in rows
        ],  # fmt: skip
        "",
    ]
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
