"""Per-rep details of a counted clip: start, turning point and end, tempo, range of motion, and
depth and hip line with short cues for squats and push-ups.

Reads a ``reps.RepResult`` (signal, times, peaks, exercise); ``reps`` does not import this module,
so the two form no cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workout_classifier.analysis.repmeasures import _turn_form

if TYPE_CHECKING:
    from workout_classifier.analysis.reps import RepResult
    from workout_classifier.pose.landmarks import PoseSequence

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
    return out
