"""`workout predict`, `annotate` and `serve`: the commands that answer about a user's clips."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from workout_classifier.cli.common import (
    RAY_HELP,
    _load_classifier,
    app,
    console,
    err,
    fail,
    quick_exit_allowed,
    ray_backend_or_fail,
)


@app.command()
def predict(
    videos: list[Path] = typer.Argument(..., help="Video files, or folders of them."),
    model: Path = typer.Option(
        None, "--model", "-m", help="Model file (default: the one shipped in the package)."
    ),
    cache: Path = typer.Option(None, "--cache", help="Reuse/keep landmarks in this folder."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    top: int = typer.Option(3, "--top", "-k", min=1),
    tta: bool = typer.Option(
        None,
        "--tta/--no-tta",
        help="Average with the mirrored clip (default: as the model was trained to).",
    ),
    workers: int = typer.Option(1, "--workers", "-w", min=1),
    ray: str = typer.Option(None, "--ray", metavar="[ADDRESS]", help=RAY_HELP),
    reps: bool = typer.Option(False, "--reps", help="Count repetitions (adds reps and rep_times)."),
    form: bool = typer.Option(
        False, "--form", help="Check push-up form (adds form, form_confidence, form_cues)."
    ),
    timeline: bool = typer.Option(
        False, "--timeline", help="Segments of a long video (adds timeline)."
    ),
):
    """Say which exercise each video shows."""
    from workout_classifier.pose import early

    if cache is None and ray is None and len(videos) == 1 and videos[0].is_file():
        early.start()  # MediaPipe imported once, then the clip's helper processes forked
    try:
        results = _answers(
            videos, model, cache, top, tta, workers, ray, json_out, reps, form, timeline
        )
    finally:
        early.stop()  # helpers the clip did not use (too short to split, not a video, an error)
    if json_out:
        print(json.dumps(results, indent=1, ensure_ascii=False))
    else:
        _print_predictions(results)
    quick_exit_allowed()  # the answers are out and the temporary poses removed
    if all(r["error"] for r in results):
        raise typer.Exit(1)


def _answers(
    videos, model, cache, top, tta, workers, ray, json_out, reps, form, timeline
) -> list[dict]:
    from workout_classifier.api import Model, video_sources
    from workout_classifier.pose.cache import CacheError

    if not video_sources(videos):  # only empty folders given: say so instead of an empty table
        fail(f"no video files in {', '.join(str(v) for v in videos)}")
    clf = _load_classifier(model)
    backend = ray_backend_or_fail(ray, None if ray else workers)
    try:
        answers = Model(clf).predict(list(videos), top=top, tta=tta, cache=cache, workers=workers,
                                     backend=backend, progress=not json_out, console=err, reps=reps,
                                     form=form, timeline=timeline)  # fmt: skip
    except CacheError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    return [a.to_dict() for a in answers]


# Marks an answer whose clip could not all be decoded; its warnings follow the table.
WARN_MARK = "[yellow]![/]"


def unknown_reason(r: dict) -> str:
    """Why an answer with a best guess is `unknown`, in a few words."""
    if r.get("resting"):
        return "but the body looks at rest"
    if r.get("out_of_range"):
        rom = r["range_of_motion"]
        if "min" in rom:
            return f"but the {rom['joint']} moves {rom['degrees']:.0f}°, under the {rom['min']:.0f}° it needs"
        return f"but the {rom['joint']} moves {rom['degrees']:.0f}°, over the {rom['max']:.0f}° it allows"
    if r.get("out_of_stance"):
        return f"but {r['stance_rule']['says']}"
    return "below the model's threshold"


def _print_predictions(results: list[dict]) -> None:
    t = Table()
    for col in ("video", "exercise", "confidence", "runner-up"):
        t.add_column(col)
    for r in results:
        mark = f" {WARN_MARK}" if r.get("warnings") else ""
        if r["error"]:
            t.add_row(Path(r["video"]).name, f"[red]{r['error']}[/]{mark}", "", "")
            continue
        second = r["top"][1] if len(r["top"]) > 1 else None
        label = f"[bold]{r['label']}[/]{mark}"
        if r.get("damaged") and r["top"]:  # too damaged to name one: the guess, and why not
            label += f" (best guess {r['top'][0]['label']}, but the clip is too damaged)"
        elif r["label"] == "unknown" and r["top"]:  # what the model would have guessed, and why not
            label += f" (best guess {r['top'][0]['label']}, {unknown_reason(r)})"
        t.add_row(Path(r["video"]).name, label, f"{r['confidence']:.0%}",
                  f"{second['label']} ({second['probability']:.0%})" if second else "")  # fmt: skip
    console.print(t)
    for r in results:  # under the table, so that a long sentence is not squeezed into a cell
        for w in r.get("warnings") or []:
            console.print(f"{WARN_MARK} {Path(r['video']).name}: {w}", highlight=False)
        if several := r.get("exercises"):
            console.print(f"{Path(r['video']).name}: {several_line(several, 'timeline' in r)}",
                          highlight=False)  # fmt: skip
    _print_extras(results)


def several_line(exercises: list[dict], has_timeline: bool) -> str:
    """The sentence for a clip of several exercises (predict's `exercises`)."""
    parts = ", ".join(f"{e['label']} {e['seconds']:.0f} s" for e in exercises)
    where = "the timeline below" if has_timeline else "--timeline"
    return f"several exercises ({parts}): the answer above is for the whole clip; {where} names each part"


def _print_extras(results: list[dict]) -> None:
    """Reps, push-up form and timeline lines, for the answers that have them."""
    from workout_classifier.analysis.timeline import RESTING  # here: the CLI starts without numpy

    for r in results:
        if r["error"]:
            continue
        name = Path(r["video"]).name
        if "reps" in r:
            times = ", ".join(f"{t:.1f}" for t in r["rep_times"])
            console.print(
                f"{name}: {r['reps']} reps" + (f" at {times} s" if times else ""), highlight=False
            )
            degs = [
                f"{d['range_deg']:.0f}°"
                for d in r.get("rep_details") or []
                if d.get("range_deg") is not None
            ]
            if degs:  # the defining joint's range, rep by rep
                joint = r["rep_details"][0]["joint"]
                console.print(f"  {joint} range per rep: {', '.join(degs)}", highlight=False)
            for cue in r.get("rep_cues") or []:
                console.print(f"  {cue}", highlight=False)
        if r.get("form"):
            cues = "; ".join(r.get("form_cues") or [])
            console.print(f"{name}: form {r['form']} ({r['form_confidence']:.0%})" + (f": {cues}" if cues else ""),
                          highlight=False)  # fmt: skip
        for s in r.get("timeline") or []:
            reps = "" if s["label"] == RESTING else f", {s.get('reps', 0)} reps"
            console.print(f"  {s['start']:7.1f}-{s['end']:7.1f} s  {s['label']} ({s['confidence']:.0%}){reps}",
                          highlight=False)  # fmt: skip


@app.command()
def annotate(
    video: Path = typer.Argument(..., help="Video file to annotate."),
    out: Path = typer.Option(..., "--out", "-o", help="Annotated video to write (H.264 .mp4)."),
    model: Path = typer.Option(
        None, "--model", "-m", help="Model file (default: the one shipped in the package)."
    ),
    cache: Path = typer.Option(None, "--cache", help="Reuse/keep landmarks in this folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
):
    """Write a copy of VIDEO with the skeleton, exercise, rep counter and push-up form on it."""
    from workout_classifier.annotate import annotate_video
    from workout_classifier.frames.video import VideoError
    from workout_classifier.pose.cache import CacheError

    clf = _load_classifier(model)
    try:
        res = annotate_video(video, out, clf, cache_dir=cache)
    except (VideoError, CacheError) as e:
        fail(f"{video}: {e}")
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror or e}")
    except KeyboardInterrupt:
        fail("interrupted", 130)
    if json_out:
        print(json.dumps(res, indent=1, ensure_ascii=False))
    elif res.get("error"):
        console.print(f"{video.name}: {res['error']}; wrote {out}", highlight=False)
    else:
        line = f"{video.name}: {res['label']} ({res['confidence']:.0%}), {res['reps']} reps"
        if res.get("form"):
            line += f", form {res['form']} ({res['form_confidence']:.0%})"
        console.print(f"{line}; wrote {out}", highlight=False)
    for w in [] if json_out else res.get("warnings") or []:
        console.print(f"{WARN_MARK} {video.name}: {w}", highlight=False)


@app.command()
def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every network)."
    ),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535),
    model: Path = typer.Option(
        None, "--model", "-m", help="Model file (default: the one shipped in the package)."
    ),
    max_upload_mb: float = typer.Option(
        200.0, "--max-upload-mb", min=0.001, help="Larger uploads get 413."
    ),
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Processes doing the pose work."),
):
    """Start the web page and JSON API (POST /api/predict, GET /api/health, /openapi.json)."""
    from workout_classifier.learn.checkpoint import ModelFileError
    from workout_classifier.serve import run

    try:
        run(host, port, model, max_upload_mb=max_upload_mb, workers=workers)
    except ModelFileError as e:
        fail(f"{e} (pass --model FILE, e.g. one written by `workout train`)")
