"""Ray backend: pose extraction and cross-validation folds on a Ray cluster (optional extra `ray`).

Extraction reuses `extract._extract_one` unchanged: an actor pool, one actor per
CPU, each actor holding one warm MediaPipe model and running one clip at a time.
Cache design: results come back to the driver, which writes them into the cache
(same names, same atomic writes, same failure records as local workers). The
cache then needs to exist only where the driver runs, and a half-written file on
a worker can never enter it. Workers still read each clip by its path, so clips
must sit on a folder every node sees (see docs/scale.md).

A worker (or node) that dies mid-clip loses only that clip; it is sent again to
a fresh actor, up to `max_retries` times. Ray is imported only in this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "Ray is not installed: pip install 'workout-classifier[ray]'"


class RayMissingError(ImportError):
    """`--ray` was asked for but the `ray` package is not installed."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayMissingError(INSTALL_HINT) from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None):
    """Connected Ray for the block: reuse a running session, join `address`, or start a local one.

    address None or "local": a new Ray on this machine (loopback, no dashboard), stopped after.
    Any other address ("auto", "host:6379", "ray://host:10001") joins that cluster.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    kw = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    if address in (None, "", "local"):
        ray.init(
            address="local", num_cpus=num_cpus or os.cpu_count(), _node_ip_address="127.0.0.1", **kw
        )
    else:
        ray.init(address=address, **kw)
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray) -> int:
    return max(int(ray.cluster_resources().get("CPU", 1)), 1)


# ---- extraction -----------------------------------------------------------------------
def _pose_actor_class(ray):
    @ray.remote(num_cpus=1, max_restarts=0)
    class PoseActor:
        """One warm pose model; runs `_extract_one` into a private temp folder, returns the bytes."""

        def __init__(self, settings, progress):
            # Ray sets OMP_NUM_THREADS=1 in a num_cpus=1 actor; local workers run with the
            # process defaults, so drop it before the decoder and pose libraries load.
            os.environ.pop("OMP_NUM_THREADS", None)
            from workout_classifier._quiet import silence_stderr_forever
            from workout_classifier.pose.runner import create_pose

            silence_stderr_forever()
            create_pose(settings).close()  # load the model once, before the first clip
            self.settings, self.progress = settings, progress
            self.tmp = Path(tempfile.mkdtemp(prefix="workout-ray-"))

        def pid(self) -> int:
            return os.getpid()

        def extract(
            self, path: str, sha: str, name: str
        ) -> tuple[dict, bytes | None, bytes | None]:
            from workout_classifier.pose.extract import _extract_one

            out, fail = self.tmp / f"{name}.npz", self.tmp / f"{name}.fail.json"
            pending, last = [0], [time.monotonic()]

            def on_frames(n: int) -> None:  # batched: one call to the progress actor per 0.25 s
                pending[0] += n
                if time.monotonic() - last[0] > 0.25:
                    self.progress.add.remote(pending[0])
                    pending[0], last[0] = 0, time.monotonic()

            res = _extract_one(path, sha, self.settings, str(out), str(fail), on_frames=on_frames)
            if pending[0]:
                self.progress.add.remote(pending[0])
            blobs = []
            for f in (out, fail):
                blobs.append(f.read_bytes() if f.exists() else None)
                f.unlink(missing_ok=True)
            return res, blobs[0], blobs[1]

    return PoseActor


def _progress_actor_class(ray):
    @ray.remote(num_cpus=0)
    class Progress:
        def __init__(self):
            self.n = 0

        def add(self, n: int) -> None:
            self.n += n

        def take(self) -> int:
            n, self.n = self.n, 0
            return n

    return Progress


@dataclass
class RayBackend:
    """`extract_clips(..., backend=RayBackend(...))`: run the clips the cache lacks on Ray.

    workers: actors (default: every CPU of the cluster). max_retries: how often a clip
    whose worker died is sent again before it is reported failed (it is not recorded as
    a failure in the cache, so a rerun tries it again).
    """

    address: str | None = None
    workers: int | None = None
    max_retries: int = 2

    def __post_init__(self):
        import_ray()  # fail at once, with the install hint
        self.retried: int = 0
        self.in_flight: dict = {}  # ObjectRef -> (clip, out, fail, actor, ref of the actor's pid)

    def __call__(self, todo, cache, bar, results: list) -> None:
        from workout_classifier.pose.extract import _expected_frames

        with ray_session(self.address, self.workers) as ray:
            if hasattr(
                bar, "restart_clock"
            ):  # frames/s from here, as for local workers: not Ray's start-up
                bar.restart_clock()
            self._run(ray, todo, cache, bar, results, _expected_frames)

    def _run(self, ray, todo, cache, bar, results, expected_frames) -> None:
        from workout_classifier.pose.landmarks import atomic_write

        n = min(self.workers or cluster_cpus(ray), len(todo))
        progress = _progress_actor_class(ray).remote()
        actor_cls = _pose_actor_class(ray)
        attempts: dict[str, int] = {}
        actors, pid_refs = [], {}
        order: deque = deque()

        def new_actor():
            a = actor_cls.remote(cache.settings, progress)
            actors.append(a)
            pid_refs[id(a)] = a.pid.remote()  # asked first, so known while it works (tests, logs)
            return a

        def submit(actor) -> None:
            p, out, fail = order.popleft()
            attempts[p] = attempts.get(p, 0) + 1
            ref = actor.extract.remote(p, cache.sha256(p), Path(out).name[: -len(".npz")])
            self.in_flight[ref] = (p, out, fail, actor, pid_refs[id(actor)])

        try:
            first = [new_actor() for _ in range(n)]  # they start (imports, model) while we plan
            # Longest first, so no long clip is left to run alone at the end.
            order.extend(
                sorted(todo, key=lambda item: -expected_frames(item[0], cache.settings.fps))
            )
            for a in first:
                submit(a)
            polled = time.monotonic()
            while self.in_flight:
                done, _ = ray.wait(list(self.in_flight), num_returns=1, timeout=0.5)
                if time.monotonic() - polled >= 0.5:  # each poll is a round trip through the raylet
                    bar.frames(ray.get(progress.take.remote()))
                    polled = time.monotonic()
                for ref in done:
                    p, out, fail, actor, _ = self.in_flight.pop(ref)
                    try:
                        res, data, failure = ray.get(ref)
                    except ray.exceptions.RayActorError as e:  # worker or node died mid-clip
                        actors.remove(actor)
                        if attempts[p] <= self.max_retries:
                            self.retried += 1
                            order.appendleft((p, out, fail))
                            submit(new_actor())
                            continue
                        reason = (
                            f"worker died {attempts[p]} times on this clip ({type(e).__name__})"
                        )
                        res, data, failure = (
                            {"file": p, "status": "failed", "reason": reason, "frames": 0},
                            None,
                            None,
                        )
                        actor = new_actor() if order else None
                    for blob, dest in ((data, out), (failure, fail)):
                        if blob is not None:
                            try:
                                with atomic_write(Path(dest)) as fh:
                                    fh.write(blob)
                            except OSError as e:
                                res = {**res, "status": "failed", "frames": 0,
                                       "reason": f"cannot write to the cache: {e.strerror or e}"}  # fmt: skip
                    results.append(res)
                    bar.clip_done()
                    if order and actor is not None:
                        submit(actor)
            bar.frames(ray.get(progress.take.remote()))
        finally:  # also on Ctrl-C: stop the cluster work; the cache holds every finished clip
            self.in_flight.clear()
            for a in actors:
                ray.kill(a)
            ray.kill(progress)


# ---- folds and other independent tasks ------------------------------------------------
def ray_map(fn, items: list, address: str | None = None, num_cpus: int = 1):
    """`fn(item)` for every item as Ray tasks; yields the results in order (for `cross_validate`).

    `fn` is shipped once through the object store (it may carry the training data).
    """
    with ray_session(address) as ray:

        @ray.remote(num_cpus=num_cpus, max_retries=2)
        def call(f, item):
            return f(item)

        fn_ref = ray.put(fn)
        refs = [call.remote(fn_ref, item) for item in items]
        done = 0
        try:
            for ref in refs:
                result = ray.get(ref)
                done += 1  # before the yield: a caller that stops here has this one, finished
                yield result
        finally:
            # Only when stopped early (an error, Ctrl-C): cancelling tasks that have already
            # finished races their completion inside Ray 2.60 and aborts the driver
            # ("Tried to complete task that was not pending"), so the finished ones are left be.
            # `done` is counted before the yield: counted after it, a caller that stopped early
            # had the last result it was handed, a finished task, cancelled (the likely cause of a
            # clean-clone test run that died silently in tests/pose/test_distributed.py).
            rest = refs[done:]
            finished, _ = ray.wait(rest, num_returns=len(rest), timeout=0) if rest else ([], [])
            for ref in rest:
                if ref not in finished:
                    ray.cancel(ref, force=True)
