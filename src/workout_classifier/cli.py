"""The `workout` command line: a thin typer layer over the library functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Classify workout videos from their pose: stats, extract, train, evaluate, predict, serve.",
)
console = Console()


@app.callback()
def _root() -> None:
    """Classify workout videos from their pose."""

err = Console(stderr=True)


def fail(msg: str, code: int = 1) -> None:
    """One clear line on stderr, then exit."""
    err.print(f"[bold red]error:[/] {msg}", highlight=False)
    raise typer.Exit(code)


def _clips_or_fail(data: Path):
    from workout_classifier.dataset import DatasetError, scan_dataset

    try:
        return scan_dataset(data)
    except DatasetError as e:
        fail(str(e))


def _cache_or_fail(cache: Path, fps: float):
    from workout_classifier.extract import CacheError, PoseCache
    from workout_classifier.pose import PoseSettings

    try:
        return PoseCache(cache, PoseSettings(fps=fps))
    except CacheError as e:
        fail(str(e))


def run_extraction(paths, cache, workers: int, quiet: bool = False):
    """Extract what the cache lacks; print a summary of failures. Shared by several commands."""
    from workout_classifier.extract import extract_clips

    try:
        summary = extract_clips(paths, cache, workers=workers, progress=not quiet, console=err)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted:[/] finished clips are cached; run the same command again to resume")
        raise typer.Exit(130) from None
    if not quiet:
        err.print(
            f"{summary.total} clips: {summary.cached} already cached, {summary.extracted} extracted"
            + (f" ({summary.frames} frames, {summary.fps:.0f} frames/s)" if summary.extracted else "")
        )
        for item in summary.failed + summary.no_person:
            err.print(f"  [yellow]skipped[/] {item['file']}: {item['reason']}", highlight=False)
    return summary


@app.command()
def extract(
    data: Path = typer.Argument(..., help="Dataset root: <DATA>/<exercise>/<clip>.mp4"),
    cache: Path = typer.Option(Path("cache"), "--cache", help="Folder for cached landmarks."),
    fps: float = typer.Option(15.0, "--fps", help="Sampling rate (never above the clip's own)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Parallel worker processes."),
    json_out: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
):
    """Run MediaPipe Pose on every clip the cache lacks (resumable)."""
    clips, _ = _clips_or_fail(data)
    pc = _cache_or_fail(cache, fps)
    summary = run_extraction([c.path for c in clips], pc, workers)
    if json_out:
        print(json.dumps(summary.to_dict(), indent=1))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
