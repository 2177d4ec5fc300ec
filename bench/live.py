"""Live speed and counts: writes bench/results/live.md.

(a) `workout live --source FILE --json` on files played as streams at their own speed
    (a process per clip, as a user runs it): frames processed per second, frames dropped,
    latency p50/p95 from a frame becoming available to its answer printed, and the final
    label and reps against `workout predict --json --reps` on the same file.
(b) The page in headless Chromium (Debian's /usr/bin/chromium, Playwright) with a fake camera
    playing a real clip (.y4m, 30 fps, 480 px wide): frames processed per second, camera frames
    skipped, latency p50/p95 measured in the page from the camera frame's capture time
    (requestVideoFrameCallback) to the overlay drawn for it (the server echoes the frame id).
(c) Two pages at once, each its own camera session and worker: the same figures per page, and
    whether either falls behind (latency growing from the first to the last third of the run).

Usage: python bench/live.py [--data ../shared/data] [--out bench/results/live.md] [--quick]
Run under `flock /work/cpu.lock` on a shared machine; the load is written into the result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import write_table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [
    str(ROOT / "tests"),
    str(ROOT / "tests" / "apps"),
]  # the fake camera, drawn figure, test server

CLI_CLIPS = [  # (clip, its exercise): 6-12 s clips of several exercises, and a generated one
    "push up/push up_smayan.mp4", "pull up/pull-up_6.mp4", "squat/v_BodyWeightSquats_g10_c02.mp4",
    "squat/v_BodyWeightSquats_g17_c03.mp4", "lunges/v_Lunges_g15_c02.mp4", "bench press/v_BenchPress_g17_c02.mp4",
]  # fmt: skip
CAMERA_CLIP = "push up/push up_smayan.mp4"
LEAD_SECONDS = (
    3.0  # the camera file starts with the clip's first frame held: the session is ready by then
)


def load() -> str:
    return (
        "load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + f" on {os.cpu_count()} cores"
    )


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "workout_classifier.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)  # fmt: skip


def offline(clip: Path) -> dict:
    res = cli("predict", "--json", "--reps", str(clip))
    return json.loads(res.stdout)[0]


def live_file(clip: Path) -> dict:
    """One `workout live --json` run; the summary plus the per-frame latencies it printed."""
    t0 = time.perf_counter()
    res = cli("live", "--json", "--source", str(clip))
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    if res.returncode or not lines or "summary" not in lines[-1]:
        raise RuntimeError(f"{clip}: workout live failed: {res.stderr[-500:]}")
    summary = lines[-1]["summary"]
    summary["process_s"] = round(time.perf_counter() - t0, 2)
    summary["noise"] = bool(res.stderr.strip())
    return summary


def part_cli(clips: list[Path]) -> tuple[list[str], dict]:
    rows = ["| clip | s | fps processed | read | dropped | latency p50 / p95 ms | live: label, reps | "
            "offline: label, reps | reps within one |", "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"]  # fmt: skip
    fps, p95, ok, n = [], [], 0, 0
    for clip in clips:
        off = offline(clip)
        s = live_file(clip)
        labels = [x["label"] for x in s["sets"]]
        live_reps = sum(x["reps"] for x in s["sets"] if x["label"] == off["label"])
        same = labels == [off["label"]] if off["label"] else not labels
        within = same and abs(live_reps - (off["reps"] or 0)) <= 1
        ok += within
        n += 1
        fps.append(s["fps_processed"])
        p95.append(s["latency_ms_p95"])
        name = clip.name if clip.parent.name == "gen" else f"{clip.parent.name}/{clip.name}"
        rows.append(f"| {name} | {s['duration']:.1f} | {s['fps_processed']:.1f} | {s['frames_read']} | "
                    f"{s['frames_dropped']} | {s['latency_ms_p50']:.0f} / {s['latency_ms_p95']:.0f} | "
                    f"{', '.join(labels) or '-'}, {live_reps} | {off['label']}, {off['reps']} | "
                    f"{'yes' if within else 'NO'} |")  # fmt: skip
        print(rows[-1], flush=True)
    return rows, {"fps_min": min(fps), "p95_max": max(p95), "reps_ok": ok, "clips": n}


# ---- the page ------------------------------------------------------------------------------------
def camera_file(clip: Path, folder: Path) -> tuple[dict, dict]:
    """The y4m the fake camera plays (the first frame held LEAD_SECONDS, then the clip) and the offline answer."""
    import cv2
    from fakecam import write_y4m

    cap = cv2.VideoCapture(str(clip))
    ok, first = cap.read()
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    lead = folder / "lead.mp4"
    vw = cv2.VideoWriter(
        str(lead), cv2.VideoWriter_fourcc(*"mp4v"), fps, (first.shape[1], first.shape[0])
    )
    for _ in range(int(LEAD_SECONDS * fps)):
        vw.write(first)
    while ok:
        vw.write(first)
        ok, first = cap.read()
    vw.release()
    return write_y4m(lead, folder / "camera.y4m", fps=30, width=480), offline(clip)


def run_pages(browser, base: str, pages: int, seconds: float) -> list[dict]:
    """`pages` pages in camera mode at once for `seconds` after the first is ready; then Stop, and the summaries."""
    from fakecam import live_stats, wait_until

    pgs = [
        browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        for _ in range(pages)
    ]
    for pg in pgs:
        pg.goto(base + "/")
        pg.wait_for_selector("#model-info:not(:empty)")
    for pg in pgs:  # both cameras start together: the file plays from its start in each
        pg.click("#camera-start")
    for pg in pgs:
        wait_until(pg, "window.liveStats && window.liveStats.frames > 0", timeout=120)
    time.sleep(seconds)
    out = []
    for pg in pgs:
        st = live_stats(pg)
        pg.click("#camera-stop")
        pg.wait_for_selector(
            "#cam-sets li, #cam-label:text('No exercise recognised')", timeout=30_000
        )
        st["sets"] = [li.text_content() for li in pg.locator("#cam-sets li").all()]
        out.append(st)
        pg.context.close()
    return out


def page_figures(st: dict) -> dict:
    s = st["samples"][3:]  # the first frames start the worker's pose graph
    ms = np.array([x["ms"] for x in s])
    at = np.array([x["at"] for x in s])
    third = max(len(ms) // 3, 1)
    span = (at[-1] - at[0]) / 1000 if len(at) > 1 else 0.0
    return {
        "frames": len(s), "fps": (len(s) - 1) / span if span else 0.0, "dropped": st["dropped"],
        "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
        "server_p50": float(np.percentile([x["server_ms"] for x in s], 50)),
        "first_third_p50": float(np.median(ms[:third])), "last_third_p50": float(np.median(ms[-third:])),
        "max_reps": st["maxReps"], "label": st["label"], "clock": st["clock"], "sets": st["sets"],
    }  # fmt: skip


def part_page(data: Path, folder: Path) -> tuple[list[str], dict]:
    from fakecam import camera_args
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS, LiveServer

    from workout_classifier.serve import create_app

    cam, off = camera_file(data / "clips" / CAMERA_CLIP, folder)
    seconds = (
        cam["seconds"] - 1.0
    )  # one pass of the file: the summary's reps compare with the offline count
    app = create_app(None, workers=1, tmp_dir=folder, warm_up=False)
    server = LiveServer(app)
    pool = app.state.camera
    pool.keep_idle = 2  # both sessions find a started worker, as a server that has run a while does
    rows = ["| run | page | frames | fps processed | camera frames skipped | latency p50 / p95 ms | server p50 ms | "
            "latency p50, first / last third | label, max reps shown | summary |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]  # fmt: skip
    res = {}
    try:
        base = server.url
        workers = [pool.acquire() for _ in range(2)]
        for w in workers:
            w.call(("start",))
            pool.release(w)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera_args(cam["path"])
            )
            for run, pages in (("one session", 1), ("two sessions", 2)):
                figs = [page_figures(st) for st in run_pages(browser, base, pages, seconds)]
                res[run] = figs
                for i, f in enumerate(figs, 1):
                    rows.append(f"| {run} | {i} | {f['frames']} | {f['fps']:.1f} | {f['dropped']} | "
                                f"{f['p50']:.0f} / {f['p95']:.0f} | {f['server_p50']:.0f} | "
                                f"{f['first_third_p50']:.0f} / {f['last_third_p50']:.0f} | {f['label']}, "
                                f"{f['max_reps']} | {'; '.join(f['sets']) or '-'} |")  # fmt: skip
                    print(rows[-1], flush=True)
            browser.close()
    finally:
        server.stop()
    res.update(camera=cam, offline=off, seconds=seconds)
    return rows, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(HERE / "results" / "live.md"))
    ap.add_argument("--quick", action="store_true", help="two clips for (a)")
    ap.add_argument("--skip-page", action="store_true")
    args = ap.parse_args()
    data = Path(args.data)
    load_before = load()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        from figure import write_squat_clip

        gen = write_squat_clip(
            tmp / "gen" / "drawn_squats.mp4", reps=5, period=2.0, fps=30, lead=1.0
        )
        clips = [data / "clips" / c for c in CLI_CLIPS[: 2 if args.quick else None]] + [gen]
        t0 = time.perf_counter()
        cli_rows, cli_res = part_cli(clips)
        cli_s = time.perf_counter() - t0
        load_mid = load()
        page_rows, page_res = ([], {}) if args.skip_page else part_page(data, tmp)
    load_after = load()
    write(
        args.out, cli_rows, cli_res, cli_s, page_rows, page_res, (load_before, load_mid, load_after)
    )


def write(out, cli_rows, cli_res, cli_s, page_rows, page_res, loads) -> None:
    one = page_res.get("one session", [])
    two = page_res.get("two sessions", [])
    lines = [
        "# Live: speed and counts",
        "",
        f"Machine: {os.cpu_count()} cores, shared with other jobs; {loads[0]} before, {loads[1]} after (a), "
        f"{loads[2]} at the end. `python bench/live.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).",
        "",
        "## (a) `workout live --source FILE --json`, the file played at its own speed",
        "",
        "One process per clip; the clock starts once the model is loaded and MediaPipe started (warm_up).",
        "fps processed = frames answered / wall time; read = frames the reader decoded (the file's",
        "frame rate: 25-60 fps); dropped = frames the loop never took because a newer one was ready;",
        "latency = from a frame being available (paced to its time in the file) to its JSON line printed.",
        "Offline = `workout predict --json --reps` on the same file. Last clip: drawn figure (tests/figure.py).",
        "",
        *cli_rows,
        "",
        f"Slowest clip {cli_res['fps_min']:.1f} fps processed, worst p95 {cli_res['p95_max']:.0f} ms; "
        f"label equal and reps within one of offline on {cli_res['reps_ok']} of {cli_res['clips']} clips "
        f"({cli_s:.0f} s for this part).",
    ]
    if page_rows:
        cam, off = page_res["camera"], page_res["offline"]
        lines += [
            "",
            "## (b, c) The page's camera mode in headless Chromium, fake camera",
            "",
            f"Camera: `{CAMERA_CLIP}` as y4m, {cam['width']}x{cam['height']} at {cam['fps']:.0f} fps, its first",
            f"frame held {LEAD_SECONDS:.0f} s, then the clip ({cam['seconds']:.1f} s in all); each run lasts "
            f"{page_res['seconds']:.1f} s from the session being ready, one pass of the file. The page sends a",
            "480 px JPEG of the newest camera frame when the previous answer is back (one in flight, never the same",
            "frame twice); camera frames skipped = presented by the camera but never sent. Latency is measured in the",
            "page from the frame's capture time (requestVideoFrameCallback `captureTime`) to the overlay drawn for",
            "its answer; server = the worker's decode + pose + tracking per frame. Latency first / last third:",
            "medians of the run's first and last thirds (a session falling behind would grow).",
            f"Offline on the clip: {off['label']}, {off['reps']} reps. Server and browser on the same 2 cores.",
            "",
            *page_rows,
        ]
        for run, figs in (("one session", one), ("two sessions", two)):
            if figs:
                lines.append("")
                lines.append(f"{run}: min fps {min(f['fps'] for f in figs):.1f}, max p95 "
                             f"{max(f['p95'] for f in figs):.0f} ms.")  # fmt: skip
    write_table(lines, Path(out))


if __name__ == "__main__":
    main()
