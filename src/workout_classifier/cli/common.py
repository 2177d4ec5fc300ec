"""What every `workout` command shares: the typer app, the consoles, one-line failures, loaders."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Classify workout videos from their pose: stats, extract, train, evaluate, predict, serve.",
)
console = Console()
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Classify workout videos from their pose."""


def fail(msg: str, code: int = 1) -> None:
    """One clear line on stderr, then exit."""
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(msg)}", highlight=False, soft_wrap=True)
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


def _print_skipped(items: list[dict], verb: str) -> None:
    """One line per clip left out, with its reason (file names may hold rich markup)."""
    from rich.markup import escape

    for item in items:
        line = escape(f"{item['file']}: {item['reason']}")
        err.print(f"  [yellow]{verb}[/] {line}", highlight=False, soft_wrap=True)


def _load_classifier(model: Path | None):
    from workout_classifier.checkpoint import Classifier, ModelFileError

    try:
        return Classifier.load(model)
    except ModelFileError as e:
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
        _print_skipped(summary.failed + summary.no_person, "skipped")
    return summary
