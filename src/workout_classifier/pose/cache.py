"""The pose cache: one file per clip, keyed by the clip's content and the pose settings.

A clip's key is the first 24 hex digits of its SHA-256 and the hash of the pose
settings, so renaming or moving a clip costs nothing and changing settings never
reads stale arrays. `<key>.npz` holds a PoseSequence; `<key>.fail.json` records
why a clip could not be decoded (so reruns do not retry it). Files are written
atomically elsewhere (`extract`, `distributed`: temp + rename); this module
reads, names and cleans up.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from workout_classifier.frames.video import VideoError
from workout_classifier.pose.landmarks import PoseSequence, PoseSettings, file_sha256


class CacheError(Exception):
    """The cache folder cannot be created or written."""


class PoseCache:
    """Content-addressed store of PoseSequence files."""

    def __init__(self, root: str | Path, settings: PoseSettings = PoseSettings()):
        self.root = Path(root)
        self.settings = settings
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise CacheError(
                f"cache folder is not writable: {self.root} ({e.strerror or e})"
            ) from None
        self._sha: dict[tuple, str] = {}

    def sha256(self, path: str | Path) -> str:
        st = os.stat(path)
        memo = (str(path), st.st_size, st.st_mtime_ns)
        if memo not in self._sha:
            self._sha[memo] = file_sha256(path)
        return self._sha[memo]

    def remember_sha256(self, path: str | Path, sha: str) -> None:
        """Record a hash computed elsewhere (split.py hashes while its helpers start), not to hash twice."""
        st = os.stat(path)
        self._sha[(str(path), st.st_size, st.st_mtime_ns)] = sha

    def key(self, path: str | Path) -> str:
        return f"{self.sha256(path)[:24]}-{self.settings.key()}"

    def data_path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def fail_path(self, key: str) -> Path:
        return self.root / f"{key}.fail.json"

    def failure_reason(self, key: str) -> str:
        """The reason recorded for a clip that could not be decoded (tolerates a damaged record)."""
        try:
            return json.loads(self.fail_path(key).read_text())["reason"]
        except (OSError, ValueError, KeyError, TypeError):
            return "failed in an earlier run"

    def status(self, path: str | Path) -> str:
        """'done', 'failed' or 'missing' for a clip."""
        if not Path(path).is_file() or os.path.getsize(path) == 0:
            return "failed"
        k = self.key(path)
        if self.data_path(k).exists():
            return "done"
        return "failed" if self.fail_path(k).exists() else "missing"

    def load(self, path: str | Path) -> PoseSequence:
        """The cached sequence; raises VideoError with the recorded reason for failed clips."""
        if Path(path).is_file() and os.path.getsize(path) == 0:
            raise VideoError("empty file (0 bytes)")
        k = self.key(path)
        if self.data_path(k).exists():
            return PoseSequence.load(self.data_path(k))
        if self.fail_path(k).exists():
            raise VideoError(self.failure_reason(k))
        raise KeyError(f"not extracted yet: {path}")

    def clean_temp(self, max_age_s: float = 3600.0) -> int:
        """Remove leftovers of killed runs: `<name>.<pid>.tmp` files whose writer is gone.

        A temp file of a live process (another run sharing this cache) is left alone
        unless it is older than `max_age_s`. Temp files are never read as results.
        """
        removed = 0
        now = time.time()
        for tmp in self.root.glob("*.tmp"):
            try:
                if _writer_alive(tmp) and now - tmp.stat().st_mtime < max_age_s:
                    continue
                tmp.unlink()
                removed += 1
            except OSError:
                pass
        return removed


def _writer_alive(tmp: Path) -> bool:
    """Whether the process named in `<name>.<pid>.tmp` still runs (and is not this one)."""
    try:
        pid = int(tmp.name.rsplit(".", 2)[-2])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours to signal
        return True
    return True
