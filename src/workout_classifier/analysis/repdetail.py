"""Per-rep details of a counted clip: start, turning point and end, tempo, range of motion, and
depth and hip line with short cues for squats and push-ups.

With the clip's landmarks, each rep of an exercise with a defining joint (motionrange.DEFINING: knee,
elbow, hip or shoulder) also gets that joint's range in degrees over the rep (metric world landmarks,
the side that moves more) and two cues, whose thresholds are written here:

- "short range": the rep's range under SHORT_RANGE_SHARE of the exercise's typical rep (TYPICAL_RANGE:
  the median over the reps counted on the labelled clips of ../shared/data, measured as below);
- "rushed": the rep under RUSHED_SHARE of the median duration of the clip's own reps (three or more),
  so a fast exerciser is judged against themselves, not against a norm; not for a rep the clip's
  start or end cuts short.

Reads a ``reps.RepResult`` (signal, times, peaks, exercise); ``reps`` does not import this module,
so the two form no cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import median_filter

from workout_classifier.analysis.motionrange import DEFINING, joint_angles, span
from workout_classifier.analysis.repmeasures import _turn_form

if TYPE_CHECKING:
    from workout_classifier.analysis.reps import RepResult
    from workout_classifier.pose.landmarks import PoseSequence

# Median range (degrees) of the defining joint over one rep, per exercise: every rep counted on the
# clips of ../shared/data with the exercise's own profile (bench/results/rep_ranges.md, 2026-12-06;
# exercises the model knows, 7 or more clips).
TYPICAL_RANGE = {
    "squat": 97.0, "lunges": 73.0, "push up": 63.0, "bench press": 55.0, "pull up": 71.0,
    "deadlift": 103.0, "lateral raise": 65.0, "chest fly machine": 25.0, "jumping jack": 113.0,
}  # fmt: skip
SHORT_RANGE_SHARE = 0.5  # a rep under half the typical range: a partial rep
RUSHED_SHARE = 0.5  # a rep under half the clip's median rep duration
_GLITCH = 3  # frames of the median filter on the angle (one-frame pose glitches)

# Which way each exercise moves first from its rest pose, to name the tempo halves.
_OUT_IS_DOWN = ("squat", "lunges", "push up", "bench press", "tricep dips")


def rep_details(res: RepResult, seq: PoseSequence | None = None) -> list[dict]:
    """Per rep: start, turning point and end (s), tempo of both halves (s) and range of motion.

    A rep starts where the signal last leaves its low point before the turning point and
    ends where it first gets back near the low point after it (rest time is trimmed off).
    ``down_s``/``up_s`` name the halves for the exercise (a squat goes down first, a curl up).
    Range of motion is in signal units (about torso lengths or half-radians). With ``seq``,
    squats and push-ups add depth (knee / elbow angle at the bottom) and push-ups the hip
    line (degrees of bend, sag +), with short cues ("rep 3: not deep enough").
    """
    if res.signal is None or res.peaks is None or not len(res.peaks):
        return []
    x, t, peaks = res.signal, res.times, list(res.peaks)
    out = []
    for i, p in enumerate(peaks):
        lo = peaks[i - 1] if i else 0
        hi = peaks[i + 1] if i + 1 < len(peaks) else len(x) - 1
        a = lo + int(np.argmin(x[lo : p + 1]))
        b = p + int(np.argmin(x[p : hi + 1]))
        near_a = x[a] + 0.1 * (x[p] - x[a])
        near_b = x[b] + 0.1 * (x[p] - x[b])
        start = a + int(np.nonzero(x[a : p + 1] <= near_a)[0].max())
        end = p + int(np.nonzero(x[p : b + 1] <= near_b)[0].min())
        first, second = float(t[p] - t[start]), float(t[end] - t[p])
        down_first = res.exercise in _OUT_IS_DOWN or res.exercise is None
        out.append({"rep": i + 1, "start": round(float(t[start]), 2), "turn": round(float(t[p]), 2),
                    "end": round(float(t[end]), 2),
                    "down_s": round(first if down_first else second, 2),
                    "up_s": round(second if down_first else first, 2),
                    "range": round(float(x[p] - min(x[a], x[b])), 3)})  # fmt: skip
        if seq is not None:
            measures, cues = _turn_form(seq.world, seq.times, float(t[p]), res.exercise)
            out[-1].update(measures)
            out[-1]["cues"] = [f"rep {i + 1}: {c}" for c in cues]
    if seq is not None:
        _range_and_tempo(out, seq, res.exercise)
    return out


def rep_range(seq: PoseSequence, start: float, end: float, joint: str) -> float | None:
    """Degrees `joint` moves through between `start` and `end` (s), on the frames where the person
    was found (None when fewer than 3 were)."""
    m = (seq.times >= start) & (seq.times <= end) & np.asarray(seq.detected, bool)
    if m.sum() < 3:
        return None
    deg = median_filter(
        joint_angles(seq.world[m]), size=(min(_GLITCH, int(m.sum())), 1), mode="nearest"
    )
    return round(span(deg, joint, 0.0, 100.0), 1)


def _range_and_tempo(details: list[dict], seq: PoseSequence, exercise: str | None) -> None:
    """Add each rep's defining-joint range and the short-range and rushed cues (module docstring)."""
    joint = DEFINING.get(exercise) if exercise else None
    durations = [d["end"] - d["start"] for d in details]
    typical_s = float(np.median(durations)) if len(details) >= 3 else None
    for d, dur in zip(details, durations, strict=True):
        cues = d.setdefault("cues", [])
        if joint is not None:
            d["joint"] = joint
            d["range_deg"] = rep_range(seq, d["start"], d["end"], joint)
            usual = TYPICAL_RANGE.get(exercise)
            if usual and d["range_deg"] is not None and d["range_deg"] < SHORT_RANGE_SHARE * usual:
                cues.append(
                    f"rep {d['rep']}: short range ({joint} {d['range_deg']:.0f}° of a usual {usual:.0f}°)"
                )
        cut = (
            d["start"] <= seq.times[0] + 0.05 or d["end"] >= seq.times[-1] - 0.05
        )  # by the clip's ends
        if typical_s and dur < RUSHED_SHARE * typical_s and not cut:
            cues.append(f"rep {d['rep']}: rushed ({dur:.1f} s, the others about {typical_s:.1f} s)")
