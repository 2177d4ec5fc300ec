"""What every `workout` command shares: the typer app, the consoles, one-line failures, loaders."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

RAY_HELP = (
    "Run on Ray: `local` starts one on this machine (a bare --ray means local), or a cluster "
    "address (auto, HOST:6379, ray://HOST:10001). Needs the `ray` extra."
)


def bare_ray_means_local(argv: list[str]) -> list[str]:
    """`--ray` with no address (last, or followed by an option or a path) becomes `--ray local`.

    typer has no optional option values; an address is `local`, `auto` or has a colon.
    """
    out = []
    for i, a in enumerate(argv):
        out.append(a)
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if a == "--ray" and (nxt is None or not (nxt in ("local", "auto") or ":" in nxt)):
            out.append("local")
    return out


# Set by a command whose process may end without tearing down what it loaded (`quick_exit`).
QUICK_EXIT = {"ok": False}


def quick_exit_allowed() -> None:
    """Say that this command's process may end at once when it is done: everything it made is
    written or removed, and what is left is unloading MediaPipe, OpenCV and the rest, about 0.06 s
    of a cold `workout predict` of 1.1 s (docs/speed.md)."""
    QUICK_EXIT["ok"] = True


class _App(typer.Typer):
    def __call__(self, *args, **kwargs):
        if not args and "args" not in kwargs:
            kwargs["args"] = bare_ray_means_local(sys.argv[1:])
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as e:  # typer's way out, also on success
            if QUICK_EXIT["ok"]:
                _quick_exit(e.code)
            raise


def _quick_exit(code) -> None:
    import os

    from workout_classifier.pose import early

    early.stop()  # helper processes never used (none are left otherwise)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


app = _App(
    add_completion=False,
    no_args_is_help=True,
    help="Say which exercise a workout video shows, count its reps and check its form, from the pose: "
    "predict, annotate, live, serve; stats, extract, train, evaluate for a dataset of your own.",
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
    from workout_classifier.learn.dataset import DatasetError, scan_dataset

    try:
        return scan_dataset(data)
    except DatasetError as e:
        fail(str(e))


def _cache_or_fail(cache: Path, fps: float):
    from workout_classifier.pose.cache import CacheError, PoseCache
    from workout_classifier.pose.landmarks import PoseSettings

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
    from workout_classifier.learn.checkpoint import Classifier, ModelFileError

    try:
        return Classifier.load(model)
    except ModelFileError as e:
        fail(str(e))


def ray_backend_or_fail(address: str | None, workers: int | None):
    """The Ray extraction backend for `--ray ADDRESS`, or None without it; one line if Ray is missing."""
    if address is None:
        return None
    from workout_classifier.pose.distributed import RayBackend, RayMissingError

    try:
        return RayBackend(address=address, workers=workers)
    except RayMissingError as e:
        fail(str(e))


def fold_mapper_or_fail(address: str | None):
    """`map_folds` for cross_validate: folds as Ray tasks with `--ray`, else None (in this process)."""
    if address is None:
        return None
    from workout_classifier.pose.distributed import RayMissingError, import_ray, ray_map

    try:
        import_ray()
    except RayMissingError as e:
        fail(str(e))
    return lambda fn, items: ray_map(fn, items, address)


def run_extraction(paths, cache, workers: int | None, quiet: bool = False, ray: str | None = None):
    """Extract what the cache lacks; print a summary of failures. Shared by several commands.

    With `ray` (an address or "local") the clips run on Ray, `workers` actors (default: every CPU)."""
    from workout_classifier.pose.extract import extract_clips

    backend = ray_backend_or_fail(ray, workers)
    try:
        summary = extract_clips(paths, cache, workers=workers or 1, progress=not quiet, console=err,
                                backend=backend)  # fmt: skip
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted:[/] finished clips are cached; run the same command again to resume"
        )
        raise typer.Exit(130) from None
    if not quiet:
        err.print(
            f"{summary.total} clips: {summary.cached} already cached, {summary.extracted} extracted"
            + (
                f" ({summary.frames} frames, {summary.fps:.0f} frames/s)"
                if summary.extracted
                else ""
            )
        )
        _print_skipped(summary.failed + summary.no_person, "skipped")
    return summary
