"""One running server's state: its private temp folders, process pool and queue limit.

`ServerState` is made by `create_app` and kept as ``app.state.server``. Its
folders exist between `open` (app startup) and `close` (app shutdown), which
also stops the pool; the pool itself starts lazily, on first use or warm-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import queue as queue_mod
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from workout_classifier.serve.uploads import MB
from workout_classifier.serve.workers import features, new_pool, stop_pool, worker_warm_up


class ServerState:
    def __init__(self, model_path: str | None, max_upload_mb: float, workers: int,
                 tmp_dir: str | Path | None, max_pending: int, result_ttl_s: float):  # fmt: skip
        self.model_path = (
            model_path  # the pool's workers load it; the app keeps its own copy for /api/health
        )
        self.max_upload_mb = max_upload_mb
        self.max_bytes = int(max_upload_mb * MB)
        self.workers, self.max_pending, self.result_ttl_s = workers, max_pending, result_ttl_s
        self.tmp_parent = str(tmp_dir) if tmp_dir is not None else None
        self.root: Path | None = None
        self.pending = 0
        self._pool: ProcessPoolExecutor | None = None
        # Makes pool(), _drop_pool() and close() safe from any thread: one pool at a
        # time, and a broken one is replaced only once.
        self._lock = threading.Lock()
        self.features = features()
        # Jobs' progress from the workers (workers.Reporter), read by a thread of this process.
        self.progress_q = None
        self._listening = False
        # A job's work in the pool and its folder, by job id, while it has them (jobs.cancel_job).
        self.submitted: dict = {}
        self.job_dirs: dict[str, str] = {}

    def listen(self, loop: asyncio.AbstractEventLoop, on_message) -> None:
        """Call `on_message(msg)` on `loop` for every progress message of the workers, until close."""
        self._listening = True

        def drain() -> None:
            while self._listening:
                try:
                    # Looked up each time: a broken pool's queue is replaced (see _drop_pool).
                    msg = self.progress_q.get(timeout=0.25)
                except queue_mod.Empty:
                    continue
                except Exception:  # noqa: BLE001 (a message cut short by a killed worker): skip it
                    time.sleep(0.05)
                    continue
                with contextlib.suppress(RuntimeError):  # the loop has stopped
                    loop.call_soon_threadsafe(on_message, msg)

        threading.Thread(target=drain, name="job-progress", daemon=True).start()

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def annotated(self) -> Path:
        return self.root / "annotated"

    def open(self) -> None:
        # A fresh folder per server (mkdtemp: private, unpredictable name), so
        # uploads never meet another server's or user's files.
        self.root = Path(tempfile.mkdtemp(prefix="workout-serve-", dir=self.tmp_parent))
        self.uploads.mkdir()
        self.annotated.mkdir()
        self.progress_q = mp.get_context("spawn").Queue()

    def pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = new_pool(self.workers, self.model_path, self.progress_q)
            return self._pool

    def _drop_pool(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:  # another request may already have replaced it
                self._pool = None
                # A worker killed while writing a progress message leaves the queue's pipe
                # mid-message: the next pool gets a fresh one.
                self.progress_q = mp.get_context("spawn").Queue()
        stop_pool(pool)

    async def run(self, fn, *args, key: str | None = None):
        """`fn(*args)` in the pool; `key`: a job id under which the work can be cancelled (`cancel`)."""
        pool = self.pool()
        try:
            future = pool.submit(fn, *args)
            if key is not None:
                self.submitted[key] = future
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._drop_pool(
                pool
            )  # a worker died (e.g. out of memory): the next job gets a fresh pool
            raise
        finally:
            if key is not None:
                self.submitted.pop(key, None)

    def cancel(self, key: str) -> bool:
        """Cancel work not yet taken by a worker (the awaiting `run` raises CancelledError)."""
        future = self.submitted.get(key)
        return future is not None and future.cancel()

    async def warm_up(self) -> None:
        await asyncio.gather(*(self.run(worker_warm_up) for _ in range(self.workers)))

    def sweep(self) -> None:
        """Remove annotated clips older than the TTL."""
        cutoff = time.time() - self.result_ttl_s
        for f in self.annotated.iterdir():
            with contextlib.suppress(OSError):
                if f.stat().st_mtime < cutoff:
                    f.unlink()

    def close(self) -> None:
        self._listening = False
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            stop_pool(pool)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
