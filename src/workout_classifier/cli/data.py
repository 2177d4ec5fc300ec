"""`workout extract` and `workout stats`: the dataset commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from workout_classifier.cli.common import (
    RAY_HELP,
    _cache_or_fail,
    _clips_or_fail,
    app,
    console,
    fail,
    run_extraction,
)


@app.command()
def extract(
    data: Path = typer.Argument(..., help="Dataset root: <DATA>/<exercise>/<clip>.mp4"),
    cache: Path = typer.Option(Path("cache"), "--cache", help="Folder for cached landmarks."),
    fps: float = typer.Option(10.0, "--fps", help="Sampling rate (never above the clip's own)."),
    workers: int = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help="Parallel worker processes (default 1; with --ray every CPU of the cluster).",
    ),
    ray: str = typer.Option(None, "--ray", metavar="[ADDRESS]", help=RAY_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
):
    """Run MediaPipe Pose on every clip the cache lacks (resumable)."""
    clips, _ = _clips_or_fail(data)
    pc = _cache_or_fail(cache, fps)
    summary = run_extraction([c.path for c in clips], pc, workers, ray=ray)
    if json_out:
        print(json.dumps(summary.to_dict(), indent=1))


@app.command()
def stats(
    data: Path = typer.Argument(..., help="Dataset root: <DATA>/<exercise>/<clip>.mp4"),
    out: Path = typer.Option(
        Path("out/stats"), "--out", "-o", help="Folder for stats.json, clips.csv, plots."
    ),
):
    """Count clips, durations, resolutions and frame rates; write stats.json, clips.csv and plots."""
    from workout_classifier.learn.dataset import DatasetError
    from workout_classifier.learn.stats import summary_table, write_stats

    try:
        summary = write_stats(data, out)
    except DatasetError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot write to {out}: {e.strerror or e}")
    console.print(summary_table(summary))
    problems = summary["problems"]
    if problems:
        console.print(f"[yellow]{len(problems)} problem(s):[/]")
        for p in problems[:20]:
            console.print(
                f"  {p['file']}: {p['reason']}", highlight=False, markup=False, soft_wrap=True
            )
        if len(problems) > 20:
            console.print(f"  ... and {len(problems) - 20} more in {out / 'stats.json'}")
    console.print(f"wrote {out / 'stats.json'}, {out / 'clips.csv'} and 3 plots", highlight=False)
