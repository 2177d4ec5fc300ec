"""Repetition cycles: where a clip's reps start and end, found from its landmarks alone.

A rep is a camera-robust unit: one cycle of the movement, whatever the tempo. Cutting
windows at rep boundaries (features.windows with ``unit="rep"``) makes every window
hold exactly one rep resampled to the same number of steps, so a slow squat and a
fast one give the same window, and statistics over a window (percentiles, range) are
taken over whole reps rather than over 1.4 or 2.7 of them.

Steps (pure numpy on a features.Track):

1. signal: the key joints, hip-centred and torso-scaled in the image, resampled to a
   uniform 10 Hz grid; its first principal component, smoothed.
2. period: the first clear peak of the signal's autocorrelation (0.6-8 s). No clear
   peak (a plank, a set-up, someone walking about) -> no cycles.
3. boundaries: the minima of the signal at least 0.6 periods apart; a rep is the
   stretch between two neighbours whose length is within 0.6-1.6 periods.

The label is never used; the same function runs on training and on users' clips.
The rep counter (analysis/reps.py) counts reps per exercise with the exercise's
own joint measures; this module only needs boundaries good enough to cut windows,
before anyone knows the exercise.
"""

from __future__ import annotations

import numpy as np

RATE = 10.0  # Hz of the resampled signal
MIN_PERIOD, MAX_PERIOD = 0.6, 8.0  # seconds
SEGMENT = 16.0  # seconds searched for one period at a time in a long clip
MIN_ACF = 0.2  # autocorrelation at the period for the clip to count as periodic
KEY = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
_L_SH, _R_SH, _L_HIP, _R_HIP = 11, 12, 23, 24


# scipy's gaussian_filter1d and find_peaks, in numpy: importing scipy.signal takes 0.47 s, a third
# of a cold `workout predict` of a short clip. The same results (tests/learn/test_cycles.py).
def smooth(x: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Gaussian smoothing of a 1-D signal, edges mirrored (scipy.ndimage.gaussian_filter1d)."""
    r = int(truncate * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return np.convolve(np.pad(x, r, mode="symmetric"), k / k.sum(), mode="valid")


def find_peaks(x: np.ndarray, height: float | None = None, distance: int = 1) -> np.ndarray:
    """Indices of local maxima of x (scipy.signal.find_peaks with `height` and `distance`):
    a flat top counts once, at its middle; of peaks nearer than `distance`, the higher stays."""
    i = np.flatnonzero(np.diff(np.sign(np.diff(x))) < 0) + 1  # rises then falls or flattens
    peaks = []
    for j in i:  # a flat top: the middle of the run of equal values, if it then falls
        if x[j - 1] >= x[j]:
            continue
        end = j
        while end + 1 < len(x) and x[end + 1] == x[j]:
            end += 1
        if end + 1 < len(x) and x[end + 1] < x[j]:
            peaks.append((j + end) // 2)
    peaks = np.asarray(peaks, dtype=int)
    if height is not None:
        peaks = peaks[x[peaks] >= height]
    if distance > 1 and len(peaks) > 1:
        keep = np.ones(len(peaks), bool)
        for k in np.argsort(x[peaks])[::-1]:  # highest first (ties as scipy orders them)
            if keep[k]:
                near = np.abs(peaks - peaks[k]) < distance
                near[k] = False
                keep[near] = False
        peaks = peaks[keep]
    return peaks


def cycle_signal(raw: np.ndarray, times: np.ndarray, aspect: float = 1.0):
    """(T0, V, 8) track -> (grid times (G,), first principal component (G,)) at RATE Hz."""
    grid = np.arange(times[0], times[-1] + 1e-9, 1.0 / RATE)
    xy = raw[:, KEY, :2].astype(np.float64)  # (T0, K, 2)
    xy[..., 0] *= aspect
    hip = (raw[:, _L_HIP, :2] + raw[:, _R_HIP, :2]) / 2
    sh = (raw[:, _L_SH, :2] + raw[:, _R_SH, :2]) / 2
    hip[:, 0] *= aspect
    sh[:, 0] *= aspect
    torso = float(np.median(np.linalg.norm(sh - hip, axis=-1))) + 1e-3
    s = ((xy - hip[:, None]) / torso).reshape(len(raw), -1)  # (T0, 2K)
    s = np.stack([np.interp(grid, times, s[:, j]) for j in range(s.shape[1])], -1)  # (G, 2K)
    s = s - s.mean(0)
    if len(grid) < 3 or not np.any(s):
        return grid, np.zeros(len(grid))
    u, sv, _ = np.linalg.svd(s, full_matrices=False)
    pc = u[:, 0] * sv[0]
    return grid, smooth(pc, sigma=1.5)


def period(pc: np.ndarray) -> float | None:
    """Seconds of the first clear autocorrelation peak of `pc` (sampled at RATE), or None.

    Not analysis/repperiod.autocorr_period: that one serves the rep counter (it prefers the
    fundamental among high peaks, on the exercise's own measures) and sits above learn/ in the
    import order; this one only needs a period good enough to cut windows, and the shipped
    model was fitted on its windows."""
    n = len(pc)
    lo, hi = int(MIN_PERIOD * RATE), min(int(MAX_PERIOD * RATE), int(0.7 * n))
    if hi <= lo + 1:
        return None
    x = pc - pc.mean()
    ac = np.correlate(x, x, "full")[n - 1 :]
    if ac[0] <= 0:
        return None
    ac = ac / (ac[0] * (n - np.arange(n)) / n)  # unbiased: long lags are not shrunk
    peaks = find_peaks(ac[: hi + 1], height=MIN_ACF)
    peaks = peaks[peaks >= lo]
    return float(peaks[0]) / RATE if len(peaks) else None


def _cycles_once(raw: np.ndarray, times: np.ndarray, aspect: float) -> np.ndarray:
    none = np.zeros((0, 2))
    if len(times) < 3:
        return none
    grid, pc = cycle_signal(raw, times, aspect)
    p = period(pc)
    if p is None:
        return none
    # Turning points at one end of the movement; which end does not matter for cutting windows.
    mins = find_peaks(-pc, distance=max(1, int(0.6 * p * RATE)))
    if len(mins) < 2:
        return none
    starts, ends = grid[mins[:-1]], grid[mins[1:]]
    ok = ((ends - starts) >= 0.6 * p) & ((ends - starts) <= 1.6 * p)
    return np.stack([starts[ok], ends[ok]], -1)


def cycles(raw: np.ndarray, times: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """Rep boundaries of one track: (R, 2) start and end times in seconds, in time order;
    (0, 2) when not periodic. A long clip (a session that changes exercise and tempo) is
    searched in overlapping stretches of SEGMENT seconds, each with its own period."""
    if len(times) < 3 or times[-1] - times[0] <= 1.5 * SEGMENT:
        return _cycles_once(raw, times, aspect)
    found = []
    for a in np.arange(times[0], times[-1] - SEGMENT / 2, SEGMENT / 2):
        m = (times >= a) & (times <= a + SEGMENT)
        found.append(_cycles_once(raw[m], times[m], aspect))
    reps = np.concatenate(found)
    reps = reps[np.argsort(reps[:, 0], kind="stable")]
    kept: list[np.ndarray] = []
    for r in reps:  # the overlapping stretches find most reps twice: keep the first
        if not kept or r[0] >= kept[-1][1] - 0.5 * (r[1] - r[0]):
            kept.append(r)
    return np.asarray(kept).reshape(-1, 2)


def uncovered(
    starts: np.ndarray, spans: np.ndarray, reps: np.ndarray, most: float = 0.5
) -> np.ndarray:
    """(W,) True for the windows [start, start + span] less than `most` covered by the reps (R, 2)."""
    out = np.ones(len(starts), bool)
    for i, (s, sp) in enumerate(zip(starts, spans, strict=True)):
        inside = np.clip(np.minimum(reps[:, 1], s + sp) - np.maximum(reps[:, 0], s), 0, None).sum()
        out[i] = inside < most * max(sp, 1e-9)
    return out
