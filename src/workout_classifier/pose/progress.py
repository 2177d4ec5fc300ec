"""The extraction progress bar (rich): clips done, frames per second, elapsed time.

Kept apart from extract.py so the driver reads as the algorithm; `enabled=False`
makes every call a no-op (JSON output, tests, the web server's workers).
"""

from __future__ import annotations

import time


class ExtractProgress:
    """A rich progress bar showing clips done and frames per second."""

    def __init__(self, clips: int, enabled: bool, console=None):
        self.enabled = enabled
        self.n_frames = 0
        self.t0 = time.perf_counter()
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]extracting poses"), BarColumn(), MofNCompleteColumn(),
                TextColumn("clips"), TextColumn("{task.fields[fps]} frames/s"), TimeElapsedColumn(),
                console=console, transient=False,
            )  # fmt: skip
            self.task = self.progress.add_task("extract", total=clips, fps="-")

    def __enter__(self):
        if self.enabled:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.__exit__(*exc)

    def restart_clock(self) -> None:
        """Count frames/s from now (a backend that first starts a cluster calls it)."""
        self.t0 = time.perf_counter()

    def frames(self, n: int) -> None:
        self.n_frames += n
        if self.enabled:
            rate = self.n_frames / max(time.perf_counter() - self.t0, 1e-9)
            self.progress.update(self.task, fps=f"{rate:.0f}")

    def clip_done(self) -> None:
        if self.enabled:
            self.progress.advance(self.task)
