"""Uploads at once against `workout serve` on 127.0.0.1: all answered, or refused with 503 + Retry-After.

One server of this checkout (2 workers, `--max-pending` as given; the server's default is 32),
its temp folder under a fresh TMPDIR. At once, from `--clients` threads: real clips of mixed
sizes (the shortest to the longest under `--max-seconds`, across the exercises), plus two files
that are not video, sent two ways in turn: POST /api/jobs (then polled to the end) and the
synchronous POST /api/predict. Meanwhile: three clients that send half a body and hang up,
/api/health timed every 0.5 s (is the event loop free?), and the server's memory (the resident
memory of its process and all its children, summed) sampled every 0.2 s. Afterwards: what is
left in the server's upload folder. A second round with a small queue (`--small-queue`) shows
the refusals. Every request has a time limit; the whole run is bounded.

Writes bench/results/serve_load.md. Run under `flock /work/cpu.lock` on the shared machine.

Usage: flock /work/cpu.lock python bench/serve_load.py [--clients 30] [--small-queue 8]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import free_port, multipart, uptime, write_table
from predict import duration
from serve_long import get, serve

HERE = Path(__file__).resolve().parent


def pick_clips(data: Path, n: int, max_seconds: float) -> list[Path]:
    """n real clips spread from the smallest file to the largest, at most max_seconds long each."""
    clips = [p for p in sorted(data.glob("*/*.mp4")) if duration(p) <= max_seconds]
    clips.sort(key=lambda p: p.stat().st_size)
    return [clips[round(i * (len(clips) - 1) / max(n - 1, 1))] for i in range(n)]


def rss_tree_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def send(port: int, path: Path | None, data: bytes | None, name: str, route: str) -> dict:
    """One upload; for /api/jobs, polled to its end. {status, seconds, retry_after, state}."""
    t0 = time.perf_counter()
    body, ctype = multipart(path, data, name)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{route}", data=body, method="POST",
                                 headers={"Content-Type": ctype})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            status, answer = r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return {"status": e.code, "seconds": time.perf_counter() - t0, "retry_after": e.headers.get("Retry-After"),
                "state": "refused" if e.code == 503 else "error"}  # fmt: skip
    state = "answered"
    if route == "/api/jobs":
        deadline = time.monotonic() + 600
        while answer["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.25)
            answer = get(port, f"/api/jobs/{answer['id']}")
        state = answer["state"]
        status = answer["status"] or 200
    return {
        "status": status,
        "seconds": time.perf_counter() - t0,
        "retry_after": None,
        "state": state,
    }


def hang_up(port: int) -> None:
    """Half a multipart body, then the connection is closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = (b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 2000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
                b"filename=\"c.mp4\"\r\n\r\n")  # fmt: skip
        s.sendall(head + b"\0" * 200_000)
        time.sleep(0.5)


def round_(port: int, pid: int, uploads: list, clients: int) -> dict:
    results: list[dict | None] = [None] * len(uploads)
    stop, mem, health = threading.Event(), [], []

    def watch():
        while not stop.is_set():
            mem.append(rss_tree_mb(pid))
            stop.wait(0.2)

    def ping():
        while not stop.is_set():
            t0 = time.perf_counter()
            get(port, "/api/health")
            health.append(time.perf_counter() - t0)
            stop.wait(0.5)

    def one(i):
        path, data, name = uploads[i]
        results[i] = send(port, path, data, name, "/api/jobs" if i % 2 == 0 else "/api/predict")

    bg = [threading.Thread(target=watch), threading.Thread(target=ping)]
    for t in bg:
        t.start()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(min(clients, len(uploads)))]
    threads += [threading.Thread(target=hang_up, args=(port,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(700)
    wall = time.perf_counter() - t0
    stop.set()
    for t in bg:
        t.join()
    return {
        "results": [r for r in results if r is not None],
        "wall": wall,
        "mem": mem,
        "health": health,
    }


def describe(name: str, r: dict, left: int) -> str:
    res = r["results"]
    counts: dict[str, int] = {}
    for x in res:
        key = f"{x['state']} {x['status']}"
        counts[key] = counts.get(key, 0) + 1
    answered = sorted(x["seconds"] for x in res if x["state"] in ("answered", "done", "failed"))
    refused = [x for x in res if x["status"] == 503]
    retry = all(x["retry_after"] and int(x["retry_after"]) > 0 for x in refused)
    p95 = answered[min(len(answered) - 1, int(0.95 * len(answered)))] if answered else float("nan")
    return (f"| {name} | {len(res)} | {', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))} | "
            f"{'yes' if retry else 'NO'} | {r['wall']:.1f} | {statistics.median(answered) if answered else float('nan'):.1f} / "
            f"{p95:.1f} | {max(r['health']) * 1000:.0f} | {max(r['mem']):.0f} | {left} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "clips")
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--max-seconds", type=float, default=12.0)
    ap.add_argument("--small-queue", type=int, default=8)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "serve_load.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared clips sit beside the checkout)")
        return
    load_before = uptime()
    clips = pick_clips(args.data, args.clients - 2, args.max_seconds)
    uploads = [(p, None, p.name) for p in clips] + [(None, b"not a video\n" * 500, "notes.mp4"),
                                                    (None, b"\0\0\0\x18ftypisom" + b"\0" * 4000, "cut.mp4")]  # fmt: skip
    rows = []
    for name, max_pending in (
        ("default queue (32)", 32),
        (f"small queue ({args.small_queue})", args.small_queue),
    ):
        with tempfile.TemporaryDirectory(prefix="bench-serve-load-") as tmp:
            os.environ["TMPDIR"] = tmp  # the server's private folder is made under it
            port = free_port()
            server = serve(port, workers=2, max_pending=max_pending)
            try:
                r = round_(port, server.pid, uploads, args.clients)
                time.sleep(1.0)  # the hung-up uploads' handlers finish
                left = sum(
                    1 for d in Path(tmp).glob("workout-serve-*/uploads") for _ in d.rglob("*")
                )
            finally:
                server.terminate()
                server.wait(10)
            del os.environ["TMPDIR"]
        rows.append(describe(name, r, left))
        print(rows[-1], flush=True)
    sizes = sorted(p.stat().st_size / 1e6 for p in clips)
    lines = [
        "# Uploads at once",
        "",
        f"`python bench/serve_load.py --clients {args.clients}` on {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; load average {load_before} before, {uptime()} after (a shared machine). "
        f"{args.clients} uploads at once to `workout serve` (this checkout, 2 workers) on 127.0.0.1: "
        f"{len(clips)} real clips (at most {args.max_seconds:g} s, {sizes[0]:.2f} to {sizes[-1]:.1f} MB) and 2 "
        "files that are not video; even ones as jobs (POST /api/jobs, polled to the end), odd ones through the "
        "synchronous /api/predict; plus 3 clients that hang up halfway through their upload. Latency: from the "
        "request to the answer (job done). Memory: resident memory of the server and its children, summed, at "
        "its peak. Left: files in the server's upload folder after the round.",
        "",
        "| round | uploads | outcomes (state status: count) | 503s carry Retry-After | wall s | latency median / p95 s "
        "| slowest /api/health ms | peak memory MB | files left |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ]
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
