"""Timeline of a long video: which exercise when, as a list of segments.

The classifier's overlapping windows (``classify_sequence`` gives their class
probabilities and start times) are turned into a per-second probability track
(each step averages the windows covering it, nearer centres weighing more), smoothed with a sticky
Viterbi pass (an HMM whose states are the exercises and which pays a price for
every switch), then merged into segments ``{start, end, label, confidence,
reps}``; where the person rests (the windows `posture.resting_windows` calls
resting: standing, walking about, sitting down) the segment is ``resting``, as
live says it. Segments shorter than ``min_segment`` seconds are absorbed by a
neighbour. Reps are counted on each segment's own landmarks. ``several_exercises``
says which exercises a clip holds when a timeline gives more than one of them
their own stretch (predict's ``exercises``).
"""

from __future__ import annotations

import numpy as np

from workout_classifier.pose.landmarks import PoseSequence

# A clip holds several exercises when its timeline gives two or more of them this many seconds each. Over
# grouped 5-fold CV (trees, seed 0; a *throwaway* run, 2026-12-07) 1 of 655 single-exercise clips (a
# 66 s plank read as push-ups for 53 s) and 60 of 60 three-exercise sessions joined from test clips
# (12-25 s each) came out as several; 0.92 of the sessions with exactly their three exercises.
SEVERAL_SECONDS = 8.0
# The label of a stretch where the person rests (posture.py: standing, walking about, sitting down).
RESTING = "resting"
# Shortest segment kept, in seconds. Chosen on sessions of grouped fold 2 (5 s: 0.93 of them came out as
# exactly their 3 segments, against 0.90 with 3 s); bench/timeline.py reports fold 1, not used to choose it.
MIN_SEGMENT = 5.0


def per_step_probs(win_probs: np.ndarray, win_starts: np.ndarray, window_seconds: float,
                   t0: float, t1: float, step: float = 0.5) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(times (S,), probs (S, K)): at each step, the mean of the windows that cover it."""
    win_probs = np.asarray(win_probs, float)
    win_starts = np.asarray(win_starts, float)
    times = np.arange(t0, max(t1, t0 + 1e-9), step)
    if len(times) == 0:
        times = np.array([t0])
    centres = win_starts + window_seconds / 2
    out = np.empty((len(times), win_probs.shape[1]))
    for i, t in enumerate(times + step / 2):
        # Windows weigh more the nearer their centre is (triangular weights).
        w = np.clip(1 - np.abs(centres - t) / (window_seconds / 2), 0, None)
        if w.sum() > 0:
            out[i] = (w[:, None] * win_probs).sum(0) / w.sum()
        else:  # past the last window: the nearest one
            out[i] = win_probs[np.argmin(np.abs(centres - t))]
    return times, out


def viterbi_smooth(probs: np.ndarray, switch_cost: float = 4.0) -> np.ndarray:
    """Most likely label path given per-step probabilities and a cost per label switch."""
    logp = np.log(np.clip(probs, 1e-6, 1.0))
    n, k = logp.shape
    score = logp[0].copy()
    back = np.zeros((n, k), dtype=int)
    for i in range(1, n):
        stay = score
        best_prev = int(np.argmax(score))
        switch = score[best_prev] - switch_cost
        take_switch = switch > stay
        back[i] = np.where(take_switch, best_prev, np.arange(k))
        score = np.where(take_switch, switch, stay) + logp[i]
    path = np.empty(n, dtype=int)
    path[-1] = int(np.argmax(score))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def segments_from_path(times: np.ndarray, path: np.ndarray, probs: np.ndarray, classes: list[str],
                       step: float, min_segment: float = MIN_SEGMENT) -> list[dict]:  # fmt: skip
    runs = []  # [start index, end index (exclusive), label index]
    for i, c in enumerate(path):
        if runs and runs[-1][2] == c:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1, int(c)])
    # Absorb short runs into the neighbour they resemble more (repeat until stable).
    changed = True
    while changed and len(runs) > 1:
        changed = False
        for j, (a, b, _c) in enumerate(runs):
            if (b - a) * step >= min_segment:
                continue
            left = runs[j - 1] if j > 0 else None
            right = runs[j + 1] if j + 1 < len(runs) else None
            cand = [r for r in (left, right) if r is not None]
            target = max(cand, key=lambda r: probs[a:b, r[2]].mean())
            target[0], target[1] = min(target[0], a), max(target[1], b)
            runs.pop(j)
            merged = []
            for r in runs:
                if merged and merged[-1][2] == r[2]:
                    merged[-1][1] = max(merged[-1][1], r[1])
                else:
                    merged.append(r)
            runs = merged
            changed = True
            break
    out = []
    for a, b, c in runs:
        out.append({
            "start": round(float(times[a]), 2),
            "end": round(float(times[b - 1] + step), 2),
            "label": classes[c],
            "confidence": round(float(probs[a:b, c].mean()), 4),
        })  # fmt: skip
    return out


def slice_sequence(seq: PoseSequence, start: float, end: float) -> PoseSequence:
    m = (seq.times >= start) & (seq.times < end)
    return PoseSequence(
        seq.landmarks[m], seq.world[m], seq.times[m], seq.detected[m], dict(seq.meta)
    )


def build_timeline(seq: PoseSequence, win_probs: np.ndarray, win_starts: np.ndarray, classes: list[str],
                   window_seconds: float, step: float = 0.5, switch_cost: float = 4.0,
                   min_segment: float = MIN_SEGMENT, reps: bool = True,
                   resting: np.ndarray | None = None) -> list[dict]:  # fmt: skip
    """Segments of one clip from its window probabilities (see the module docstring). `resting` (W,)
    bool: windows where the person rests (posture.resting_windows); they vote for a `resting`
    segment, with no reps, instead of the exercise the model would name."""
    if resting is not None and np.any(resting):
        rest = np.asarray(resting, bool)[:, None]
        win_probs = np.concatenate([np.asarray(win_probs, float) * ~rest, rest.astype(float)], 1)
        classes = [*classes, RESTING]
    t0, t1 = float(seq.times[0]), float(seq.times[-1])
    if len(seq.times) > 1:
        t1 += float(np.median(np.diff(seq.times)))
    times, probs = per_step_probs(win_probs, win_starts, window_seconds, t0, t1, step)
    path = viterbi_smooth(probs, switch_cost)
    segs = segments_from_path(times, path, probs, classes, step, min_segment)
    segs[-1]["end"] = round(min(segs[-1]["end"], t1), 2)
    if reps:
        from workout_classifier.analysis.reps import count_reps

        for s in segs:
            part = slice_sequence(seq, s["start"], s["end"])
            counted = part.num_frames and s["label"] != RESTING
            s["reps"] = count_reps(part, s.get("label")).reps if counted else 0
    return segs


def merge_runs(segments: list[dict]) -> list[dict]:
    """Neighbouring segments of one label as one (after a check relabelled some): reps summed,
    confidence weighted by duration."""
    out: list[dict] = []
    for s in segments:
        if out and out[-1]["label"] == s["label"]:
            a, d = out[-1], s["end"] - s["start"]
            da = a["end"] - a["start"]
            a["confidence"] = round(
                (a["confidence"] * da + s["confidence"] * d) / max(da + d, 1e-9), 4
            )
            a["end"] = s["end"]
            if "reps" in a or "reps" in s:
                a["reps"] = a.get("reps", 0) + s.get("reps", 0)
        else:
            out.append(dict(s))
    return out


def several_exercises(segments: list[dict], min_seconds: float = SEVERAL_SECONDS) -> list[dict]:
    """[{label, seconds}] of the exercises a timeline gives `min_seconds` or more each, in the order
    they first come, when there are two or more of them; [] for a clip of one exercise."""
    total: dict[str, float] = {}
    for s in segments:
        if s["label"] != RESTING:
            total[s["label"]] = total.get(s["label"], 0.0) + s["end"] - s["start"]
    found = [{"label": k, "seconds": round(v, 1)} for k, v in total.items() if v >= min_seconds]
    return found if len(found) >= 2 else []


def join_sequences(parts: list[PoseSequence]) -> tuple[PoseSequence, list[float]]:
    """Join clips end to end (for tests and benches); returns the sequence and the join times."""
    out_t, bounds, offset = [], [], 0.0
    for p in parts:
        dt = float(np.median(np.diff(p.times))) if len(p.times) > 1 else 1 / 15
        out_t.append(p.times - p.times[0] + offset)
        offset = float(out_t[-1][-1]) + dt
        bounds.append(offset)
    meta = dict(parts[0].meta)
    seq = PoseSequence(
        np.concatenate([p.landmarks for p in parts]), np.concatenate([p.world for p in parts]),
        np.concatenate(out_t), np.concatenate([p.detected for p in parts]), meta,
    )  # fmt: skip
    return seq, bounds[:-1]
