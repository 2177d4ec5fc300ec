"""A long session through the job API of `workout serve` against a cold `workout predict`.

The session: real clips of squat, push up and lunges joined end to end at 1280x720, 30 fps
(bench/predict.py's `make_session`, 240 s by default), written to a temporary folder, never into
the project. On one `workout serve` (2 workers, warmed up by a short job first) of this checkout:

- cold: a fresh `workout predict SESSION --json --reps --form --timeline` (what the job answers);
- job: POST /api/jobs then GET /api/jobs/{id} every 0.2 s until done: time from the POST to the
  answer, the distinct progress values seen, the estimate's error halfway, and when the timeline
  so far first showed;
- two jobs at once: the session twice, posted together (both must be answered; neither waits for
  the other to finish);
- annotated: the job with ?annotate=true (the page's), the time to its partial answer and to the
  end; then the page, opened on that finished job (found again through sessionStorage, as after a
  reload), is screenshotted at desktop and phone width into bench/results/ when Playwright and
  Chromium are there.

Cold and job alternate `--repeats` times, median kept. Run under `flock /work/cpu.lock` on the
shared machine. Writes bench/results/serve_long.md.

Usage: flock /work/cpu.lock python bench/serve_long.py [--seconds 240] [--repeats 1]
       ... --repeats 3 --alone-only --out bench/results/serve_long_alone.md  (cold vs one job only)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import free_port, multipart, uptime, wait_for_server, write_table
from predict import BIN, make_session, timed

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def serve(port: int, workers: int = 2, max_pending: int = 32):
    """`workout serve` of this checkout (src first on the path) on 127.0.0.1:port."""
    import subprocess

    code = ("import uvicorn; from workout_classifier.serve import create_app; "
            f"uvicorn.run(create_app(max_upload_mb=4000, workers={workers}, max_pending={max_pending}), "
            f"host='127.0.0.1', port={port}, log_level='warning')")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    return wait_for_server(proc, port, 120, "the server")


def post_job(port: int, path: Path, query: str = "") -> tuple[int, dict, dict]:
    """(status, body, headers) of POST /api/jobs."""
    body, ctype = multipart(path)
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/jobs{query}", data=body, method="POST",
                                 headers={"Content-Type": ctype})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), dict(e.headers)


def get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
        return json.loads(r.read())


def run_job(port: int, path: Path, query: str = "", every_s: float = 0.2) -> dict:
    """Post a job and poll it to its end: seconds, views seen (with their time), the answer."""
    t0 = time.perf_counter()
    status, job, _ = post_job(port, path, query)
    assert status == 202, (status, job)
    views = []
    while True:
        v = get(port, f"/api/jobs/{job['id']}")
        views.append((time.perf_counter() - t0, v))
        if v["state"] in ("done", "failed"):
            break
        time.sleep(every_s)
    total = views[-1][0]
    assert views[-1][1]["state"] == "done", views[-1][1]
    progress = [v["progress"] for _, v in views]
    assert progress == sorted(progress), "progress fell"
    half = next(((t, v) for t, v in views if v["progress"] >= 0.5 and v["eta_s"] is not None), None)
    partial = next((t for t, v in views if v.get("partial")), None)
    so_far = [(t, v["timeline_so_far"]) for t, v in views if v.get("timeline_so_far")]
    return {"id": job["id"], "seconds": total, "steps": len(set(progress)), "answer": views[-1][1]["result"],
            "eta_half": None if half is None else (half[1]["eta_s"], total - half[0]), "partial_s": partial,
            "so_far": so_far}  # fmt: skip


def same_timeline(a: list[dict], b: list[dict]) -> str:
    if [s["label"] for s in a] != [s["label"] for s in b]:
        return "no (labels differ)"
    worst = max(abs(x[k] - y[k]) for x, y in zip(a, b, strict=True) for k in ("start", "end"))
    reps = [s.get("reps") for s in a] == [s.get("reps") for s in b]
    return f"yes ({len(a)} segments, bounds within {worst:.1f} s, reps {'equal' if reps else 'differ'})"


def screenshots(port: int, job_id: str, out: Path) -> str:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "no screenshots (playwright is not installed)"
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        return f"no screenshots ({chromium} not found)"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for name, size in (
            ("serve-long-desktop.png", (1280, 860)),
            ("serve-long-phone.png", (390, 844)),
        ):
            page = b.new_page(viewport={"width": size[0], "height": size[1]})
            # The page finds a job of this tab again after a reload: here, the finished long job.
            page.add_init_script(f"sessionStorage.setItem('workout-job', JSON.stringify({{id: '{job_id}', "
                                 "name: 'session.mp4'}));")  # fmt: skip
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body[data-state='result']", timeout=60_000)
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / name), full_page=True)
        b.close()
    return f"screenshots: {out.name}/serve-long-desktop.png, serve-long-phone.png"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "clips")
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument(
        "--alone-only",
        action="store_true",
        help="only cold vs one job (no pair, no annotated clip)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "serve_long.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared clips sit beside the checkout)")
        return
    load_before = uptime()
    tmp = tempfile.TemporaryDirectory(prefix="bench-serve-long-")
    session = make_session(args.data, Path(tmp.name) / "session.mp4", seconds=args.seconds)
    short = sorted((args.data / "squat").glob("*.mp4"))[0]
    port = free_port()
    server = serve(port)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    try:
        run_job(port, short)  # warm-up: the workers load MediaPipe and the model
        cold, jobs = [], []
        for _ in range(args.repeats):
            s, out = timed([str(BIN / "workout"), "predict", str(session), "--json", "--reps", "--form",
                            "--timeline"], env=env)  # fmt: skip
            cold.append((s, json.loads(out)[0]))
            jobs.append(run_job(port, session))
            print(f"cold {s:.1f} s, job {jobs[-1]['seconds']:.1f} s", flush=True)
        two, two_s, annotated, shots = None, None, None, ""
        if not args.alone_only:
            two, two_s, annotated, shots = pair_and_annotated(port, session, args.out.parent)
    finally:
        server.terminate()
        server.wait(10)
        tmp.cleanup()
    write_table(table(args, cold, jobs, load_before, two, two_s, annotated, shots), args.out)


def pair_and_annotated(port: int, session: Path, shots_dir: Path):
    """Two jobs posted together, then the annotated job and the page's screenshots of it."""
    two: list[dict] = [{}, {}]
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=lambda i=i: two.__setitem__(i, run_job(port, session)))
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two_s = time.perf_counter() - t0
    annotated = run_job(port, session, "?annotate=true")
    return two, two_s, annotated, screenshots(port, annotated["id"], shots_dir)


def table(args, cold, jobs, load_before, two, two_s, annotated, shots) -> list[str]:
    c = statistics.median(s for s, _ in cold)
    j = statistics.median(r["seconds"] for r in jobs)
    alone = "same timeline as cold: " + same_timeline(
        jobs[-1]["answer"]["timeline"], cold[-1][1]["timeline"]
    )
    if jobs[-1]["eta_half"]:
        alone += "; ETA shown at half way {} s, real {:.1f} s".format(*jobs[-1]["eta_half"])
    if so_far := jobs[-1]["so_far"]:  # the timeline so far (GET /api/jobs/{id}'s timeline_so_far)
        updates = len({json.dumps(x) for _, x in so_far})
        alone += (f"; timeline so far first at {so_far[0][0]:.1f} s (the first {so_far[0][1]['until']:.0f} s of "
                  f"the clip), {updates} updates, the last at {so_far[-1][0]:.1f} s (the first "
                  f"{so_far[-1][1]['until']:.0f} s)")  # fmt: skip
    lines = [
        "# A long session through the job API",
        "",
        f"`python bench/serve_long.py --seconds {args.seconds:g} --repeats {args.repeats}` on {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; load average {load_before} before, {uptime()} after (a shared "
        f"machine). Session: squat, push up, lunges joined at 1280x720, 30 fps, {args.seconds:g} s. Server: this "
        "checkout, 2 workers, warmed up. Cold: a fresh `workout predict --json --reps --form --timeline`. Job: "
        "POST /api/jobs, then GET /api/jobs/{id} every 0.2 s until done, timed from the POST (upload included). "
        f"Median of {args.repeats} alternating run(s).",
        "",
        "| run | seconds | / cold | progress steps seen | notes |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| cold `workout predict` | {c:.1f} | 1.00 | - | {cold[-1][1]['label']} |",
        f"| job, alone | {j:.1f} | {j / c:.2f} | {jobs[-1]['steps']} | {alone} |",
    ]
    if two is not None:
        lines += [
            f"| two jobs posted together | {two[0]['seconds']:.1f} and {two[1]['seconds']:.1f} (both done in "
            f"{two_s:.1f}) | {two_s / c:.2f} | {two[0]['steps']}, {two[1]['steps']} | both answered |",
            f"| job with the annotated clip | {annotated['seconds']:.1f} | {annotated['seconds'] / c:.2f} | "
            f"{annotated['steps']} | answer (partial) shown at {annotated['partial_s'] or float('nan'):.1f} s |",
        ]
    runs = ", ".join(f"{s:.1f}" for s, _ in cold), ", ".join(f"{r['seconds']:.1f}" for r in jobs)
    lines += ["", f"Each run, in order: cold {runs[0]} s; job {runs[1]} s.", "", shots, ""]
    return lines


if __name__ == "__main__":
    main()
