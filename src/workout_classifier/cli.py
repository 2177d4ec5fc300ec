"""The `workout` command line: a thin typer layer over the library functions."""

from __future__ import annotations

import json
from collections import Counter
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


@app.command()
def stats(
    data: Path = typer.Argument(..., help="Dataset root: <DATA>/<exercise>/<clip>.mp4"),
    out: Path = typer.Option(Path("out/stats"), "--out", "-o", help="Folder for stats.json, clips.csv, plots."),
):
    """Count clips, durations, resolutions and frame rates; write stats.json, clips.csv and plots."""
    from workout_classifier.dataset import DatasetError
    from workout_classifier.stats import summary_table, write_stats

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
            console.print(f"  {p['file']}: {p['reason']}", highlight=False, markup=False, soft_wrap=True)
        if len(problems) > 20:
            console.print(f"  ... and {len(problems) - 20} more in {out / 'stats.json'}")
    console.print(f"wrote {out / 'stats.json'}, {out / 'clips.csv'} and 3 plots", highlight=False)


def _training_set(data: Path, cache: Path, fps: float, workers: int, quiet: bool = False, min_clips: int = 1):
    clips, _ = _clips_or_fail(data)
    counts = Counter(c.label for c in clips)
    small = sorted(k for k, n in counts.items() if n < min_clips)
    if small:
        err.print(f"leaving out exercises with fewer than {min_clips} clips: {', '.join(small)}")
        clips = [c for c in clips if counts[c.label] >= min_clips]
    pc = _cache_or_fail(cache, fps)
    run_extraction([c.path for c in clips], pc, workers, quiet=quiet)
    from workout_classifier.train import load_training_set

    ts = load_training_set(clips, pc)
    if not quiet:
        _print_skipped(ts.skipped, "not used")
    if len(ts.classes) < 2:
        fail(f"need at least two exercises with usable clips, found {len(ts.classes)}")
    return ts, pc


def _model_options(options: list[str]) -> dict:
    out = {}
    for item in options:
        if "=" not in item:
            fail(f"--option takes KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


_MODEL_HELP = "Model name from the registry (see `workout models`)."
_DEFAULT_MODEL_NAME = "trees"  # best by grouped macro-F1 (bench/results/accuracy.md)
_TTA_HELP = "Average with the mirrored clip at test time (default: as benchmarked for the model)."


@app.command()
def models():
    """List the registered models."""
    from workout_classifier.models import list_models

    for name in list_models():
        console.print(name)


@app.command()
def evaluate(
    data: Path = typer.Argument(..., help="Dataset root: <DATA>/<exercise>/<clip>.mp4"),
    cache: Path = typer.Option(Path("cache"), "--cache", help="Folder for cached landmarks."),
    model: str = typer.Option(_DEFAULT_MODEL_NAME, "--model", "-m", help=_MODEL_HELP),
    folds: int = typer.Option(5, "--folds", min=2),
    protocol: str = typer.Option("grouped", "--protocol", help="grouped (honest) or seed (the reference's plain k-fold)."),
    out: Path = typer.Option(Path("runs/eval"), "--out", help="Folder for metrics.json, report.md and plots."),
    epochs: int = typer.Option(60, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed"),
    fps: float = typer.Option(15.0, "--fps"),
    workers: int = typer.Option(1, "--workers", "-w", min=1),
    tta: bool = typer.Option(None, "--tta/--no-tta", help=_TTA_HELP, show_default=False),
    option: list[str] = typer.Option([], "--option", "-o", help="Model option KEY=VALUE (repeatable)."),
    min_clips: int = typer.Option(1, "--min-clips", min=1, help="Leave out exercises with fewer clips."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every epoch."),
):
    """Cross-validate a model and write a report (metrics.json, report.md, plots)."""
    from workout_classifier.evaluate import PROTOCOLS, cross_validate
    from workout_classifier.models import default_features, mirror_tta
    from workout_classifier.report import write_report
    from workout_classifier.train import TrainConfig

    if protocol not in PROTOCOLS:
        fail(f"unknown protocol {protocol!r}; use one of: {', '.join(PROTOCOLS)}")
    _check_model_name(model)
    tta = mirror_tta(model) if tta is None else tta
    ts, _ = _training_set(data, cache, fps, workers, min_clips=min_clips)
    err.print(f"{len(ts.y)} clips, {len(ts.classes)} exercises, {len(set(ts.groups))} groups; "
              f"{protocol} {folds}-fold, model {model}")  # fmt: skip
    try:
        res = cross_validate(ts.tracks, ts.y, ts.groups, ts.classes, model, default_features(model),
                             TrainConfig(epochs=epochs, seed=seed), _model_options(option), folds=folds,
                             protocol=protocol, tta=tta, log=err.print,
                             epoch_log=err.print if verbose else None)  # fmt: skip
    except ValueError as e:
        fail(str(e))
    m = write_report(res, out, {"skipped_clips": ts.skipped, "pose": {"fps": fps}})
    _print_metrics(m)
    console.print(f"report: {out / 'report.md'}")


def _check_model_name(name: str) -> None:
    from workout_classifier.models import list_models

    if name not in list_models():
        fail(f"unknown model {name!r}; available: {', '.join(list_models())}")


def _print_metrics(m: dict) -> None:
    t = Table(title=f"{m['model']} - {m['protocol']} {len(m['folds'])}-fold")
    for col in ("class", "precision", "recall", "F1", "clips"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for c, r in m["per_class"].items():
        flag = " *" if r["too_few_for_every_fold"] else ""
        t.add_row(c + flag, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", str(r["support"]))
    console.print(t)
    console.print(f"accuracy {m['accuracy_mean']:.3f} +- {m['accuracy_std']:.3f}   "
                  f"macro-F1 {m['macro_f1_mean']:.3f} +- {m['macro_f1_std']:.3f}")  # fmt: skip
    if m["rare_classes"]:
        console.print("* too few clips to be tested in every fold; not a reliable figure")


@app.command()
def train(
    data: Path = typer.Argument(..., help="Dataset root: <DATA>/<exercise>/<clip>.mp4"),
    cache: Path = typer.Option(Path("cache"), "--cache", help="Folder for cached landmarks."),
    model: str = typer.Option(_DEFAULT_MODEL_NAME, "--model", "-m", help=_MODEL_HELP),
    out: Path = typer.Option(Path("model.pt"), "--out", help="Model file to write."),
    epochs: int = typer.Option(60, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed"),
    fps: float = typer.Option(15.0, "--fps"),
    workers: int = typer.Option(1, "--workers", "-w", min=1),
    option: list[str] = typer.Option([], "--option", "-o", help="Model option KEY=VALUE (repeatable)."),
    min_clips: int = typer.Option(1, "--min-clips", min=1, help="Leave out exercises with fewer clips."),
    tta: bool = typer.Option(None, "--tta/--no-tta", help=_TTA_HELP + " Stored for predict.", show_default=False),
    calibrate: bool = typer.Option(True, "--calibrate/--no-calibrate",
                                   help="Fit temperature and `unknown` threshold on a grouped hold-out."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every epoch."),
):
    """Train on every usable clip and write one model file."""
    from dataclasses import asdict

    from workout_classifier.models import default_features, mirror_tta
    from workout_classifier.train import TrainConfig, fit

    _check_model_name(model)
    tta = mirror_tta(model) if tta is None else tta
    ts, pc = _training_set(data, cache, fps, workers, min_clips=min_clips)
    err.print(f"training {model} on {len(ts.y)} clips of {len(ts.classes)} exercises")
    clf, hist = fit(ts.tracks, ts.y, ts.groups, ts.classes, model, default_features(model),
                    TrainConfig(epochs=epochs, seed=seed, calibrate=calibrate), _model_options(option),
                    log=err.print if verbose else None)  # fmt: skip
    clf.extra["pose"] = asdict(pc.settings)
    clf.extra["tta"] = tta
    clf.extra["trained_on"] = {c: int((ts.y == i).sum()) for i, c in enumerate(ts.classes)}
    clf.save(out)
    how = "one fit" if len(hist["train_loss"]) <= 1 else f"best epoch {hist['best_epoch']}"  # trees: no epochs
    console.print(f"wrote {out} ({len(ts.classes)} exercises, {how}, {hist['seconds']:.0f}s)")


@app.command()
def predict(
    videos: list[Path] = typer.Argument(..., help="One or more video files."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the one shipped in the package)."),
    cache: Path = typer.Option(None, "--cache", help="Reuse/keep landmarks in this folder."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    top: int = typer.Option(3, "--top", "-k", min=1),
    tta: bool = typer.Option(None, "--tta/--no-tta", help="Average with the mirrored clip (default: as the model was trained to)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1),
    reps: bool = typer.Option(False, "--reps", help="Count repetitions (adds reps and rep_times)."),
    form: bool = typer.Option(False, "--form", help="Check push-up form (adds form, form_confidence, form_cues)."),
    timeline: bool = typer.Option(False, "--timeline", help="Segments of a long video (adds timeline)."),
):
    """Say which exercise each video shows."""
    from workout_classifier.extract import CacheError
    from workout_classifier.predict import predict_videos

    clf = _load_classifier(model)
    try:
        results = predict_videos(videos, clf, cache, top=top, tta=tta, workers=workers,
                                 progress=not json_out, console=err,
                                 reps=reps, form=form, timeline=timeline)  # fmt: skip
    except CacheError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    if json_out:
        print(json.dumps(results, indent=1, ensure_ascii=False))
    else:
        _print_predictions(results)
    if all(r["error"] for r in results):
        raise typer.Exit(1)


def _print_predictions(results: list[dict]) -> None:
    t = Table()
    for col in ("video", "exercise", "confidence", "runner-up"):
        t.add_column(col)
    for r in results:
        if r["error"]:
            t.add_row(Path(r["video"]).name, f"[red]{r['error']}[/]", "", "")
            continue
        second = r["top"][1] if len(r["top"]) > 1 else None
        label = f"[bold]{r['label']}[/]"
        if r["label"] == "unknown" and r["top"]:  # say what the model would have guessed, and how unsure
            label += f" (best guess {r['top'][0]['label']}, below the model's threshold)"
        t.add_row(Path(r["video"]).name, label, f"{r['confidence']:.0%}",
                  f"{second['label']} ({second['probability']:.0%})" if second else "")  # fmt: skip
    console.print(t)
    _print_extras(results)


def _print_extras(results: list[dict]) -> None:
    """Reps, push-up form and timeline lines, for the answers that have them."""
    for r in results:
        if r["error"]:
            continue
        name = Path(r["video"]).name
        if "reps" in r:
            times = ", ".join(f"{t:.1f}" for t in r["rep_times"])
            console.print(f"{name}: {r['reps']} reps" + (f" at {times} s" if times else ""), highlight=False)
        if r.get("form"):
            cues = "; ".join(r.get("form_cues") or [])
            console.print(f"{name}: form {r['form']} ({r['form_confidence']:.0%})" + (f": {cues}" if cues else ""),
                          highlight=False)  # fmt: skip
        for s in r.get("timeline") or []:
            console.print(f"  {s['start']:7.1f}-{s['end']:7.1f} s  {s['label']} ({s['confidence']:.0%}), "
                          f"{s.get('reps', 0)} reps", highlight=False)  # fmt: skip


@app.command()
def annotate(
    video: Path = typer.Argument(..., help="Video file to annotate."),
    out: Path = typer.Option(..., "--out", "-o", help="Annotated video to write (H.264 .mp4)."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the one shipped in the package)."),
    cache: Path = typer.Option(None, "--cache", help="Reuse/keep landmarks in this folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
):
    """Write a copy of VIDEO with the skeleton, exercise, rep counter and push-up form on it."""
    from workout_classifier.annotate import annotate_video
    from workout_classifier.extract import CacheError
    from workout_classifier.video import VideoError

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


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every network)."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the one shipped in the package)."),
    max_upload_mb: float = typer.Option(200.0, "--max-upload-mb", min=0.001, help="Larger uploads get 413."),
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Processes doing the pose work."),
):
    """Start the web page and JSON API (POST /api/predict, GET /api/health, /openapi.json)."""
    from workout_classifier.checkpoint import ModelFileError
    from workout_classifier.serve import run

    try:
        run(host, port, model, max_upload_mb=max_upload_mb, workers=workers)
    except ModelFileError as e:
        fail(f"{e} (pass --model FILE, e.g. one written by `workout train`)")


if __name__ == "__main__":  # pragma: no cover
    app()
