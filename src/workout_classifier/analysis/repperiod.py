"""Period agreement for repetition counting: one period that several joint signals agree on, and the
turning points it recovers or rejects.

Pure numpy/scipy; used by ``reps`` (which imports this module, never the other way round).

A rep signal found by ``reps.find_reps`` misses reps whose turning point is weak in it (poor pose on
a lying lifter, a clip that ends soon after the last rep) and sometimes counts a twitch between two
reps. When the reps repeat at a steady period that the autocorrelation of several of the exercise's
measures agrees on, a weaker turning point about one period from a counted rep is a rep too, and of two
counted turning points much closer than the period the weaker is not. Fast reps riding on a slow drift
(``fast_reps_signal``) are counted on the signal less its moving mean over one period of the reps.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

MIN_PERIOD, MAX_PERIOD = 0.5, 8.0  # seconds
AGREE = 0.25  # periods agree when within this share of each other
MIN_STRENGTH = 0.2  # autocorrelation at the period: below this a signal does not vote
# A recovered turning point: how far it must stand out and the body come back afterwards, in shares of
# the rep amplitude, and how far from a counted rep it may lie, in periods (tuned on the tuning labels).
RECOVER_PROMINENCE, RECOVER_RETURN = 0.25, 0.25
RECOVER_NEAR, RECOVER_FAR = 0.7, 1.4
TOO_CLOSE = 0.5  # two counted turning points nearer than this many periods: the weaker is not a rep


def autocorr_period(x: np.ndarray, fps: float) -> tuple[float | None, float]:
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


def agreed_period(
    signals: np.ndarray,
    fps: float,
    spacing: float | None = None,
    support: int = 2,
    strength: float = MIN_STRENGTH,
) -> float | None:
    """The period (s) that at least ``support`` of the signals (T, K) agree on, or None.

    ``spacing``: the median time between the reps already counted, one more vote. Each signal's vote is
    its autocorrelation period where the autocorrelation there is at least ``strength``.
    """
    votes = [] if spacing is None else [spacing]
    for k in range(signals.shape[1]):
        period, how_strong = autocorr_period(signals[:, k], fps)
        if period is not None and how_strong >= strength:
            votes.append(period)
    best, support = None, support - 1
    for v in (
        votes[:1] if spacing is not None else votes
    ):  # counted reps' spacing, when known, must agree
        near = [u for u in votes if abs(u - v) <= AGREE * v]
        if len(near) > support:
            best, support = float(np.median(near)), len(near)
    return best


# A first turning point with at least this share of the rep amplitude risen to it inside the clip was seen
# whole (issue 27, sixth pass): the start rule's weaker evidence does not apply to it, and it stays a rep
# however unevenly the reps after it are spaced (a lifter pausing at the top before the third press).
START_RISE_SEEN = 0.5


def start_rep_fits(
    peaks: np.ndarray,
    fps: float,
    within: float,
    x: np.ndarray | None = None,
    amp: float | None = None,
) -> bool:
    """Whether a rep counted at the very start of the clip (first peak within ``within`` s) lies about a
    period before the next one, the period being the spacing of the (at least two) reps after it.

    The start rule counts a clip that opens at a turning point on weaker evidence (no rise before it
    is seen); one much nearer the next rep than the reps are to each other is set-up movement. With the
    rep signal ``x`` and its amplitude ``amp``, a first turning point the signal rose to by at least
    ``START_RISE_SEEN`` of the amplitude inside the clip was seen whole and fits."""
    if len(peaks) < 3 or peaks[0] > within * fps:
        return True
    if x is not None and amp is not None:
        if x[peaks[0]] - x[: peaks[0] + 1].min() >= START_RISE_SEEN * amp:
            return True
    return bool(peaks[1] - peaks[0] >= RECOVER_NEAR * np.median(np.diff(peaks[1:])))


def refine_peaks(
    x: np.ndarray, peaks: np.ndarray, amp: float, fps: float, period: float
) -> np.ndarray:
    """Counted turning points ``peaks`` of x, with those one period from a counted rep recovered and
    those much nearer than a period to a stronger one dropped."""
    step = period * fps
    cand, props = find_peaks(
        x, distance=max(int(0.4 * fps), 1), prominence=RECOVER_PROMINENCE * amp
    )
    prom = dict(zip(cand.tolist(), props["prominences"].tolist(), strict=True))
    kept = sorted(int(p) for p in peaks)
    changed = bool(kept)
    while changed:
        changed = False
        for c in cand.tolist():
            if c in kept:
                continue
            gap = min(abs(c - k) for k in kept)
            later, earlier = [k for k in kept if k > c], [k for k in kept if k < c]
            back = x[c] - x[c : later[0] if later else len(x)].min()
            rise = x[c] - x[earlier[-1] if earlier else 0 : c + 1].min()
            # Back at least half of its own rise too: a clip that ends on the way back has a half rep.
            if RECOVER_NEAR * step <= gap <= RECOVER_FAR * step and back >= max(
                RECOVER_RETURN * amp, 0.5 * rise
            ):
                kept = sorted([*kept, c])
                changed = True
    while len(kept) >= 2:
        gaps = np.diff(kept)
        i = int(np.argmin(gaps))
        if gaps[i] >= TOO_CLOSE * step:
            break
        a, b = kept[i], kept[i + 1]
        kept.remove(a if prom.get(a, 0.0) < prom.get(b, 0.0) else b)
    return np.asarray(kept, int)


def period_checked(
    x: np.ndarray, peaks: np.ndarray, amp: float, fps: float, voters: np.ndarray
) -> np.ndarray:
    """``refine_peaks`` at the period that the counted reps' spacing and the signals ``voters`` (T, K)
    agree on; the peaks unchanged where they agree on none."""
    spacing = float(np.median(np.diff(peaks))) / fps if len(peaks) >= 2 else None
    period = agreed_period(voters, fps, spacing)
    return peaks if period is None else refine_peaks(x, peaks, amp, fps, period)


# Fast reps on a slow drift (issue 27, fifth pass): fast shallow push-ups (about 0.55 s a rep) ride on a
# slow movement (of the body, or of the view of it) as large as the reps, so the autocorrelation finds the drift's period and the turning points do not stand out from it.
# Taking out what moves slower than PROBE s shows the reps; when every voter then repeats at one period
# under FAST_PERIOD s with an autocorrelation of at least FAST_STRENGTH there, the rep signal is counted
# less its moving mean over one such period (what moves slower than the reps). Pose jitter on a slow rep
# can look periodic too, but weakly or not in every signal (a chest-fly clip's jitter: 0.36; the fast reps
# of the tuning clips: 0.64-0.97; with a vote of two of three signals and no such bar, the live counter's
# first short windows of a jittery bench clip took its jitter for reps). Tuned on the tuning clips only:
# PROBE 0.6-0.8 s, FAST_PERIOD 1.1-1.2 s and FAST_STRENGTH 0.4-0.6 count the same there (FAST_PERIOD 1.0
# leaves a bench clip at 1 of 3, 1.4 loses a rep on another).
FAST_PERIOD, PROBE, FAST_STRENGTH = 1.2, 0.75, 0.5


def without_drift(signals: np.ndarray, seconds: float, fps: float) -> np.ndarray:
    """signals (T,) or (T, K) less their moving mean over ``seconds``: what moves slower is taken out."""
    size = max(int(round(seconds * fps)), 1)
    return signals - uniform_filter1d(signals, size=size, axis=0, mode="nearest")


def fast_period(voters: np.ndarray, fps: float) -> float | None:
    """The period (s) under ``FAST_PERIOD`` that every voter (T, K) repeats at, with an autocorrelation
    of at least ``FAST_STRENGTH``, once what moves slower than ``PROBE`` s is taken out; else None."""
    slow_out = without_drift(voters, PROBE, fps)
    period = agreed_period(slow_out, fps, support=voters.shape[1], strength=FAST_STRENGTH)
    return period if period is not None and period <= FAST_PERIOD else None


def fast_reps_signal(
    x: np.ndarray, amp: float, voters: np.ndarray, fps: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """(x, amp, voters) to count on: without what moves slower than the reps when the voters agree on
    fast reps (``fast_period``), else as given. amp: the 3rd-97th percentile range of the new x."""
    period = fast_period(voters, fps)
    if period is None:
        return x, amp, voters
    fast = without_drift(x, period, fps)
    return (
        fast,
        float(np.percentile(fast, 97) - np.percentile(fast, 3)),
        without_drift(voters, period, fps),
    )
