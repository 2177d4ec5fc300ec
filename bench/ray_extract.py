"""Local workers vs Ray on the same clips and CPUs, per-clip costs, and a modelled scale-out.

    flock /work/cpu.lock .venv/bin/python bench/ray_extract.py --clips 12 --cpus 2

All runs extract the same real clips into fresh temporary caches (nothing is read
from /work/cache): local with `--workers CPUS`, then Ray with CPUS actors (Ray's
start-up included and also reported apart), then local again; local is the mean
of its two runs, so a load that drifts during the run on a shared machine hits
both sides alike. Per-clip cost is split into
decode (frames read and sampled, no pose), pose (the rest of extract_pose) and
write (compressing and saving the npz), measured in this process on the first
clips. The scale-out model: N nodes of C cores finish P clips in
P * cost / (N * C * efficiency) plus start-up, where efficiency is the measured
Ray/ideal ratio here. Writes bench/results/ray_extract.md.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from common import write_table

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "data" / "clips"


def pick_clips(n: int, seed: int) -> list[Path]:
    from workout_classifier.learn.dataset import scan_dataset

    clips, _ = scan_dataset(CLIPS)
    rng = random.Random(seed)
    return [c.path for c in rng.sample(clips, min(n, len(clips)))]


def per_clip_costs(paths: list[Path]) -> dict:
    from workout_classifier.frames.sampling import open_frames
    from workout_classifier.pose.landmarks import PoseSettings
    from workout_classifier.pose.runner import extract_pose

    s = PoseSettings()
    dec = pose = write = 0.0
    frames = 0
    with tempfile.TemporaryDirectory() as tmp:
        for p in paths:
            t0 = time.perf_counter()
            _, it = open_frames(p, s.fps)
            n = sum(1 for _ in it)
            dec += time.perf_counter() - t0
            t0 = time.perf_counter()
            seq = extract_pose(p, s)
            pose += time.perf_counter() - t0
            t0 = time.perf_counter()
            seq.save(Path(tmp) / "x.npz")
            write += time.perf_counter() - t0
            frames += n
    k = len(paths)
    return {
        "clips": k,
        "frames": frames,
        "decode_s": dec / k,
        "pose_s": max(pose - dec, 0) / k,
        "write_s": write / k,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--cost-clips", type=int, default=3, help="clips timed stage by stage")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ray_extract.md")
    args = ap.parse_args(argv)

    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.distributed import RayBackend, ray_session
    from workout_classifier.pose.extract import extract_clips

    paths = pick_clips(args.clips, args.seed)
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        # Local before and after Ray (fresh caches), so drifting load on a shared machine hits both alike.
        t_locals = []
        for k in (0, 1):
            if k == 1:
                t0 = time.perf_counter()
                with ray_session("local", num_cpus=args.cpus):
                    t_start = time.perf_counter() - t0
                    t1 = time.perf_counter()
                    ray_s = extract_clips(paths, PoseCache(Path(tmp) / "ray"), progress=False,
                                          backend=RayBackend(workers=args.cpus))  # fmt: skip
                    t_ray_work = time.perf_counter() - t1
                t_ray = time.perf_counter() - t0
            t0 = time.perf_counter()
            loc = extract_clips(
                paths, PoseCache(Path(tmp) / f"local{k}"), workers=args.cpus, progress=False
            )
            t_locals.append(time.perf_counter() - t0)
        t_local = sum(t_locals) / 2
        sizes = [f.stat().st_size for f in (Path(tmp) / "ray").glob("*.npz")]
    costs = per_clip_costs(paths[: args.cost_clips])
    load1 = os.getloadavg()

    fps_local, fps_ray, fps_ray_work = (
        loc.frames / t_local,
        ray_s.frames / t_ray,
        ray_s.frames / t_ray_work,
    )
    ratio, ratio_work = fps_ray / fps_local, fps_ray_work / fps_local
    frames_per_clip = loc.frames / max(loc.extracted, 1)
    core_s_per_clip = args.cpus * t_local / max(loc.extracted, 1)  # measured, both cores busy
    eff = min(ratio_work, 1.0)
    rows = []
    for nodes, cores in ((1, 2), (1, 16), (10, 16), (50, 16), (100, 16)):
        hours = 100_000 * core_s_per_clip / (nodes * cores * eff) / 3600
        rows.append(f"| {nodes} | {cores} | {nodes * cores} | {hours:.1f} |")
    md = [
        "# Ray vs local workers (bench/ray_extract.py)", "",
        f"{len(paths)} real clips (seeded pick {args.seed}), {loc.frames} sampled frames at 15 fps, "
        f"{args.cpus} CPUs each way. Load average before {load0[0]:.2f}, after {load1[0]:.2f} "
        "(2 cores shared with other agents: times are upper bounds).", "",
        "| run | seconds | frames/s | vs local |", "|---|---|---|---|",
        f"| local --workers {args.cpus} (mean of a run before and after Ray: "
        f"{t_locals[0]:.1f} s, {t_locals[1]:.1f} s) | {t_local:.1f} | {fps_local:.1f} | 1.00 |",
        f"| Ray, {args.cpus} actors, start-up included | {t_ray:.1f} | {fps_ray:.1f} | {ratio:.2f} |",
        f"| Ray, extraction only (start-up {t_start:.1f} s) | {t_ray_work:.1f} | {fps_ray_work:.1f} | {ratio_work:.2f} |",
        "", f"Target Ray >= 0.9x local: **{'met' if ratio >= 0.9 else 'missed'}** with start-up "
        f"({ratio:.2f}), **{'met' if ratio_work >= 0.9 else 'missed'}** without ({ratio_work:.2f}).", "",
        f"Per-clip cost ({costs['clips']} clips, one process, one clip at a time): decode "
        f"{costs['decode_s']:.2f} s, pose {costs['pose_s']:.2f} s, write {1000 * costs['write_s']:.0f} ms; "
        f"{frames_per_clip:.0f} sampled frames per clip; npz {sum(sizes) / max(len(sizes), 1) / 1024:.0f} KB "
        f"per clip. With {args.cpus} workers busy: {core_s_per_clip:.2f} core-seconds per clip.", "",
        f"## Modelled scale-out: 100,000 clips (core-seconds per clip {core_s_per_clip:.2f}, efficiency {eff:.2f})", "",
        "| nodes | cores/node | cores | hours |", "|---|---|---|---|", *rows, "",
        "Model: hours = clips x core-seconds per clip / (cores x efficiency); cluster start-up and "
        "the driver's hashing of the clips (about 1 GB/s) not included. See docs/scale.md.",
    ]  # fmt: skip
    write_table([*md, ""], args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
