"""Repetition counting and hold timing from the pose signal, offline (a whole clip) and online (live).

Steps (pure numpy/scipy on one clip's landmarks):

1. ``frame_measures``: per frame, body measures that do not depend on where the
   camera is or how it moves: joint angles (elbows, knees, hips, shoulders) and
   distances in the metric, hip-centred world landmarks, in torso lengths. Each
   measure is the mean of the left and right side, so alternating-side reps
   (lunges left, right, left) each move it once: each leg's lunge is a rep. One measure,
   ``hand_reach``, is read in the image (wrists to shoulders, in body sizes): a lifter lying on a
   bench filmed from the feet moves the bar along the camera's axis, where the world landmarks barely
   follow it (bench press reads it with the elbow angle; the class-agnostic count does not use it).
2. On an even time grid, smoothed. When the exercise is known, its profile names
   the measures that make its reps and which way they move at the turning point
   (the bottom of a squat, the top of a pull-up); the first principal component of
   those is the rep signal. For an exercise the counter does not know, the
   component of all measures with the strongest periodicity that moves enough is
   used, and its turning side is the one away from the pose held most of the time.
3. Peaks of that signal are reps when they stand out by a good part of the typical
   rep's amplitude and the body moves back afterwards (after the last one, at least
   half way: a clip ending early on the way back has a half rep). Setup and rest are
   flat or non-repeating and fall below that bar; a pull-up's turning point must also
   be in its working pose (``repmeasures.exercise_frames``: hands up, on the bar), a jumping jack's
   open position must have the arms raised (``repmeasures.turning_pose_ok``: a legs-only jump is not a jack).
   A median of 3 frames first takes out one-frame pose glitches.
4. Period agreement (``repperiod``): where the counted reps' spacing and the autocorrelation of the
   profile's measures agree on a period, a weaker turning point about one period from a counted rep
   is a rep too (when the body comes back at least half way), and of two much nearer than a period
   the weaker is dropped; a rep counted at the very start of the clip much nearer the next rep than
   the reps are apart is set-up and dropped. Fast reps (under 1.2 s) on a slow drift as large as they are
   (fast shallow push-ups) are counted on the rep signal less its moving mean over one rep period, when
   every one of the profile's signals repeats at that period once the drift is out
   (``repperiod.fast_reps_signal``).

The live counter (``replive.OnlineRepCounter``) runs ``count_series`` on a trailing window as
frames arrive, so its total matches the offline count on the same clip.
A hold (plank) reports the seconds held instead of reps (``hold_seconds``).

A still pose gives 0 reps; a clip shorter than one rep gives 0 or 1; a clip with
nobody gives 0 with a reason.

The body measures and the plank test live in ``repmeasures``, per-rep details and cues in
``repdetail`` (which reads a ``RepResult``; this module does not import it), the live counter in
``replive`` (which imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter
from scipy.signal import find_peaks

from workout_classifier.analysis.repmeasures import (  # noqa: F401  (MEASURES, frame_measures re-exported)
    MEASURES,
    exercise_frames,
    frame_measures,
    hold_seconds,
    measure_visibility,
    turning_pose_ok,
)
from workout_classifier.analysis.repperiod import (
    autocorr_period,
    fast_reps_signal,
    period_checked,
    start_rep_fits,
)
from workout_classifier.learn.features import interpolate_missing
from workout_classifier.pose.landmarks import PoseSequence

GRID_FPS = 15.0
MIN_AMPLITUDE = (
    0.18  # signal units (about torso lengths / half-radians): below this the body holds still
)
# Gaussian smoothing of the measures (s). 0.12 s blurred fast reps (about 1 s apart, as in the UCF101
# bench-press clips) at the 10 fps of the pose cache into each other; 0.07 s counted them best on the tuning
# clips but let the live counter commit twitches in its first short windows (2 reps off the offline count
# on one tuning clip); 0.09 s keeps both within one. The other exercises' tuning clips count the same.
SMOOTH_SECONDS = 0.09

# Per exercise: {measure: +1 if it rises toward the rep's turning point, -1 if it falls}.
PROFILES = {
    "squat": {"knee_flex": 1, "hip_flex": 1, "hip_low": 1},
    "lunges": {"knee_flex": 1, "hip_low": 1},
    "push up": {"elbow_flex": 1, "wrist_up": 1},
    "pull up": {"elbow_flex": 1, "wrist_up": -1},
    "bench press": {"elbow_flex": 1, "hand_reach": -1},
    "tricep dips": {"elbow_flex": 1},
    "barbell biceps curl": {"elbow_flex": 1, "wrist_up": 1},
    "hammer curl": {"elbow_flex": 1, "wrist_up": 1},
    "shoulder press": {"elbow_flex": -1, "wrist_up": 1},
    "lateral raise": {"arm_raise": 1, "wrist_up": 1},
    "chest fly machine": {"hands_apart": -1},
    "deadlift": {"hip_flex": -1, "knee_flex": -1, "trunk_down": -1},  # counted at lockout
    "jumping jack": {"arm_raise": 1, "feet_apart": 1},
}
# The class-agnostic count reads the world measures only (``hand_reach`` is for lying lifters).
AGNOSTIC_MEASURES = tuple(m for m in MEASURES if m != "hand_reach")
HOLDS = ("plank",)  # exercises timed in seconds held instead of counted


def normalize_exercise(label: str | None) -> str | None:
    """Profile name for a model label ('Push-Up', 'push_up' -> 'push up'), or None when unknown."""
    if not label:
        return None
    name = label.lower().replace("_", " ").replace("-", " ").strip()
    aliases = {"pushup": "push up", "push ups": "push up", "pullup": "pull up", "pull ups": "pull up",
               "lunge": "lunges", "squats": "squat", "deadlifts": "deadlift"}  # fmt: skip
    name = aliases.get(name, name)
    return name if name in PROFILES or name in HOLDS else None


@dataclass
class RepResult:
    reps: int
    rep_times: list[float] = field(default_factory=list)  # time of each rep's turning point, s
    period: float | None = None  # typical seconds per rep, when periodic
    reason: str | None = None  # why the count is 0, when it is
    signal: np.ndarray | None = None  # the 1-D rep signal on `times` (for plots, annotation)
    times: np.ndarray | None = None
    peaks: np.ndarray | None = None  # indices into `times` of the turning points
    exercise: str | None = None  # the profile used (None: class-agnostic)
    hold_seconds: float | None = None  # for holds (plank): the longest time held

    def to_dict(self) -> dict:
        out = {"reps": self.reps, "rep_times": [round(t, 2) for t in self.rep_times],
               "rep_period": None if self.period is None else round(self.period, 2)}  # fmt: skip
        if self.hold_seconds is not None:
            out["hold_seconds"] = round(self.hold_seconds, 1)
        return out


def _on_grid(times: np.ndarray, rows: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear resampling of (T0, M) rows (NaN rows are gaps) onto an even grid."""
    ok = np.isfinite(rows).all(1)
    t0, r0 = times[ok], rows[ok]
    if len(t0) < 2 or t0[-1] - t0[0] <= 0:
        return t0[:1], r0[:1]
    grid = np.arange(t0[0], t0[-1] + 1e-9, 1.0 / fps)
    return grid, np.stack([np.interp(grid, t0, r0[:, k]) for k in range(r0.shape[1])], -1)


def rep_signal(smooth: np.ndarray, fps: float, exercise: str | None = None,
               visibility: np.ndarray | None = None,
               active: np.ndarray | None = None) -> tuple[np.ndarray, float, float | None]:  # fmt: skip
    """(x (T,), amplitude, period) from smoothed measures (T, M); x peaks at the turning points.

    ``active`` (T,) bool: the frames in the exercise's working pose (``exercise_frames``); the component and its amplitude
    come from those frames only (``count_series`` keeps only the turning points on them)."""
    cols = np.array([MEASURES.index(m) for m in AGNOSTIC_MEASURES])
    signs = np.ones(len(cols))
    profile = PROFILES.get(exercise or "")
    if profile:
        cols = np.array([MEASURES.index(m) for m in profile])
        signs = np.array(list(profile.values()), np.float64)
    elif visibility is not None and (visibility[cols] >= 0.5).sum() >= 2:
        cols = cols[visibility[cols] >= 0.5]  # unseen joints only add noise
        signs = np.ones(len(cols))
    z = smooth[:, cols] * signs
    on = active if active is not None and active.sum() >= 4 else np.ones(len(z), bool)
    centred = z - z[on].mean(0)
    _, s, vt = np.linalg.svd(centred[on], full_matrices=False)
    best = None
    for k in range(1 if profile else min(3, len(s))):
        comp = centred @ vt[k]
        amp = float(np.percentile(comp[on], 97) - np.percentile(comp[on], 3))
        period, strength = autocorr_period(comp[on], fps)
        score = amp * (0.5 + strength)
        if best is None or score > best[0]:
            best = (score, comp, amp, period)
    _, x, amp, period = best
    if profile:
        if np.dot(x, centred.sum(1)) < 0:
            x = -x  # the component rises where the profile's measures move toward the turning point
    else:
        med = np.median(x)
        if np.percentile(x, 97) - med < med - np.percentile(x, 3):
            x = -x  # rest side: the pose held most of the time; reps are excursions away from it
    return x, amp, period


# Start of a clip: a clip that opens at (or just after) a turning point and then moves back counts
# that rep, as a person counting would. How near the top of the range the opening must be, and how far
# the body must move back, in shares of the rep amplitude (tuned on the tuning labels only).
START_NEAR, START_DROP, START_WITHIN = 0.6, 0.4, 0.6  # START_WITHIN: seconds
# Exercises counted when the turning point is reached even if the clip ends there (a lifter counts
# a deadlift at lockout); others need the body to move back.
COUNT_AT_END = ("deadlift",)
END_RISE, END_NEAR = 0.6, 0.25  # the last rise and how near the clip's top it must end
# Share the body must come back after the last turning point: of the rep amplitude, or of the last rep's own
# rise where that is smaller (issue 27, sixth pass: on a lying lifter's noisy pose one glitch stretches the
# clip's range, so a short clip ending most of the way up from its last press lost that rep; 2 of 26 tuning
# bench-press clips gained a rep, no other tuning clip's count changed).
LAST_RETURN = 0.5


def find_reps(
    x: np.ndarray, amp: float, fps: float, from_start: bool = True, to_end: bool = False
) -> np.ndarray:
    """Indices of the turning points of complete reps in the rep signal x.

    ``from_start``: x starts at the start of the clip (a clip that starts at a turning
    point and moves back counts that rep); False for a trailing window of a stream.
    ``to_end``: x ends at the end of the clip and the exercise counts at the turning point
    (``COUNT_AT_END``): a last rise that reaches the top and stays there counts.
    """
    min_dist = int(0.4 * fps)
    peaks, props = find_peaks(x, distance=max(min_dist, 1), prominence=0.3 * amp)
    if len(peaks):
        # A rep stands out by a good share of the typical rep amplitude.
        typical = float(np.median(props["prominences"]))
        peaks = peaks[props["prominences"] >= 0.45 * max(typical, 0.5 * amp)]
    # The body must come back afterwards (at least part way) for the rep to count; after the last turning
    # point at least half way (of the amplitude, or of its own rise where smaller), so a clip that ends early
    # in the way back has a half rep there, not a rep.
    last = peaks[-1] if len(peaks) else -1
    own = x[last] - x[peaks[-2] if len(peaks) >= 2 else 0 : last + 1].min() if len(peaks) else amp
    back = {int(p): 0.35 * amp for p in peaks} | {int(last): LAST_RETURN * min(amp, own)}
    peaks = np.asarray([p for p in peaks if x[p:].min() <= x[p] - back[int(p)]], int)
    within = int(START_WITHIN * fps) + 1
    if from_start and len(x) > 3:
        h = int(np.argmax(x[:within]))
        nxt = int(peaks[0]) if len(peaks) else len(x)
        if (
            h < nxt - min_dist
            and x[h] >= x.max() - START_NEAR * amp
            and x[h:nxt].min() <= x[h] - START_DROP * amp
        ):
            peaks = np.concatenate([[h], peaks]).astype(int)
    if to_end and len(x) > 3:
        last = int(peaks[-1]) if len(peaks) else 0
        low = last + int(np.argmin(x[last:]))
        top = low + int(np.argmax(x[low:]))
        if (
            x[top] - x[low] >= END_RISE * amp
            and x[top] >= x.max() - END_NEAR * amp
            and top - last > min_dist
        ):
            peaks = np.concatenate([peaks, [top]]).astype(int)
    return peaks


def _measures_of(seq: PoseSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(times, measures (T, M), visibility (M,)) of the detected span, or None when nobody is visible."""
    det = np.asarray(seq.detected, bool)
    if det.sum() < 2:
        return None
    first, last = np.argmax(det), len(det) - 1 - np.argmax(det[::-1])
    world = interpolate_missing(seq.world.astype(np.float64), det)[first : last + 1]
    image = interpolate_missing(seq.landmarks.astype(np.float64), det)[first : last + 1]
    rows = frame_measures(world, image=image)
    vis = measure_visibility(
        np.where(det[:, None], seq.landmarks[:, :, 3], np.nan)[first : last + 1]
    )
    return seq.times[first : last + 1], rows, vis


def count_series(times: np.ndarray, rows: np.ndarray, exercise: str | None = None,
                 visibility: np.ndarray | None = None, min_amplitude: float = MIN_AMPLITUDE,
                 from_start: bool = True, fps: float = GRID_FPS, to_end: bool = True) -> RepResult:  # fmt: skip
    """Count reps in per-frame measures (T0, M) at `times` (s); the core of offline and online counting."""
    rows = np.asarray(rows, np.float64)
    ok = np.isfinite(rows).all(1)
    if ok.sum() >= 3:  # a one-frame pose glitch (a limb swapped or thrown) is not movement
        rows = rows.copy()
        rows[ok] = median_filter(rows[ok], size=(3, 1), mode="nearest")
    grid, sig = _on_grid(np.asarray(times, np.float64), rows, fps)
    if len(grid) < 4:
        return RepResult(0, reason="clip too short", times=grid, exercise=exercise)
    smooth = gaussian_filter1d(sig, sigma=SMOOTH_SECONDS * fps, axis=0, mode="nearest")
    if not np.isfinite(smooth).all():
        return RepResult(0, reason="no usable pose signal", times=grid, exercise=exercise)
    active = exercise_frames(smooth, exercise)
    x, amp, period = rep_signal(smooth, fps, exercise, visibility, active)
    if amp < min_amplitude:
        return RepResult(0, reason="no repeated movement (the body holds still)", signal=x, times=grid,
                         exercise=exercise)  # fmt: skip
    voters = None
    if exercise in PROFILES:  # the signals that vote on the period: x and the profile's measures
        voters = np.column_stack([x, smooth[:, [MEASURES.index(m) for m in PROFILES[exercise]]]])
        x, amp, voters = fast_reps_signal(x, amp, voters, fps)
    peaks = find_reps(x, amp, fps, from_start, to_end and exercise in COUNT_AT_END)
    if voters is not None:
        peaks = period_checked(x, peaks, amp, fps, voters)
    if from_start and not start_rep_fits(peaks, fps, START_WITHIN + 0.05, x, amp):
        peaks = peaks[1:]
    if active is not None:
        peaks = peaks[
            active[peaks]
        ]  # a turning point outside the working pose is set-up, not a rep
    turn_ok = turning_pose_ok(smooth, exercise)
    if turn_ok is not None:
        peaks = peaks[turn_ok[peaks]]  # a jack with the arms down is a legs-only jump
    rep_times = [float(grid[p]) for p in peaks]
    if len(peaks) >= 2:
        period = float(np.median(np.diff(grid[peaks])))
    reason = None if len(peaks) else "no complete repetition"
    return RepResult(len(peaks), rep_times, period, reason, x, grid, peaks, exercise)


def count_reps(
    seq: PoseSequence, exercise: str | None = None, min_amplitude: float = MIN_AMPLITUDE
) -> RepResult:
    """Count repetitions in one clip's landmarks (``exercise``: a model label; None = class-agnostic).

    For a hold (plank) the count is 0 and ``hold_seconds`` is the time held. Never raises for odd input.
    """
    ex = normalize_exercise(exercise)
    got = _measures_of(seq)
    if got is None:
        return RepResult(0, reason="no person visible", exercise=ex)
    times, rows, vis = got
    if ex in HOLDS:
        held = hold_seconds(times, seq.world[np.argmax(seq.detected) :][: len(times)])
        return RepResult(
            0, reason="a hold: timed, not counted", times=times, exercise=ex, hold_seconds=held
        )
    return count_series(times, rows, ex, vis, min_amplitude)
