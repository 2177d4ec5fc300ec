"""`workout models`, `evaluate` and `train`: the commands that fit and measure models."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from workout_classifier.cli.common import (
    RAY_HELP,
    _cache_or_fail,
    _clips_or_fail,
    _load_classifier,
    _print_skipped,
    app,
    console,
    err,
    fail,
    fold_mapper_or_fail,
    run_extraction,
)


def _training_set(data: Path, cache: Path, fps: float, workers: int | None, quiet: bool = False, min_clips: int = 1,
                  ray: str | None = None):  # fmt: skip
    from workout_classifier.api import training_set

    _clips_or_fail(data)
    pc = _cache_or_fail(cache, fps)
    try:
        ts, pc = training_set(data, pc.root, fps=fps, min_clips=min_clips, log=err.print,
                              extractor=lambda paths, pc: run_extraction(paths, pc, workers, quiet=quiet, ray=ray))  # fmt: skip
    except ValueError as e:
        fail(str(e))
    if not quiet:
        _print_skipped(ts.skipped, "not used")
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


from workout_classifier.api import DEFAULT_MODEL_NAME as _DEFAULT_MODEL_NAME  # noqa: E402
from workout_classifier.api import MIN_CLIPS  # noqa: E402

_MIN_HELP = f"Leave out exercises with fewer clips (default {MIN_CLIPS}: the nine exercises of ../shared/data)."
_MODEL_HELP = "Model name from the registry (see `workout models`)."
_TTA_HELP = "Average with the mirrored clip at test time (default: as benchmarked for the model)."


@app.command()
def models():
    """List the registered models (neural ones say so when torch is not installed)."""
    from workout_classifier.learn.models import INSTALL_NEURAL, NEURAL, available, list_models

    for name in list_models():
        missing = name in NEURAL and not available(name)
        console.print(
            name + (f"  (needs torch: {INSTALL_NEURAL})" if missing else ""), highlight=False
        )


@app.command("convert-model")
def convert_model(
    old: Path = typer.Argument(..., help="Model file of an earlier version (a torch .pt file)."),
    out: Path = typer.Option(
        None, "--out", help="File to write (default: OLD with the .safetensors suffix)."
    ),
):
    """Rewrite a model file in the current format (safetensors + JSON; loads without torch where it can)."""
    from workout_classifier.learn.checkpoint import SUFFIX

    out = out or old.with_suffix(SUFFIX)
    if out.resolve() == old.resolve():
        fail(f"--out must differ from the file read: {old}")
    _load_classifier(old).save(out)
    console.print(f"wrote {out}")


@app.command()
def evaluate(
    data: Path = typer.Argument(..., help="Dataset root: <DATA>/<exercise>/<clip>.mp4"),
    cache: Path = typer.Option(Path("cache"), "--cache", help="Folder for cached landmarks."),
    model: str = typer.Option(_DEFAULT_MODEL_NAME, "--model", "-m", help=_MODEL_HELP),
    folds: int = typer.Option(5, "--folds", min=2),
    protocol: str = typer.Option(
        "grouped",
        "--protocol",
        help="grouped (honest), source (leave one source of an exercise out) or seed (plain k-fold).",
    ),
    out: Path = typer.Option(
        Path("runs/eval"), "--out", help="Folder for metrics.json, report.md and plots."
    ),
    epochs: int = typer.Option(60, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed"),
    fps: float = typer.Option(10.0, "--fps"),
    workers: int = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help="Extraction processes (default 1; with --ray every CPU of the cluster).",
    ),
    ray: str = typer.Option(None, "--ray", metavar="[ADDRESS]", help=RAY_HELP),
    tta: bool = typer.Option(None, "--tta/--no-tta", help=_TTA_HELP, show_default=False),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="Model option KEY=VALUE (repeatable)."
    ),
    min_clips: int = typer.Option(MIN_CLIPS, "--min-clips", min=1, help=_MIN_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every epoch."),
):
    """Cross-validate a model and write a report (metrics.json, report.md, plots)."""
    from workout_classifier.api import cross_validate_training_set
    from workout_classifier.learn.evaluate import PROTOCOLS
    from workout_classifier.learn.report import write_report

    if protocol not in PROTOCOLS:
        fail(f"unknown protocol {protocol!r}; use one of: {', '.join(PROTOCOLS)}")
    _check_model_name(model)
    ts, pc = _training_set(data, cache, fps, workers, min_clips=min_clips, ray=ray)
    err.print(f"{len(ts.y)} clips, {len(ts.classes)} exercises, {len(set(ts.groups))} groups; "
              f"{protocol} {folds}-fold, model {model}")  # fmt: skip
    try:
        res = cross_validate_training_set(ts, model, folds=folds, protocol=protocol, epochs=epochs, seed=seed,
                                          options=_model_options(option), tta=tta, log=err.print,
                                          epoch_log=err.print if verbose and not ray else None,
                                          map_folds=fold_mapper_or_fail(ray))  # fmt: skip
    except ValueError as e:
        fail(str(e))
    m = write_report(res, out, {"skipped_clips": ts.skipped, "pose": pc.settings.to_dict()})
    _print_metrics(m)
    console.print(f"report: {out / 'report.md'}")


def _check_model_name(name: str) -> None:
    from workout_classifier.learn.models import MissingExtraError, list_models, mirror_tta

    if name not in list_models():
        fail(f"unknown model {name!r}; available: {', '.join(list_models())}")
    try:
        mirror_tta(name)  # imports the model's module: a neural model needs torch
    except MissingExtraError as e:
        fail(str(e))


def _print_metrics(m: dict) -> None:
    t = Table(title=f"{m['model']} - {m['protocol']} {len(m['folds'])}-fold")
    for col in ("class", "precision", "recall", "F1", "clips"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for c, r in m["per_class"].items():
        flag = " *" if r["too_few_for_every_fold"] else ""
        t.add_row(
            c + flag,
            f"{r['precision']:.3f}",
            f"{r['recall']:.3f}",
            f"{r['f1']:.3f}",
            str(r["support"]),
        )
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
    out: Path = typer.Option(Path("model.safetensors"), "--out", help="Model file to write."),
    epochs: int = typer.Option(60, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed"),
    fps: float = typer.Option(10.0, "--fps"),
    workers: int = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help="Extraction processes (default 1; with --ray every CPU of the cluster).",
    ),
    ray: str = typer.Option(None, "--ray", metavar="[ADDRESS]", help=RAY_HELP),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="Model option KEY=VALUE (repeatable)."
    ),
    min_clips: int = typer.Option(MIN_CLIPS, "--min-clips", min=1, help=_MIN_HELP),
    tta: bool = typer.Option(
        None, "--tta/--no-tta", help=_TTA_HELP + " Stored for predict.", show_default=False
    ),
    calibrate: bool = typer.Option(
        True,
        "--calibrate/--no-calibrate",
        help="Fit temperature and `unknown` threshold on a grouped hold-out.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every epoch."),
):
    """Train on every usable clip and write one model file."""
    from workout_classifier.api import fit_training_set

    _check_model_name(model)
    ts, pc = _training_set(data, cache, fps, workers, min_clips=min_clips, ray=ray)
    err.print(f"training {model} on {len(ts.y)} clips of {len(ts.classes)} exercises")
    trained = fit_training_set(ts, pc.settings, model, epochs=epochs, seed=seed, options=_model_options(option),
                               tta=tta, calibrate=calibrate, log=err.print if verbose else None)  # fmt: skip
    trained.save(out)
    hist = trained.history_
    how = (
        "one fit" if len(hist["train_loss"]) <= 1 else f"best epoch {hist['best_epoch']}"
    )  # trees: no epochs
    console.print(f"wrote {out} ({len(ts.classes)} exercises, {how}, {hist['seconds']:.0f}s)")
