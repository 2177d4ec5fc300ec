"""Repetition counting from the pose signal.

Steps (pure numpy/scipy on one clip's landmarks):

1. ``rep_signals``: joints in torso units, centred at the clip's median mid-hip
   (so the whole body going up and down in a squat still counts), plus each
   joint relative to the mid-hip of its own frame, and the elbow/knee/hip
   angles. Missing frames are interpolated; everything is resampled to an even
   grid and smoothed.
2. The signals are projected on their principal components; among the first
   few, the one with the strongest periodicity (autocorrelation peak) that also
   moves enough is the rep signal. Joints that move most dominate on their own.
3. Peaks of that signal on the side away from the rest pose (the pose the
   person holds most of the time: standing, arms straight, hanging) are reps: a
   peak counts when it stands out by a good part of the typical rep's amplitude
   and the body moves back afterwards. Setup and rest at the ends are flat or
   non-repeating and fall below that bar.

A still pose gives 0 reps; a clip shorter than one rep gives 0 or 1; a clip
with nobody gives 0 with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from workout_classifier.features import L_HIP, L_SH, R_HIP, R_SH, angle_cos, interpolate_missing
from workout_classifier.pose import PoseSequence

# Joints used for counting: nose, shoulders, elbows, wrists, hips, knees, ankles.
JOINTS = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
ANGLE_TRIPLES = ((11, 13, 15), (12, 14, 16), (23, 25, 27), (24, 26, 28), (11, 23, 25), (12, 24, 26))
GRID_FPS = 15.0
MIN_AMPLITUDE = 0.18  # torso lengths: below this the body is holding still
MIN_PERIOD, MAX_PERIOD = 0.5, 8.0  # seconds


@dataclass
class RepResult:
    reps: int
    rep_times: list[float] = field(default_factory=list)  # time of each rep's turning point, s
    period: float | None = None  # typical seconds per rep, when periodic
    reason: str | None = None  # why the count is 0, when it is
    signal: np.ndarray | None = None  # the 1-D rep signal on `times` (for plots, annotation)
    times: np.ndarray | None = None

    def to_dict(self) -> dict:
        return {"reps": self.reps, "rep_times": [round(t, 2) for t in self.rep_times],
                "rep_period": None if self.period is None else round(self.period, 2)}  # fmt: skip


def _angle(p: np.ndarray, a: int, v: int, b: int) -> np.ndarray:
    return np.arccos(angle_cos(p, a, v, b))  # radians; features gives the clipped cosine


def rep_signals(seq: PoseSequence, fps: float = GRID_FPS) -> tuple[np.ndarray, np.ndarray] | None:
    """(times (T,), signals (T, S)) on an even grid, or None when nobody is visible."""
    det = np.asarray(seq.detected, bool)
    if det.sum() < 2:
        return None
    xy = seq.landmarks[:, :, :2].astype(np.float64).copy()
    aspect = float(seq.meta.get("width") or 1) / float(seq.meta.get("height") or 1)
    xy[..., 0] *= aspect
    xy = interpolate_missing(xy, det)
    t0 = seq.times
    first, last = np.argmax(det), len(det) - 1 - np.argmax(det[::-1])
    xy, t0 = xy[first : last + 1], t0[first : last + 1]
    hip = (xy[:, L_HIP] + xy[:, R_HIP]) / 2
    sh = (xy[:, L_SH] + xy[:, R_SH]) / 2
    torso = float(np.median(np.linalg.norm(sh - hip, axis=-1)))
    scale = max(torso, 1e-3)
    centre = np.median(hip, axis=0)
    glob = (xy[:, JOINTS] - centre) / scale  # body moving as a whole (squat, pull-up)
    local = (xy[:, JOINTS] - hip[:, None]) / scale  # limbs relative to the hips
    angles = np.stack([_angle(xy, *abc) for abc in ANGLE_TRIPLES], -1) * 0.5  # ~0.5 torso per radian
    sig = np.concatenate([glob.reshape(len(xy), -1), local.reshape(len(xy), -1), angles], -1)
    if len(t0) < 2 or t0[-1] - t0[0] <= 0:
        return t0[:1], sig[:1]
    grid = np.arange(t0[0], t0[-1] + 1e-9, 1.0 / fps)
    out = np.stack([np.interp(grid, t0, sig[:, j]) for j in range(sig.shape[1])], -1)
    return grid, out


def _autocorr_period(x: np.ndarray, fps: float) -> tuple[float | None, float]:
    """(period in s, strength 0..1) from the first clear autocorrelation peak."""
    n = len(x)
    x = x - x.mean()
    if n < 8 or not np.any(x):
        return None, 0.0
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    ac = ac / (ac[0] + 1e-12)
    ac = ac * n / np.maximum(n - np.arange(n), 1)  # unbiased: long lags are not penalised
    lo, hi = int(MIN_PERIOD * fps), min(int(MAX_PERIOD * fps), int(n * 0.75))
    if hi <= lo + 1:
        return None, 0.0
    peaks, _ = find_peaks(ac[: hi + 1], height=0.1)
    peaks = peaks[peaks >= lo]
    if not len(peaks):
        return None, 0.0
    best = peaks[np.argmax(ac[peaks])]
    # Prefer the first peak nearly as high as the best (the fundamental, not a multiple).
    for p in peaks:
        if ac[p] >= 0.8 * ac[best]:
            best = p
            break
    return best / fps, float(np.clip(ac[best], 0, 1))


def count_reps(seq: PoseSequence, min_amplitude: float = MIN_AMPLITUDE) -> RepResult:
    """Count repetitions in one clip's landmarks. Never raises for odd input."""
    got = rep_signals(seq)
    if got is None:
        return RepResult(0, reason="no person visible")
    times, sig = got
    fps = GRID_FPS
    if len(times) < 4:
        return RepResult(0, reason="clip too short", times=times)
    smooth = gaussian_filter1d(sig, sigma=0.12 * fps, axis=0, mode="nearest")
    centred = smooth - smooth.mean(0)
    if not np.isfinite(centred).all():
        return RepResult(0, reason="no usable pose signal", times=times)
    # Principal components of the motion: joints that move most dominate.
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    best = None
    for k in range(min(3, len(s))):
        comp = u[:, k] * s[k]
        amp = float(np.percentile(comp, 97) - np.percentile(comp, 3))
        period, strength = _autocorr_period(comp, fps)
        score = amp * (0.5 + strength)
        if best is None or score > best[0]:
            best = (score, comp, amp, period, strength)
    _, x, amp, period, strength = best
    if amp < min_amplitude:
        return RepResult(0, reason="no repeated movement (the body holds still)", signal=x, times=times)
    # Rest side: the person spends most time near the rest pose; reps are excursions away.
    med = np.median(x)
    lo_, hi_ = np.percentile(x, 3), np.percentile(x, 97)
    if hi_ - med < med - lo_:
        x = -x  # make excursions point up
    min_dist = int(0.4 * fps)
    peaks, props = find_peaks(x, distance=min_dist, prominence=0.3 * amp)
    if len(peaks):
        # A rep stands out by a good share of the typical rep amplitude.
        typical = float(np.median(props["prominences"]))
        keep = props["prominences"] >= 0.45 * max(typical, 0.5 * amp)
        peaks = peaks[keep]
    # The body must come back afterwards (at least part way) for the rep to count.
    kept = []
    for p in peaks:
        after = x[p:]
        if after.min() <= x[p] - 0.35 * amp:
            kept.append(p)
    peaks = np.asarray(kept, int)
    # A clip that starts at the turning point (e.g. at the bottom) and moves back counts once.
    head = x[: max(int(0.3 * fps), 2)]
    if len(x) > 3 and head.max() >= x.max() - 0.2 * amp and np.argmax(x[: int(0.6 * fps) + 1]) < 0.3 * fps:
        first_drop = x[: (peaks[0] if len(peaks) else len(x))]
        if first_drop.min() <= head.max() - 0.5 * amp and (not len(peaks) or peaks[0] > min_dist):
            peaks = np.concatenate([[int(np.argmax(head))], peaks])
    rep_times = [float(times[p]) for p in peaks]
    if len(peaks) >= 2:
        period = float(np.median(np.diff(times[peaks])))
    reason = None if len(peaks) else "no complete repetition"
    return RepResult(len(peaks), rep_times, period, reason, x, times)
