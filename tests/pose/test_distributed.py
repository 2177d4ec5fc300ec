"""Ray backend on a local, loopback-only Ray that this module starts once and stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import write_video
from synth import MOVES, synthetic_sequence

from workout_classifier.cli.common import bare_ray_means_local
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.extract import extract_clips
from workout_classifier.pose.landmarks import PoseSequence

ray = pytest.importorskip(
    "ray", reason="Ray is not installed (pip install 'workout-classifier[ray]')"
)


@pytest.fixture(scope="module")
def ray_local():
    from workout_classifier.pose.distributed import ray_session

    with ray_session("local", num_cpus=2) as r:
        yield r


# The two tests without Ray come first, before the module's Ray starts: its threads print
# late messages (a killed worker) to stderr, which CliRunner swaps out during a test.
def test_bare_ray_flag_means_local():
    assert bare_ray_means_local(["extract", "data", "--ray"]) == [
        "extract",
        "data",
        "--ray",
        "local",
    ]
    assert bare_ray_means_local(["extract", "--ray", "data"]) == [
        "extract",
        "--ray",
        "local",
        "data",
    ]
    assert bare_ray_means_local(["extract", "--ray", "-w", "2"])[:3] == [
        "extract",
        "--ray",
        "local",
    ]
    assert bare_ray_means_local(["extract", "--ray", "10.0.0.1:6379", "d"]) == [
        "extract",
        "--ray",
        "10.0.0.1:6379",
        "d",
    ]
    assert bare_ray_means_local(["x", "--ray", "auto"]) == ["x", "--ray", "auto"]


def test_cli_without_ray_says_what_to_install(synthetic_dataset, tmp_path, monkeypatch):
    import builtins

    from typer.testing import CliRunner

    from workout_classifier.cli import app

    real_import = builtins.__import__
    me = threading.get_ident()

    def no_ray(
        name, *a, **kw
    ):  # this thread only: the module's Ray keeps importing in its own threads
        if threading.get_ident() == me and (name == "ray" or name.startswith("ray.")):
            raise ImportError("No module named 'ray'")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    res = CliRunner().invoke(
        app, ["extract", str(synthetic_dataset), "--cache", str(tmp_path), "--ray", "local"]
    )
    assert res.exit_code == 1
    assert "pip install 'workout-classifier[ray]'" in res.output and "Traceback" not in res.output


def _npz_arrays(cache: PoseCache) -> dict:
    out = {}
    for f in sorted(cache.root.glob("*.npz")):
        with np.load(f) as z:
            out[f.name] = {k: z[k].copy() for k in z.files if k != "meta"}
    return out


def test_ray_cache_equals_local_workers_and_bad_file_is_recorded(ray_local, tmp_path):
    from workout_classifier.pose.distributed import RayBackend

    data = tmp_path / "data"
    paths = [write_video(data / f"c{i}.mp4", frames=20 + 10 * i, fps=30, seed=i) for i in range(3)]
    bad = data / "notes.mp4"
    bad.write_text("this is not a video\n" * 50)
    paths.append(bad)
    local = PoseCache(tmp_path / "local")
    s_local = extract_clips(paths, local, workers=2, progress=False)
    remote = PoseCache(tmp_path / "ray")
    s_ray = extract_clips(paths, remote, progress=False, backend=RayBackend(workers=2))

    a, b = _npz_arrays(local), _npz_arrays(remote)
    assert sorted(a) == sorted(b) and len(a) == 3  # same keys
    for name in a:
        for k in a[name]:
            np.testing.assert_array_equal(a[name][k], b[name][k])
    assert s_ray.extracted == s_local.extracted == 3
    assert [f["file"] for f in s_ray.failed] == [str(bad)]
    assert s_ray.failed[0]["reason"] == s_local.failed[0]["reason"]
    assert sorted(p.name for p in remote.root.glob("*.fail.json")) == sorted(
        p.name for p in local.root.glob("*.fail.json")
    )
    again = extract_clips(paths, remote, progress=False, backend=RayBackend(workers=2))
    assert again.extracted == 0 and again.cached == 4  # a rerun does no work


def test_worker_killed_mid_clip_is_retried(ray_local, tmp_path):
    from workout_classifier.pose.distributed import RayBackend

    clip = write_video(tmp_path / "long.mp4", frames=600, fps=30, seed=9)  # ~300 sampled frames
    cache = PoseCache(tmp_path / "cache")
    backend = RayBackend(workers=1)
    killed = []

    class Bar:  # kills the actor once frames of the clip have been reported: mid-clip
        def frames(self, n):
            if n and not killed and backend.in_flight:
                ((*_, pid_ref),) = backend.in_flight.values()
                pid = ray.get(pid_ref)
                threading.Thread(target=os.kill, args=(pid, signal.SIGKILL)).start()
                killed.append(pid)

        def clip_done(self):
            pass

    todo = [
        (str(clip), str(cache.data_path(cache.key(clip))), str(cache.fail_path(cache.key(clip))))
    ]
    results: list = []
    t0 = time.monotonic()
    backend(todo, cache, Bar(), results)
    assert killed, f"no frames were reported in {time.monotonic() - t0:.0f}s"
    assert backend.retried == 1
    assert [r["status"] for r in results] == ["no_person"]  # a drawing: decoded, nobody in it
    assert cache.status(clip) == "done" and not list(cache.root.glob("*.tmp"))


def _group_gone(pgid: int, timeout: float) -> bool:
    """Whether every process of the group (the driver and what it started) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to a process group")
@pytest.mark.parametrize(
    "how", [["--ray", "--workers", "2"], ["--workers", "2"]], ids=["ray", "local-workers"]
)
def test_ctrl_c_stops_the_run_and_a_rerun_does_only_the_rest(ray_local, tmp_path, how):
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group (driver, Ray, workers)."""
    from workout_classifier.pose.distributed import RayBackend

    data = tmp_path / "data"
    clips = [write_video(data / "squat" / f"c{i}.mp4", frames=60, fps=30, seed=i) for i in range(6)]
    cache_dir = tmp_path / "cache"
    cmd = [
        sys.executable,
        "-m",
        "workout_classifier.cli",
        "extract",
        str(data),
        "--cache",
        str(cache_dir),
        *how,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline, sent = time.monotonic() + 120, False
    while proc.poll() is None and time.monotonic() < deadline:
        if any(cache_dir.glob("*.npz")):
            os.killpg(proc.pid, signal.SIGINT)
            sent = True
            break
        time.sleep(0.02)
    _, err = proc.communicate(timeout=60)
    assert sent, f"the run ended before the first clip was cached: {err}"
    assert _group_gone(proc.pid, 20), "workers or Ray processes still run after Ctrl-C"
    done_before = len(list(cache_dir.glob("*.npz")))
    assert 1 <= done_before
    if proc.returncode != 0:  # interrupted (it may have finished first)
        assert proc.returncode == 130, err
        lines = [
            ln for ln in err.splitlines() if ln.strip() and not ln.startswith("extracting poses")
        ]
        assert len(lines) == 1 and lines[0].startswith("interrupted:"), (
            err
        )  # one line, nothing else
    for f in cache_dir.glob("*.npz"):  # whatever was written is whole
        assert PoseSequence.load(f).num_frames == 20  # 60 frames at 30 fps, sampled at 10 fps
    assert not list(cache_dir.glob("*.tmp")) and not list(cache_dir.glob("*.fail.json"))

    cache = PoseCache(cache_dir)
    again = extract_clips(clips, cache, progress=False, backend=RayBackend(workers=2))
    assert again.cached == done_before and again.extracted == 6 - done_before and not again.failed
    assert all(cache.status(c) == "done" for c in clips)


def test_ray_map_stopped_early_cancels_the_rest_and_ray_goes_on(ray_local):
    """Finished tasks are left alone (cancelling them aborts Ray 2.60's driver); unfinished ones stop."""
    from workout_classifier.pose.distributed import ray_map

    def _slow_square(x):  # nested, so cloudpickle ships it by value (workers lack tests/)
        time.sleep(0.05 if x < 2 else 30)
        return x * x

    t0 = time.monotonic()
    gen = ray_map(_slow_square, [0, 1, 2, 3])
    assert [next(gen), next(gen)] == [0, 1]
    gen.close()  # the two 30 s tasks are cancelled, not waited for
    assert time.monotonic() - t0 < 20
    assert list(ray_map(_slow_square, [0, 1])) == [0, 1]  # the session still answers


def test_evaluate_ray_equals_local(ray_local):
    from workout_classifier.learn.evaluate import cross_validate
    from workout_classifier.learn.features import prepare
    from workout_classifier.learn.models import default_features
    from workout_classifier.pose.distributed import ray_map

    tracks, y, groups = [], [], []
    for k, move in enumerate(MOVES):
        for i in range(6):
            tracks.append(prepare(synthetic_sequence(move, seconds=4, seed=10 * k + i)))
            y.append(k)
            groups.append(f"{move}{i}")
    args = (tracks, np.array(y), np.array(groups), list(MOVES), "trees", default_features("trees"))
    local = cross_validate(*args, folds=3)
    remote = cross_validate(*args, folds=3, map_folds=lambda fn, items: ray_map(fn, items))
    strip = ("train_seconds",)
    assert [{k: v for k, v in f.items() if k not in strip} for f in local.folds] == [
        {k: v for k, v in f.items() if k not in strip} for f in remote.folds
    ]
    np.testing.assert_allclose(local.probs, remote.probs)
    ml, mr = local.metrics(), remote.metrics()
    for key in ("accuracy_mean", "accuracy_std", "macro_f1_mean", "confusion_matrix"):
        assert ml[key] == mr[key]
