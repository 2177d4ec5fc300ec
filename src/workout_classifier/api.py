"""The Python API: answers about clips from a model, and the workflow that trains one.

    import workout_classifier as wc
    model = wc.load_model()                  # the shipped model, or wc.load_model("mine.safetensors")
    r = model.predict("clip.mp4", reps=True, timeline=True)
    r.label, r.confidence, r.top, r.warnings, r.reps, r.timeline, r.to_dict()

    wc.extract("DATA", cache="cache")        # poses of <DATA>/<exercise>/<clip>, cached and resumable
    model = wc.train("DATA", cache="cache", out="mine.safetensors")
    metrics = wc.evaluate("DATA", cache="cache", protocol="source", out="runs/eval")

`workout predict`, `train` and `evaluate` and the web server call these same functions; the
command line only adds printing. A source is a video file, a folder of videos or a list of
either; one file gives one ``Result``, anything else a list of them.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workout_classifier.learn.checkpoint import Classifier

# The stages are imported where used: `import workout_classifier.api` (every `workout` command
# does) stays cheap.

MIN_CLIPS = (
    7  # exercises with fewer clips are left out of train/evaluate (too few to learn or measure)
)
GATE_ON = "grouped"  # what the `unknown` gate is fitted on (fit_training_set)
DEFAULT_MODEL_NAME = "trees"  # best by the mean of both protocols' macro-F1 (docs/accuracy.md)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


@dataclass
class Result:
    """The answer about one clip. ``to_dict()`` is the JSON of `workout predict --json`.

    Optional answers are None unless asked for (``reps=True``, ``form=True``, ``timeline=True``).
    """

    video: str
    label: str | None = None  # an exercise, "unknown", or None when the clip could not be read
    confidence: float | None = None
    top: list[dict] = field(default_factory=list)  # [{label, probability}], best first
    error: str | None = None  # why there is no answer (unreadable, nobody visible, ...)
    # What the decoder could not read of the clip ([] for a clean one); they hold for reps, form
    # and timeline too. A clip too damaged to trust answers label "unknown" with the reason here.
    warnings: list[str] = field(default_factory=list)
    reps: int | None = None
    rep_details: list[dict] | None = None
    form: str | None = None  # push-up form: "correct" / "wrong"
    form_cues: list[str] | None = None
    timeline: list[dict] | None = None  # [{start, end, label, confidence, reps}]
    # A clip of several exercises: [{label, seconds}] of each (from the timeline's windows); [] otherwise.
    exercises: list[dict] = field(default_factory=list)
    answer: dict = field(default_factory=dict, repr=False)  # every key, as to_dict() gives them

    @classmethod
    def from_dict(cls, answer: dict) -> Result:
        from workout_classifier.predict import public

        answer = public(answer)
        return cls(
            video=answer["video"], label=answer.get("label"), confidence=answer.get("confidence"),
            top=answer.get("top") or [], error=answer.get("error"), warnings=answer.get("warnings") or [],
            reps=answer.get("reps"),
            rep_details=answer.get("rep_details"), form=answer.get("form"), form_cues=answer.get("form_cues"),
            timeline=answer.get("timeline"), exercises=answer.get("exercises") or [], answer=answer,
        )  # fmt: skip

    def to_dict(self) -> dict:
        return copy.deepcopy(self.answer)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.answer, ensure_ascii=False, **kwargs)


def video_sources(source: str | Path | Iterable[str | Path]) -> list[str]:
    """The clips a source names: a file as is, a folder's videos (recursively, sorted), a list of either.

    A path that does not exist is kept, so its answer carries the error "file not found"."""
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            return sorted(
                str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES
            )
        return [str(source)]
    return [v for s in source for v in video_sources(s)]


class Model:
    """A trained exercise model (``load_model``) and what it answers about clips."""

    def __init__(self, classifier: Classifier):
        self.classifier = classifier

    @property
    def classes(self) -> list[str]:
        return list(self.classifier.classes)

    def __repr__(self) -> str:
        return f"Model({self.classifier.model_name!r}, classes={self.classes})"

    def predict(
        self,
        source: str | Path | Iterable[str | Path],
        *,
        reps: bool = False,
        form: bool = False,
        timeline: bool = False,
        top: int = 3,
        tta: bool | None = None,
        cache: str | Path | None = None,
        workers: int = 1,
        progress: bool = False,
        console=None,
        backend=None,
    ) -> Result | list[Result]:
        """Answer about each clip of ``source``; a bad clip gets its ``error``, never an exception.

        ``cache`` keeps the poses (a later call on the same clip skips the pose model);
        ``backend`` runs extraction elsewhere (``pose.distributed.RayBackend``)."""
        from workout_classifier import predict as _predict  # module attribute: tests may replace it

        single = isinstance(source, (str, Path)) and not Path(source).is_dir()
        videos = video_sources(source)
        answers = _predict.predict_videos(videos, self.classifier, cache, top=top, tta=tta, workers=workers,
                                          progress=progress, console=console, reps=reps, form=form,
                                          timeline=timeline, backend=backend)  # fmt: skip
        results = [Result.from_dict(a) for a in answers]
        return results[0] if single else results

    def save(self, path: str | Path) -> None:
        self.classifier.save(path)


def load_model(path: str | Path | None = None) -> Model:
    """The model shipped in the package, or a file written by ``train`` (``ModelFileError`` if it is not one)."""
    from workout_classifier.learn.checkpoint import Classifier

    return Model(Classifier.load(path))


# ---- the training workflow ----------------------------------------------------------------------
def extract(data, cache: str | Path = "cache", *, workers: int = 1, fps: float = 10.0, progress: bool = False,
            console=None, backend=None):  # fmt: skip
    """Pose of every clip the cache lacks (resumable: an interrupted run keeps what it finished).

    ``data``: a dataset root (``<data>/<exercise>/<clip>``), a folder of videos, or a list of
    videos. Returns ``pose.extract.ExtractSummary`` (clips extracted, cached, failed); raises
    FileNotFoundError when ``data`` is one path that does not exist."""
    from workout_classifier.pose.extract import extract_clips

    # One path that is not there: an error, not a summary of one failed clip.
    if isinstance(data, (str, Path)) and not Path(data).exists():
        raise FileNotFoundError(f"no such folder or video: {data}")
    paths = [c.path for c in _clips(data)[0]] if _is_dataset(data) else video_sources(data)
    return extract_clips(paths, _pose_cache(cache, fps), workers=workers, progress=progress, console=console,
                         backend=backend)  # fmt: skip


def training_set(data, cache: str | Path = "cache", *, fps: float = 10.0, min_clips: int = MIN_CLIPS,
                 workers: int | None = None, backend=None, log: Callable[[str], None] | None = None,
                 extractor: Callable | None = None):  # fmt: skip
    """(TrainingSet, PoseCache) of a dataset root: clips of exercises with ``min_clips`` or more,
    their poses extracted where the cache lacks them. Raises ValueError with fewer than two exercises.

    ``extractor(paths, pose_cache)`` replaces the quiet extraction (the CLI prints its progress)."""
    from workout_classifier.learn.train import load_training_set

    clips, _ = _clips(data)
    counts = Counter(c.label for c in clips)
    small = sorted(k for k, n in counts.items() if n < min_clips)
    if small:
        (log or _quiet)(
            f"leaving out exercises with fewer than {min_clips} clips: {', '.join(small)}"
        )
        clips = [c for c in clips if counts[c.label] >= min_clips]
    pc = _pose_cache(cache, fps)
    if extractor is not None:
        extractor([c.path for c in clips], pc)
    else:
        from workout_classifier.pose.extract import extract_clips

        extract_clips(
            [c.path for c in clips], pc, workers=workers or 1, progress=False, backend=backend
        )
    ts = load_training_set(clips, pc)
    if len(ts.classes) < 2:
        raise ValueError(f"need at least two exercises with usable clips, found {len(ts.classes)}")
    return ts, pc


def _features(model: str, overrides: dict | None):
    """The model's default FeatureConfig with some fields replaced."""
    from dataclasses import replace

    from workout_classifier.learn.models import default_features

    return replace(default_features(model), **(overrides or {}))


def fit_training_set(ts, pose_settings, model: str = DEFAULT_MODEL_NAME, *, epochs: int = 60, seed: int = 0,
                     options: dict | None = None, tta: bool | None = None, calibrate: bool = True,
                     log: Callable[[str], None] | None = None, train_config: dict | None = None,
                     gate_on: str = GATE_ON, features: dict | None = None) -> Model:  # fmt: skip
    """Train ``model`` on a prepared training set; with ``calibrate``, fit the ``unknown`` gate on
    the out-of-fold predictions of a grouped 5-fold CV (``gate_on="grouped"``), or of it and a
    leave-source-out CV pooled (``"grouped+source"``: the gate then knows how unsure the model is
    on a camera and people it never saw). The pose settings go into the model file.
    ``train_config``: other ``learn.train.TrainConfig`` fields (e.g. ``camera_copies``);
    ``features``: ``learn.features.FeatureConfig`` fields over the model's defaults (e.g. ``unit``)."""
    from workout_classifier.learn.models import mirror_tta
    from workout_classifier.learn.train import TrainConfig, fit

    options = options or {}
    feats = _features(model, features)
    tta = mirror_tta(model) if tta is None else tta
    more = train_config or {}
    cfg, oof = TrainConfig(epochs=epochs, seed=seed, **more), None
    if calibrate:  # the gate is fitted on out-of-fold predictions of a whole grouped 5-fold CV
        from workout_classifier.learn.evaluate import cross_validate

        try:
            oof = cross_validate(ts.tracks, ts.y, ts.groups, ts.classes, model, feats, cfg, options, folds=5,
                                 tta=tta)  # fmt: skip
        except ValueError:  # too few groups for 5 folds: the inner hold-out instead
            cfg = TrainConfig(epochs=epochs, seed=seed, **{**more, "calibrate": True})
    clf, hist = fit(ts.tracks, ts.y, ts.groups, ts.classes, model, feats, cfg, options, log=log)
    if calibrate:  # with the gate: each exercise's range and stance limits, from all training clips
        ranges, stances = fit_body_limits(clf, ts.tracks, [ts.classes[i] for i in ts.y])
    if oof is not None:
        import numpy as np

        from workout_classifier.analysis.posture import resting_clips
        from workout_classifier.learn.calibrate import calibrate_oof

        probs, y_true, tested = oof.probs, oof.y_true, oof.tested
        if gate_on == "grouped+source" and ts.sources is not None and len(set(ts.sources)) > 1:
            oos = cross_validate(ts.tracks, ts.y, ts.groups, ts.classes, model, feats, cfg, options,
                                 protocol="source", tta=tta, sources=ts.sources)  # fmt: skip
            probs, y_true = np.concatenate([probs, oos.probs]), np.concatenate([y_true, oos.y_true])
            tested = np.concatenate([tested, oos.tested])
        from workout_classifier.analysis.motionrange import answers_out_of_range
        from workout_classifier.analysis.stance import answers_out_of_stance

        rest = resting_clips([ts.tracks[i] for i in tested], clf.features)
        # Clips `predict` answers `unknown` for their range or stance count in the gate's budget
        # (calibrate.REJECT_RATE) like resting ones.
        out = answers_out_of_range(
            probs, [ranges[i] for i in tested], ts.classes, clf.extra["range_limits"]
        )
        held = answers_out_of_stance(
            probs, [stances[i] for i in tested], ts.classes, clf.extra["stance_limits"]
        )
        calibrate_oof(clf, probs, y_true, resting=rest | out | held, live_resting=rest)
        clf.extra["calibration"].update(resting_clips=int(rest.sum()),
                                        out_of_range_clips=int((out & ~rest).sum()),
                                        out_of_stance_clips=int((held & ~out & ~rest).sum()))  # fmt: skip
        if len(tested) > len(oof.tested):
            clf.extra["calibration"]["on"] = (
                "out-of-fold grouped CV and leave-source-out CV, pooled"
            )
    clf.extra["pose"] = asdict(pose_settings)
    clf.extra["tta"] = tta
    clf.extra["trained_on"] = {c: int((ts.y == i).sum()) for i, c in enumerate(ts.classes)}
    trained = Model(clf)
    trained.history_ = hist  # train_loss, best_epoch, seconds
    return trained


def fit_body_limits(clf, tracks, labels: list[str]) -> tuple[list[dict], list[dict]]:
    """Fit and store in `clf.extra` the range limits (analysis/motionrange.py) and stance limits
    (analysis/stance.py) of every exercise from its training clips (features.Track, with their
    exercise names); returns each clip's joint ranges and stance. `workout train` calls it on all of
    them; a benchmark's fold model on its training clips."""
    from workout_classifier.analysis import motionrange, stance

    ranges = motionrange.track_ranges(tracks)
    stances = stance.track_stances(tracks, clf.features)
    clf.extra["range_limits"] = motionrange.fit_limits(ranges, labels)
    clf.extra["stance_limits"] = stance.fit_limits(stances, labels)
    return ranges, stances


def cross_validate_training_set(ts, model: str = DEFAULT_MODEL_NAME, *, folds: int = 5, protocol: str = "grouped",
                                epochs: int = 60, seed: int = 0, options: dict | None = None,
                                tta: bool | None = None, log=None, epoch_log=None, map_folds=None,
                                train_config: dict | None = None, features: dict | None = None):  # fmt: skip
    """``learn.evaluate.CVResult`` of ``model`` on a prepared training set (grouped, source or seed)."""
    from workout_classifier.learn.evaluate import PROTOCOLS, cross_validate
    from workout_classifier.learn.models import mirror_tta
    from workout_classifier.learn.train import TrainConfig

    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use one of: {', '.join(PROTOCOLS)}")
    tta = mirror_tta(model) if tta is None else tta
    return cross_validate(ts.tracks, ts.y, ts.groups, ts.classes, model, _features(model, features),
                          TrainConfig(epochs=epochs, seed=seed, **(train_config or {})), options or {}, folds=folds,
                          protocol=protocol,
                          tta=tta, log=log, epoch_log=epoch_log, map_folds=map_folds, sources=ts.sources)  # fmt: skip


def train(data, cache: str | Path = "cache", *, model: str = DEFAULT_MODEL_NAME, out: str | Path | None = None,
          fps: float = 10.0, min_clips: int = MIN_CLIPS, workers: int | None = None, **fit_options) -> Model:  # fmt: skip
    """Extract, then train on every usable clip of a dataset root; saved to ``out`` when given.

    ``fit_options``: epochs, seed, options (model options), tta, calibrate, log."""
    ts, pc = training_set(
        data, cache, fps=fps, min_clips=min_clips, workers=workers, log=fit_options.get("log")
    )
    m = fit_training_set(ts, pc.settings, model, **fit_options)
    if out is not None:
        m.save(out)
    return m


def evaluate(data, cache: str | Path = "cache", *, model: str = DEFAULT_MODEL_NAME, folds: int = 5,
             protocol: str = "grouped", out: str | Path | None = None, fps: float = 10.0,
             min_clips: int = MIN_CLIPS, workers: int | None = None, **cv_options) -> dict:  # fmt: skip
    """Cross-validate ``model`` on a dataset root; the metrics (accuracy +- std, macro-F1, per class,
    confusion). With ``out``, also metrics.json, report.md and plots there."""
    from workout_classifier.learn.report import write_report

    ts, pc = training_set(
        data, cache, fps=fps, min_clips=min_clips, workers=workers, log=cv_options.get("log")
    )
    res = cross_validate_training_set(ts, model, folds=folds, protocol=protocol, **cv_options)
    extra = {"skipped_clips": ts.skipped, "pose": pc.settings.to_dict()}
    if out is None:
        return {**res.metrics(), **extra}
    return write_report(res, out, extra)


def _quiet(_msg: str) -> None:
    pass


def _is_dataset(data) -> bool:
    return (
        isinstance(data, (str, Path))
        and Path(data).is_dir()
        and any(p.is_dir() for p in Path(data).iterdir())
    )


def _clips(data):
    from workout_classifier.learn.dataset import scan_dataset

    return scan_dataset(data)


def _pose_cache(cache: str | Path, fps: float):
    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.landmarks import PoseSettings

    return PoseCache(cache, PoseSettings(fps=fps))
