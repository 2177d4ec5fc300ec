"""An annotated copy of a clip: skeleton, exercise and confidence, a rep counter
that goes up as reps happen, and the form verdict for push-ups.

Written as H.264 (yuv420p, libx264 through PyAV) in an mp4 with the index at
the front, so browsers play it, upright whatever the source's rotation tag and
with the source's frame times. OpenCV only draws.
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from workout_classifier.frames.sampling import open_frames
from workout_classifier.frames.video import VideoError, probe
from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.extract import extract_clips
from workout_classifier.pose.landmarks import BONES, PoseSequence

# Body bones only (the face mesh clutters a small video).
_BODY = [(a, b) for a, b in BONES if a >= 11 and b >= 11]
_GREEN, _WHITE, _RED, _YELLOW = (60, 220, 60), (255, 255, 255), (230, 60, 60), (250, 210, 40)
ANNOTATE_MAX_SIDE = 1920  # longest side of the annotated video (4K sources come out full HD)
_TIME_BASE = Fraction(1, 90000)


def _label_at(t: float, segments: list[dict], label: str | None, conf: float | None):
    for s in segments:
        if s["start"] <= t < s["end"]:
            return s["label"], s["confidence"]
    return label, conf


def _draw_skeleton(img: np.ndarray, pts: np.ndarray, vis: np.ndarray) -> None:
    h, w = img.shape[:2]
    th = max(2, round(min(h, w) / 200))
    xy = np.column_stack([pts[:, 0] * w, pts[:, 1] * h])
    for a, b in _BODY:
        if vis[a] > 0.3 and vis[b] > 0.3:
            cv2.line(
                img,
                tuple(int(v) for v in xy[a]),
                tuple(int(v) for v in xy[b]),
                _GREEN,
                th,
                cv2.LINE_AA,
            )
    for j in range(11, 33):
        if vis[j] > 0.3:
            cv2.circle(img, tuple(int(v) for v in xy[j]), th + 1, _WHITE, -1, cv2.LINE_AA)


def _panel(img: np.ndarray, lines: list[tuple[str, tuple]]) -> None:
    h, w = img.shape[:2]
    scale = max(0.45, min(h, w) / 600)
    th = max(1, round(scale * 2))
    pad = int(8 * scale) + 2
    line_h = int(30 * scale) + 4
    width = (
        max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, th)[0][0] for t, _ in lines)
        + 2 * pad
    )
    box_h = line_h * len(lines) + pad
    overlay = img.copy()
    cv2.rectangle(overlay, (0, 0), (min(width, w), box_h), (0, 0, 0), -1)
    cv2.addWeighted(overlay, 0.55, img, 0.45, 0, dst=img)
    for i, (text, color) in enumerate(lines):
        y = pad + line_h * (i + 1) - int(8 * scale)
        cv2.putText(img, text, (pad, y), cv2.FONT_HERSHEY_SIMPLEX, scale, color, th, cv2.LINE_AA)


def analyse(seq: PoseSequence, clf: Classifier, form: bool = True) -> dict:
    """Everything the overlay shows, from a clip's landmarks."""
    from workout_classifier.frames.damage import warnings
    from workout_classifier.pose.landmarks import NoPersonError
    from workout_classifier.predict import add_extras, classify_sequence, is_push_up

    try:
        res = classify_sequence(seq, clf)
    except NoPersonError as e:
        return {
            "label": None,
            "confidence": None,
            "error": str(e),
            "reps": 0,
            "rep_times": [],
            "timeline": [],
            "warnings": warnings(seq.meta.get("decode")),
        }
    res["error"] = None
    add_extras(res, seq, clf, reps=True, form=form and is_push_up(res["label"]), timeline=True)
    return res


def annotate_video(
    video: str | Path,
    out_path: str | Path,
    clf: Classifier | None = None,
    cache_dir: str | Path | None = None,
    form: bool = True,
    crf: int = 23,
    on_frames=None,
) -> dict:
    """Write `out_path` (H.264 mp4) and return the analysis shown in it.

    `on_frames(n)`: told every few frames of the n frames written since (a server job's progress).

    Raises VideoError for a file that cannot be decoded; a clip with nobody in
    it is still written, with "no person visible" on it.
    """
    import av

    from workout_classifier.predict import load_sequence, pose_settings_for, public

    clf = clf or Classifier.load()
    video, out_path = Path(video), Path(out_path)
    info = probe(video)
    tmp = tempfile.TemporaryDirectory(prefix="workout-annotate-") if cache_dir is None else None
    try:
        cache = PoseCache(cache_dir or tmp.name, pose_settings_for(clf))
        extract_clips([str(video)], cache, progress=False)
        seq = load_sequence(cache, video)
    finally:
        if tmp is not None:
            tmp.cleanup()
    res = analyse(seq, clf, form=form)
    rep_times = np.asarray(res.get("rep_times") or [], float)
    segments = res.get("timeline") or []

    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Decoded like extraction does (upright, presentation times), at most full HD.
    _, decoded = open_frames(video, None, max_side=ANNOTATE_MAX_SIDE)
    container = av.open(str(out_path), mode="w", options={"movflags": "+faststart"})
    frames = 0
    try:
        stream = None
        times = seq.times
        for t, img in decoded:
            if stream is None:  # sized by the first upright frame
                fh, fw = img.shape[:2]
                w, h = fw - fw % 2, fh - fh % 2
                stream = container.add_stream(
                    "libx264", rate=Fraction(info.fps).limit_denominator(1001)
                )
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.codec_context.time_base = _TIME_BASE
                stream.options = {"crf": str(crf), "preset": "veryfast"}
            img = img[:h, :w]
            k = int(np.clip(np.searchsorted(times, t), 0, len(times) - 1)) if len(times) else -1
            if k > 0 and abs(times[k - 1] - t) < abs(times[k] - t):
                k -= 1
            if k >= 0 and seq.detected[k]:
                lm = seq.landmarks[k]
                # landmarks are fractions of the full frame; the crop to even size is at most 1 px.
                _draw_skeleton(img, lm[:, :2] * [fw / w, fh / h], lm[:, 3])
            img = np.ascontiguousarray(img)
            _panel(img, _overlay_lines(res, t, rep_times, segments))
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            # The source's presentation times, so a variable-rate clip keeps its timing.
            frame.pts, frame.time_base = round(t / _TIME_BASE), _TIME_BASE
            for packet in stream.encode(frame):
                container.mux(packet)
            frames += 1
            if on_frames is not None and frames % 16 == 0:
                on_frames(16)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    finally:
        decoded.close()
        container.close()
    if frames == 0:
        out_path.unlink(missing_ok=True)
        raise VideoError("no frames could be decoded (empty or truncated video)")
    out = public({k: v for k, v in res.items()})
    out.update(video=str(video), output=str(out_path), frames=frames)
    return out


def _overlay_lines(
    res: dict, t: float, rep_times: np.ndarray, segments: list[dict]
) -> list[tuple[str, tuple]]:
    if res.get("error"):
        return [(res["error"], _RED)]
    label, conf = _label_at(t, segments, res.get("label"), res.get("confidence"))
    lines = [(f"{label}  {conf:.0%}" if conf is not None else str(label), _WHITE)]
    if res.get("hold_seconds") is not None:
        lines.append((f"held: {res['hold_seconds']:.0f} s", _YELLOW))
    else:
        lines.append((f"reps: {int((rep_times <= t).sum())}", _YELLOW))
    # The last finished rep's tempo and cue, for a few seconds after it ends.
    done = [d for d in res.get("rep_details", []) if d["end"] <= t < d["end"] + 3.0]
    if done:
        d = done[-1]
        cue = (d.get("cues") or [None])[0]
        lines.append((cue or f"rep {d['rep']}: down {d['down_s']:.1f} s, up {d['up_s']:.1f} s",
                      _RED if cue else _WHITE))  # fmt: skip
    if res.get("form"):
        color = _GREEN if res["form"] == "correct" else _RED
        lines.append((f"form: {res['form']} ({res['form_confidence']:.0%})", color))
        for cue in res.get("form_cues", [])[:1]:
            lines.append((cue, color))
    return lines


def video_codec(path: str | Path) -> str:
    """The codec name of the first video stream (e.g. 'h264'), read with PyAV."""
    import av

    with av.open(str(path)) as c:
        return c.streams.video[0].codec_context.name
