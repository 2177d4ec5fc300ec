"""Pose extraction on generated clips: contract, failures, cache keys, atomic resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import UNICODE_NAME, write_video

from workout_classifier.frames.video import VideoError
from workout_classifier.learn.dataset import scan_dataset
from workout_classifier.pose.cache import CacheError, PoseCache
from workout_classifier.pose.extract import extract_clips
from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence, PoseSettings, file_sha256


@pytest.fixture(scope="module")
def messy_run(messy_dataset, tmp_path_factory):
    """One extraction of the messy dataset except the 4-minute clip (stats only)."""
    clips, _ = scan_dataset(messy_dataset)
    paths = [c.path for c in clips if c.path.name != "long.mp4"]
    cache = PoseCache(tmp_path_factory.mktemp("cache"))
    summary = extract_clips(paths, cache, workers=1, progress=False)
    return paths, cache, summary


def test_bad_files_fail_with_one_line_reason_and_run_goes_on(messy_run):
    paths, cache, s = messy_run
    failed = {Path(f["file"]).name: f["reason"] for f in s.failed}
    assert set(failed) == {"empty.mp4", "truncated.mp4", "notes.mp4"}
    assert "empty file" in failed["empty.mp4"]
    assert "unreadable" in failed["truncated.mp4"]
    assert "not a video" in failed["notes.mp4"]
    assert all("\n" not in r for r in failed.values())
    assert s.total == len(paths) == 7 and s.extracted == 4 and not s.interrupted
    assert s.frames > 0 and s.seconds > 0


def test_drawings_are_no_person_not_crashes(messy_run):
    paths, cache, s = messy_run
    no_person = {Path(f["file"]).name for f in s.no_person}
    assert no_person == {"good.mp4", "one_frame.mp4", "portrait.mp4", UNICODE_NAME}
    for p in paths:
        if p.name in no_person:
            assert cache.status(p) == "done"
            seq = cache.load(p)
            assert (
                not seq.detected.any()
                and np.isnan(seq.landmarks).all()
                and np.isnan(seq.world).all()
            )


def test_array_contract(messy_run):
    paths, cache, _ = messy_run
    p = next(p for p in paths if p.name == "good.mp4")  # 45 frames at 30 fps
    seq = cache.load(p)
    t = seq.num_frames
    assert abs(t - 15) <= 1  # sampled at 10 fps, the default
    assert seq.landmarks.shape == seq.world.shape == (t, NUM_JOINTS, 4)
    assert seq.landmarks.dtype == seq.world.dtype == np.float32
    assert seq.times.dtype == np.float64 and seq.detected.dtype == bool
    assert np.all(np.diff(seq.times) > 0) and seq.times[0] == 0.0
    m = seq.meta
    assert m["sha256"] == file_sha256(p) and m["settings"]["fps"] == 10.0
    assert (m["width"], m["height"], m["frame_count"]) == (160, 120, 45)
    assert m["sampled_fps"] == 10.0 and m["decoded_frames_sampled"] == t


def test_failed_clips_are_remembered_and_rerun_extracts_nothing(messy_run):
    paths, cache, first = messy_run
    for p in paths:
        if p.name in ("truncated.mp4", "notes.mp4", "empty.mp4"):
            assert cache.status(p) == "failed"
            with pytest.raises(VideoError):
                cache.load(p)
    again = extract_clips(paths, cache, workers=1, progress=False)
    assert again.extracted == 0 and again.frames == 0
    assert again.cached == 6  # 4 done + 2 recorded failures; the 0-byte file is checked directly
    assert sorted(f["reason"] for f in again.failed) == sorted(f["reason"] for f in first.failed)
    last = json.loads((cache.root / "last_run.json").read_text())
    assert last["extracted"] == 0 and last["total"] == 7


def test_rename_keeps_cache_and_settings_change_key(tmp_path):
    clip = write_video(tmp_path / "data" / "squat" / "a.mp4", frames=10, fps=10)
    cache = PoseCache(tmp_path / "cache")
    assert extract_clips([clip], cache, progress=False).extracted == 1
    moved = clip.with_name("renamed clip ü.mp4")
    clip.rename(moved)
    assert cache.status(moved) == "done"
    s = extract_clips([moved], cache, progress=False)
    assert (s.extracted, s.cached) == (0, 1)

    other = PoseCache(tmp_path / "cache", PoseSettings(fps=15))
    assert other.key(moved) != cache.key(moved)
    assert other.key(moved).split("-")[0] == cache.key(moved).split("-")[0]  # same content part
    assert other.status(moved) == "missing"
    assert PoseSettings(fps=15).key() != PoseSettings(fps=10).key() == PoseSettings().key()

    write_video(moved, frames=10, fps=10, seed=9)  # new content under the same name
    assert cache.status(moved) == "missing"


def test_unwritable_cache_is_a_clear_error(tmp_path):
    (tmp_path / "afile").write_text("x")  # a folder cannot be made under a regular file
    with pytest.raises(CacheError) as e:
        PoseCache(tmp_path / "afile" / "cache")
    assert "not writable" in str(e.value) and "\n" not in str(e.value)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temp_files_are_cleaned_and_never_loaded(tmp_path):
    clip = write_video(tmp_path / "data" / "squat" / "a.mp4", frames=8, fps=8)
    cache = PoseCache(tmp_path / "cache")
    key = cache.key(clip)
    stale = cache.root / f"{key}.npz.{_dead_pid()}.tmp"
    stale.write_bytes(b"half a file")
    odd = cache.root / "garbage.tmp"
    odd.write_bytes(b"?")
    live = cache.root / f"other.npz.{os.getppid()}.tmp"  # a writer that is still running
    live.write_bytes(b"in flight")
    assert cache.status(clip) == "missing"
    with pytest.raises(KeyError):
        cache.load(clip)
    s = extract_clips([clip], cache, progress=False)
    assert s.extracted == 1
    assert not stale.exists() and not odd.exists() and live.exists()
    assert cache.load(clip).num_frames == 8
    live.unlink()


def test_unexpected_error_in_one_clip_does_not_stop_the_run(tmp_path, monkeypatch):
    import workout_classifier.pose.extract as ex

    a = write_video(tmp_path / "d" / "x" / "a.mp4", frames=5, fps=5)
    b = write_video(tmp_path / "d" / "x" / "b.mp4", frames=5, fps=5, seed=1)
    real = ex.extract_pose

    def flaky(path, *args, **kw):
        if Path(path).name == "a.mp4":
            raise RuntimeError("decoder exploded\nwith a traceback")
        return real(path, *args, **kw)

    monkeypatch.setattr(ex, "extract_pose", flaky)
    cache = PoseCache(tmp_path / "cache")
    s = extract_clips([a, b], cache, progress=False)
    assert s.extracted == 1 and len(s.failed) == 1
    assert s.failed[0]["reason"] == "RuntimeError: decoder exploded"
    assert cache.status(a) == "missing"  # not remembered: a rerun tries again
    assert cache.status(b) == "done"


def test_overlapping_runs_in_threads_each_see_their_own_progress(tmp_path, monkeypatch):
    """Two runs in one process, interleaved: each bar gets its own clip's frames, all of them."""
    import threading

    import workout_classifier.pose.extract as ex

    bars = {}

    class Bar(ex.ExtractProgress):
        def __init__(self, clips, enabled, console=None):
            super().__init__(clips, False)
            self.seen = []
            bars[threading.current_thread().name] = self

        def frames(self, n):
            self.seen.append(n)

    a_reported, b_reported = threading.Event(), threading.Event()

    def fake_extract(path, settings, on_frames=None, sha256=None):
        # a reports, b starts and reports, then a reports again: any shared
        # progress target is overwritten by b while a is still running.
        if Path(path).name == "a.mp4":
            on_frames(1)
            a_reported.set()
            assert b_reported.wait(10)
            on_frames(1)
        else:
            assert a_reported.wait(10)
            on_frames(1000)
            b_reported.set()
        raise VideoError("unreadable video")  # the bar is what this test looks at

    monkeypatch.setattr(ex, "ExtractProgress", Bar)
    monkeypatch.setattr(ex, "extract_pose", fake_extract)
    summaries = {}

    def run(name):
        clip = tmp_path / name
        clip.write_bytes(name.encode() * 10)
        cache = PoseCache(tmp_path / f"cache-{name}")
        summaries[name] = extract_clips([clip], cache, progress=False)

    threads = [threading.Thread(target=run, args=(n,), name=n) for n in ("a.mp4", "b.mp4")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert {n: len(s.failed) for n, s in summaries.items()} == {"a.mp4": 1, "b.mp4": 1}
    assert bars["a.mp4"].seen == [1, 1] and bars["b.mp4"].seen == [1000]


def test_pool_path_on_generated_clips(synthetic_dataset, tmp_path):
    clips, _ = scan_dataset(synthetic_dataset)
    paths = [c.path for c in clips][:4] + [tmp_path / "missing.mp4"]
    cache = PoseCache(tmp_path / "cache")
    s = extract_clips(paths, cache, workers=2, progress=False)
    assert s.extracted == 4 and len(s.no_person) == 4
    assert [f["reason"] for f in s.failed] == ["file not found"]
    assert all(cache.status(p) == "done" for p in paths[:4])
    assert extract_clips(paths, cache, workers=2, progress=False).extracted == 0


@pytest.mark.parametrize(
    "sig, workers",
    [(signal.SIGINT, 1), (signal.SIGKILL, 1), (signal.SIGINT, 2)],
    ids=["ctrl-c", "kill-9", "ctrl-c-2-workers"],
)
def test_interrupted_run_resumes_and_loses_nothing(tmp_path, sig, workers):
    data = tmp_path / "data"
    for i in range(6):
        write_video(data / "squat" / f"c{i}.mp4", frames=60, fps=30, seed=i)
    cache_dir = tmp_path / "cache"
    cmd = [
        sys.executable,
        "-m",
        "workout_classifier.cli",
        "extract",
        str(data),
        "--cache",
        str(cache_dir),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, sent = time.monotonic() + 60, False
    while proc.poll() is None and time.monotonic() < deadline:
        if any(cache_dir.glob("*.npz")):
            proc.send_signal(sig)
            sent = True
            break
        time.sleep(0.02)
    _, err = proc.communicate(timeout=60)
    assert sent, f"the run ended before the first clip was cached: {err}"
    done_before = len(list(cache_dir.glob("*.npz")))
    if proc.returncode not in (0,):  # it was interrupted (it may have finished first)
        assert proc.returncode in (130, -signal.SIGKILL), err
        if sig == signal.SIGINT:
            assert "interrupted" in err and "Traceback" not in err
    for f in cache_dir.glob("*.npz"):  # whatever was written is whole
        assert PoseSequence.load(f).num_frames == 20  # 60 frames at 30 fps, sampled at 10 fps

    clips = sorted((data / "squat").glob("*.mp4"))
    cache = PoseCache(cache_dir)
    s = extract_clips(clips, cache, progress=False)
    assert s.extracted == 6 - done_before and not s.failed
    assert all(cache.status(c) == "done" for c in clips)
    assert not list(cache_dir.glob("*.tmp"))


def _spawned_children(pid: int) -> list[int]:
    """Pool worker processes started by `pid` (not its resource tracker)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            found.append(int(d.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the worker process")
def test_a_killed_worker_does_not_stop_the_run(tmp_path):
    data = tmp_path / "data"
    for i in range(6):
        write_video(data / "squat" / f"c{i}.mp4", frames=60, fps=30, seed=i)
    cache_dir = tmp_path / "cache"
    cmd = [sys.executable, "-m", "workout_classifier.cli", "extract", str(data)]
    cmd += ["--cache", str(cache_dir), "--workers", "2", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, killed = time.monotonic() + 60, []
    while proc.poll() is None and time.monotonic() < deadline and not killed:
        for child in _spawned_children(proc.pid):
            os.kill(child, signal.SIGKILL)
            killed.append(child)
        time.sleep(0.02)
    out, err = proc.communicate(timeout=60)
    assert killed, "no worker process was found to kill"
    assert proc.returncode == 0, err
    summary = json.loads(out)
    # A clip the worker held when it died is reported (a worker killed before it got
    # one costs nothing); this process does all the others.
    assert all("worker error" in f["reason"] for f in summary["failed"])
    assert len(summary["failed"]) <= 1 and summary["extracted"] + len(summary["failed"]) == 6
    clips = sorted((data / "squat").glob("*.mp4"))
    again = extract_clips(clips, PoseCache(cache_dir), progress=False)
    assert again.extracted == len(summary["failed"]) and not again.failed


def test_clips_go_out_longest_first(tmp_path):
    from workout_classifier.pose.extract import longest_first

    clips = [write_video(tmp_path / f"{n}.mp4", frames=n) for n in (10, 90, 40)]
    todo = [(str(c), "out", "fail") for c in clips] + [
        (str(tmp_path / "missing.mp4"), "out", "fail")
    ]
    order = [Path(item[0]).stem for item in longest_first(todo, 15.0)]
    assert order == ["90", "40", "10", "missing"]  # an unreadable clip fails fast: last
