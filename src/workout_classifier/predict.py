"""Prediction on new videos: extraction (cached or temporary), windows, model, answer.

Every answer is a dict with `video`, `label` (None when there is no answer),
`confidence`, `top` ([{label, probability}]), `error` (None or the reason),
plus `windows`, `duration` and `detection_rate`, and `warnings`: short sentences about
what the decoder could not read of the clip ([] for a clean one; frames/damage.py). A clip
with more than damage.MAX_DAMAGED_SHARE of its frames damaged or lost answers `unknown`
(`damaged` true); a cut-short one answers from what it has, saying how much that was. Reps,
form and timeline come from the same frames, so the answer's warnings hold for them too; a rep
(`rep_details`) or timeline segment over a damaged stretch also carries its own. Long clips are classified
window by window and the window probabilities averaged; one of 16 s or more is also read on the
timeline's 4 s windows, and `exercises` lists what it holds when that is several
(analysis/timeline.py `several_exercises`). A bad clip gets its error; the others still get answers.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from workout_classifier.analysis.motionrange import joint_ranges, range_check
from workout_classifier.analysis.posture import resting_windows
from workout_classifier.analysis.stance import stance_check, track_stance
from workout_classifier.analysis.timeline import (
    RESTING,
    SEVERAL_SECONDS,
    build_timeline,
    merge_runs,
    several_exercises,
    slice_sequence,
)
from workout_classifier.frames import damage
from workout_classifier.frames.sampling import decode_report
from workout_classifier.frames.video import VideoError
from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.learn.features import prepare, windows
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.extract import extract_clips
from workout_classifier.pose.landmarks import NoPersonError, PoseSequence, PoseSettings

UNKNOWN = "unknown"
MIN_CHECK_FRAMES = 10  # a timeline segment with fewer frames showing the person keeps its label


def pose_settings_for(clf: Classifier) -> PoseSettings:
    """Use the pose settings the model was trained with, so features match."""
    return PoseSettings(**clf.extra["pose"]) if "pose" in clf.extra else PoseSettings()


def answer(probs: np.ndarray, classes: list[str], top: int, threshold: float | None) -> dict:
    order = np.argsort(-probs)[: max(top, 1)]
    best = int(order[0])
    conf = float(probs[best])
    label = classes[best] if threshold is None or conf >= threshold else UNKNOWN
    return {
        "label": label,
        "confidence": round(conf, 4),
        "top": [{"label": classes[i], "probability": round(float(probs[i]), 4)} for i in order],
    }


def classify_sequence(
    seq: PoseSequence, clf: Classifier, top: int = 3, tta: bool | None = None
) -> dict:
    """Classify one clip's landmarks. Raises NoPersonError when nobody is visible.

    tta=None follows the model file (`extra["tta"]`: how the model was evaluated)."""
    if tta is None:
        tta = bool(clf.extra.get("tta", False))
    track = prepare(seq)
    raw, starts = windows(track, clf.features)
    win = clf.predict_windows(raw, tta=tta)  # (W, K)
    out = answer(win.mean(0), clf.classes, top, clf.extra.get("unknown_threshold"))
    # Resting through the whole clip (standing still or in place, walking, sitting down) is not an
    # exercise, whatever the model says (live's `resting`); a gate fitted with it counts it in its budget.
    # Posture is judged on 4 s time windows whatever the model's unit (a rep of walking is one step).
    still = (
        (raw, starts)
        if clf.features.unit == "time"
        else windows(track, replace(clf.features, unit="time"))
    )
    rest = resting_windows(still[0])  # (W,) per time window
    out["resting"] = bool(rest.all())
    # A session of several exercises gets one answer for all of it above; the timeline's reading of
    # the same time windows says which exercises it holds, so that answer is not taken for the only one.
    out["exercises"] = []
    if track.duration >= 2 * SEVERAL_SECONDS:
        t_probs = clf.predict_windows(still[0], tta=bool(clf.extra.get("tta", False)))
        t_starts = still[1] + float(track.times[0])
        segs = build_timeline(seq, t_probs, t_starts, clf.classes, clf.features.window_seconds,
                              reps=False, resting=rest)  # fmt: skip
        out["exercises"] = several_exercises(check_segments(seq, segs, clf))
        out["_time_windows"] = (t_probs, t_starts, rest)  # the timeline's, if asked (add_extras)
    if out["resting"] and clf.extra.get("unknown_threshold") is not None:
        out["label"] = UNKNOWN
    best = out["top"][0]["label"] if out["top"] else None
    rom, st, broken = body_checks(track, best, clf, still) if best else (None, None, None)
    if rom is not None:
        out["out_of_range"] = rom.pop("out")
        out["range_of_motion"] = rom
        if out["out_of_range"]:
            out["label"] = UNKNOWN
    if st is not None:
        out["stance"] = {k: round(v, 2) if math.isfinite(v) else None for k, v in st.items()}
        out["out_of_stance"] = broken is not None
        if broken is not None:
            out["stance_rule"] = broken
            out["label"] = UNKNOWN
    out.update(
        windows=len(raw),
        duration=round(track.duration, 3),
        detection_rate=round(track.detection_rate, 3),
    )
    # What the decoder could not read (pose meta; predict_videos fills it in for older cache files).
    report = seq.meta.get("decode")
    out["warnings"] = damage.warnings(report)
    out["damaged"] = damage.too_damaged(report)
    # Damage where the person is: most frames that show them fall in damaged stretches.
    on_person = damage.person_damaged_share(report, seq.times, seq.detected)
    if on_person > damage.MAX_DAMAGED_SHARE and not out["damaged"]:
        out["damaged"] = True
        out["warnings"].append(f"{on_person:.0%} of the frames showing the person are damaged: "
                               "no exercise is named")  # fmt: skip
    if out[
        "damaged"
    ]:  # more broken than whole pictures: no label is trusted, whatever the model says
        out["label"] = UNKNOWN
    out["_window_probs"] = win
    out["_window_starts"] = starts + float(track.times[0])
    return out


def predict_videos(
    videos: list[str | Path],
    clf: Classifier,
    cache_dir: str | Path | None = None,
    top: int = 3,
    tta: bool | None = None,
    workers: int = 1,
    progress: bool = False,
    console=None,
    keep_internal: bool = False,
    reps: bool = False,
    form: bool = False,
    timeline: bool = False,
    backend=None,
) -> list[dict]:
    """Answers for several videos, in order. Never raises for a bad video.

    Options add keys to each answer: `reps` (int) and `rep_times` (s); `form`,
    `form_confidence` and `form_cues` (words) for push-ups (None otherwise);
    `timeline` (list of {start, end, label, confidence, reps}).
    """
    tmp = None
    if cache_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="workout-")
        cache_dir = tmp.name
    try:
        cache = PoseCache(cache_dir, pose_settings_for(clf))
        if tmp is not None and len(videos) == 1 and backend is None and (os.cpu_count() or 1) >= 2:
            extract_on_all_cores(videos[0], cache)
        extract_clips(
            [str(v) for v in videos],
            cache,
            workers=workers,
            progress=progress,
            console=console,
            backend=backend,
        )  # backend: e.g. distributed.RayBackend
        results = []
        for v in videos:
            res = {"video": str(v), "label": None, "confidence": None, "top": [], "error": None,
                   "warnings": []}  # fmt: skip
            try:
                if not Path(v).exists():
                    raise VideoError("file not found")
                if Path(v).is_dir():
                    raise VideoError("is a folder, not a video file")
                seq = load_sequence(cache, v)  # with the decoder's report, made now for older files
                res["warnings"] = damage.warnings(seq.meta["decode"])  # also when nobody is found
                res.update(classify_sequence(seq, clf, top=top, tta=tta))
                res["sequence"] = seq
                add_extras(res, seq, clf, reps=reps, form=form, timeline=timeline)
            except (VideoError, NoPersonError) as e:
                res["error"] = str(e)
            except KeyError:
                res["error"] = "pose extraction did not finish"
            except OSError as e:
                res["error"] = f"cannot read: {e.strerror or e}"
            if res["error"]:
                add_empty_extras(res, reps=reps, form=form, timeline=timeline)
            if not keep_internal:
                res = public(res)
            results.append(res)
        return results
    finally:
        if tmp is not None:
            tmp.cleanup()


def load_sequence(cache: PoseCache, video) -> PoseSequence:
    """A clip's cached poses, with the decoder's report on it (frames/damage.py).

    Files extracted before extraction kept the report lack it: the clip is decoded once more for
    it, without making pictures (5-7% of the time to extract their poses on the 6 clips of
    bench/results/damaged.md); nothing is written to the cache."""
    seq = cache.load(video)
    if "decode" not in seq.meta:
        seq.meta["decode"] = decode_report(video)
    return seq


def extract_on_all_cores(video, cache: PoseCache, on_frames=None, on_poses=None) -> None:
    """One uncached clip whose poses are not kept: its chunks at once, one per core (split.py), so a
    long session is answered in about 1/cores of the time. On any trouble, nothing is written and
    extract_clips does the clip the usual way (and reports its errors). `on_frames(n)`: sampled
    frames done, as they are done (the web server's job progress); `on_poses(so_far)`: the
    clip's first part as its poses come (pose.extract_pose), for `timeline_so_far`."""
    from workout_classifier.pose.split import extract_pose_split

    try:
        seq = extract_pose_split(
            video, cache.settings, on_frames=on_frames, on_poses=on_poses
        )  # hashes the file while its helpers start
        cache.remember_sha256(video, seq.meta["sha256"])
        seq.save(cache.data_path(cache.key(video)))
    except Exception:  # noqa: BLE001 (the one-graph path below handles and reports every failure)
        return


def body_checks(
    track, label: str, clf: Classifier, still=None
) -> tuple[dict | None, dict | None, dict | None]:
    """Is the body of a features.Track that of exercise `label`? (range, stance, broken rule):

    - range: the exercise's joint and how far it moved, "out" True when it moves too little (or, for a
      hold, too much) for the model file's `range_limits` (motionrange.py): a still body in a squat's
      position, or a push-up read as a plank, is not that; None for an exercise with no joint to check;
    - stance: the track's stance while it moves (stance.py), None when the model file has no
      `stance_limits`; broken: the rule of `label` it breaks, or None (a deadlift read as a squat has
      its hands below the knees, a lateral raise read as a jumping jack keeps its feet together).

    `still`: the track's time windows (raw, starts), when the caller has them."""
    rom = range_check(label, joint_ranges(track.raw[..., 4:7], track.detected),
                      clf.extra.get("range_limits"))  # fmt: skip
    limits = clf.extra.get("stance_limits")
    if limits is None:
        return rom, None, None
    st = track_stance(track, clf.features, still)
    return rom, st, stance_check(label, st, limits)


def check_segments(seq: PoseSequence, segments: list[dict], clf: Classifier) -> list[dict]:
    """A timeline's exercise segments under the clip answer's own body checks (motionrange.py,
    stance.py, with the model file's limits): a segment whose body does not move or is not held as
    its exercise's is `unknown`, with `guess`, the exercise it was read as. Neighbouring unknown
    segments are merged."""
    rl, sl = clf.extra.get("range_limits"), clf.extra.get("stance_limits")
    if rl is None and sl is None:  # a model file from before the checks
        return segments
    for s in segments:
        if s["label"] in (RESTING, UNKNOWN):
            continue
        part = slice_sequence(seq, s["start"], s["end"])
        if part.detected.sum() < MIN_CHECK_FRAMES:
            continue
        rom, _, broken = body_checks(prepare(part), s["label"], clf)
        if (rom is not None and rom["out"]) or broken is not None:
            s["guess"], s["label"] = s["label"], UNKNOWN
    return merge_runs(segments)


def timeline_so_far(seq: PoseSequence, clf: Classifier) -> list[dict]:
    """The timeline of the frames posed so far of a clip still being worked on (a long job's first
    results): the finished clip's own stages on a part of it; [] while nobody is seen yet."""
    try:
        res = classify_sequence(seq, clf, top=1)
    except (NoPersonError, ValueError):  # nobody yet, or too few frames for one window
        return []
    return add_extras(res, seq, clf, timeline=True)["timeline"]


PUSH_UP_LABELS = ("push up", "push-up", "pushup", "push_up", "push ups", "push-ups")


def is_push_up(label: str | None) -> bool:
    return bool(label) and label.lower().strip() in PUSH_UP_LABELS


def timeline_windows(
    seq: PoseSequence, clf: Classifier
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probs (W, K), start times (W,), resting (W,) bool) of evenly spaced time windows, for the
    timeline.

    The clip's answer votes over its reps, but a timeline needs every stretch of a session
    looked at evenly: with rep windows the share of time labelled right fell 0.92 -> 0.89
    on bench/timeline.py's sessions (2026-12-06, the 0.89 a *throwaway* run), so the timeline
    reads time windows."""
    track = prepare(seq)
    raw, starts = windows(track, replace(clf.features, unit="time"))
    probs = clf.predict_windows(raw, tta=bool(clf.extra.get("tta", False)))
    return probs, starts + float(track.times[0]), resting_windows(raw)


def add_extras(res: dict, seq: PoseSequence, clf: Classifier, reps: bool = False, form: bool = False,
               timeline: bool = False) -> dict:  # fmt: skip
    """Add the optional answers (reps, push-up form, timeline) to one classified clip."""
    if reps:
        from workout_classifier.analysis.repdetail import rep_details
        from workout_classifier.analysis.reps import count_reps

        rc = count_reps(
            seq, res.get("label")
        )  # the exercise's profile; class-agnostic when unknown
        res["reps"] = rc.reps
        res["rep_times"] = [round(t, 2) for t in rc.rep_times]
        res["rep_details"] = rep_details(rc, seq)
        for d in res["rep_details"]:  # a rep over damaged frames says so
            if w := damage.warnings_within(seq.meta.get("decode"), d["start"], d["end"]):
                d["warnings"] = w
        res["rep_cues"] = [c for d in res["rep_details"] for c in d.get("cues", [])]
        if rc.hold_seconds is not None:
            res["hold_seconds"] = round(rc.hold_seconds, 1)
    if form:
        res.update(form=None, form_confidence=None, form_cues=[])
        if is_push_up(res.get("label")):
            from workout_classifier.analysis.form import check_form

            try:
                fc = check_form(seq)
            except (
                NoPersonError
            ):  # too few detected frames for the cues: no verdict, the label stands
                fc = None
            if fc:
                res.update(
                    form=fc["form"],
                    form_confidence=fc["form_confidence"],
                    form_cues=fc["form_cues"],
                )
    if timeline:
        probs, starts, rest = res.get("_time_windows") or timeline_windows(seq, clf)
        res["timeline"] = check_segments(seq, build_timeline(seq, probs, starts, clf.classes,
                                         clf.features.window_seconds, resting=rest), clf)  # fmt: skip
        for s in res["timeline"]:  # a segment over damaged frames says so, in its own words
            if w := damage.warnings_within(seq.meta.get("decode"), s["start"], s["end"]):
                s["warnings"] = w
    return res


def add_empty_extras(
    res: dict, reps: bool = False, form: bool = False, timeline: bool = False
) -> dict:
    """The optional keys for a clip without an answer (no person, unreadable)."""
    if reps:
        res.update(reps=None, rep_times=[], rep_details=[], rep_cues=[])
    if form:
        res.update(form=None, form_confidence=None, form_cues=[])
    if timeline:
        res["timeline"] = []
    return res


def public(res: dict) -> dict:
    """Drop the internal fields (arrays) that are not part of the JSON answer."""
    return {k: v for k, v in res.items() if not k.startswith("_") and k != "sequence"}
