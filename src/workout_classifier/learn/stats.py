"""Dataset statistics: clip counts, durations, resolutions and frame rates per exercise.

Reads container headers and one frame per clip (`video.probe`: the rotation is
known only from a decoded frame), so a few hundred clips take seconds.
Nothing here raises for a bad clip: unreadable files, files that are not videos,
empty exercise folders and very short clips become entries of `problems`.

Outputs of `write_stats(root, out)`:

- ``stats.json``  ``total_clips``, ``readable_clips``, ``exercises`` (name -> clips,
  unreadable, total/min/median/mean/max duration in seconds, resolutions and fps
  as counts), ``durations`` (the same summary over all readable clips) and
  ``problems`` (list of {file, kind, reason}).
- ``clips.csv``   one row per clip: exercise, file, group, duration, fps, frames,
  width, height (as a player shows them), rotation, codec, problem.
- ``clips_per_exercise.png``, ``durations.png``, ``durations_by_exercise.png``.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

from workout_classifier.frames.video import VideoError, probe
from workout_classifier.learn.dataset import scan_dataset

MIN_DURATION = 1.0  # seconds; shorter clips are reported as "very short"


@dataclass
class ClipStat:
    exercise: str
    file: str  # relative to the dataset root, "<exercise>/<clip>"
    group: str
    duration: float | None = None
    fps: float | None = None
    frames: int | None = None
    width: int | None = None  # as shown (after the container's rotation)
    height: int | None = None
    rotation: int | None = None  # degrees clockwise turned to show the stored frames upright
    codec: str = ""
    problem: str = ""

    @property
    def readable(self) -> bool:
        return self.duration is not None

    def row(self) -> dict:
        d = {k: getattr(self, k) for k in CSV_FIELDS}
        if self.duration is not None:
            d["duration"] = round(self.duration, 3)
            d["fps"] = round(self.fps, 3)
        return {k: ("" if v is None else v) for k, v in d.items()}


CSV_FIELDS = tuple(f.name for f in fields(ClipStat))  # one CSV column per field, in order


def _problem_kind(reason: str) -> str:
    if reason.startswith("not a video"):
        return "not a video"
    if reason.startswith("empty folder"):
        return "empty folder"
    if reason.startswith("very short"):
        return "very short"
    return "unreadable"


def collect(root: str | Path) -> tuple[list[ClipStat], list[dict]]:
    """Probe every clip under root. Raises DatasetError only when nothing usable is there."""
    root = Path(root)
    clips, scan_problems = scan_dataset(root)
    problems = [
        {"file": _rel(root, p["file"]), "kind": _problem_kind(p["reason"]), "reason": p["reason"]}
        for p in scan_problems
    ]
    out: list[ClipStat] = []
    for c in clips:
        st = ClipStat(exercise=c.label, file=c.name, group=c.group)
        try:
            info = probe(c.path)
        except VideoError as e:
            st.problem = str(e)
        except Exception as e:  # a decoder crash on one file must not stop the scan
            st.problem = f"unreadable video ({type(e).__name__}: {e})"
        else:
            st.fps, st.frames, st.width, st.height = (
                info.fps,
                info.frame_count,
                info.width,
                info.height,
            )
            st.rotation, st.codec = info.rotation, info.codec
            st.duration = info.duration
            if info.frame_count <= 0:
                st.problem = "unreadable video (no frames in the header)"
                st.duration = None
            elif info.duration < MIN_DURATION:
                st.problem = (
                    f"very short ({info.duration:.2f} s, {info.frame_count} frame"
                    f"{'s' if info.frame_count != 1 else ''}; under {MIN_DURATION:g} s)"
                )
        if st.problem:
            problems.append(
                {"file": st.file, "kind": _problem_kind(st.problem), "reason": st.problem}
            )
        out.append(st)
    return out, problems


def _rel(root: Path, file: str) -> str:
    try:
        return Path(file).relative_to(root).as_posix()
    except ValueError:
        return str(file)


def duration_summary(durations: list[float]) -> dict:
    if not durations:
        return {"clips": 0, "total": 0.0, "min": None, "median": None, "mean": None, "max": None}
    return {
        "clips": len(durations),
        "total": round(sum(durations), 2),
        "min": round(min(durations), 3),
        "median": round(statistics.median(durations), 3),
        "mean": round(statistics.fmean(durations), 3),
        "max": round(max(durations), 3),
    }


def _fps_key(fps: float) -> str:
    return f"{fps:.2f}".rstrip("0").rstrip(".")


def summarize(stats: list[ClipStat], problems: list[dict]) -> dict:
    exercises: dict[str, dict] = {}
    for name in sorted({s.exercise for s in stats}):
        mine = [s for s in stats if s.exercise == name]
        ok = [s for s in mine if s.readable]
        d = duration_summary([s.duration for s in ok])
        exercises[name] = {
            "clips": len(mine),
            "unreadable": len(mine) - len(ok),
            "total_duration": d["total"],
            "min_duration": d["min"],
            "median_duration": d["median"],
            "mean_duration": d["mean"],
            "max_duration": d["max"],
            "resolutions": dict(Counter(f"{s.width}x{s.height}" for s in ok).most_common()),
            "fps": dict(Counter(_fps_key(s.fps) for s in ok).most_common()),
        }
    readable = [s for s in stats if s.readable]
    return {
        "total_clips": len(stats),
        "readable_clips": len(readable),
        "exercises": exercises,
        "durations": duration_summary([s.duration for s in readable]),
        "problems": problems,
    }


def write_stats(root: str | Path, out: str | Path) -> dict:
    """Collect, write stats.json, clips.csv and the three plots into `out`; return the summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stats, problems = collect(root)
    summary = summarize(stats, problems)
    (out / "stats.json").write_text(
        json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    with (out / "clips.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for s in stats:
            w.writerow(s.row())
    plot_all(stats, summary, out)
    return summary


# ---- plots ---------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_all(stats: list[ClipStat], summary: dict, out: Path) -> list[Path]:
    return [
        plot_clips_per_exercise(summary, out / "clips_per_exercise.png"),
        plot_durations(stats, summary, out / "durations.png"),
        plot_durations_by_exercise(stats, out / "durations_by_exercise.png"),
    ]


def plot_clips_per_exercise(summary: dict, path: Path) -> Path:
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    items = sorted(summary["exercises"].items(), key=lambda kv: (kv[1]["clips"], kv[0]))
    names = [k for k, _ in items]
    counts = [v["clips"] for _, v in items]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.4))
    bars = ax.barh(names, counts, color="#4C72B0")
    ax.bar_label(bars, labels=[str(c) for c in counts], padding=3, fontsize=9)
    ax.set_xlabel("clips")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Clips per exercise ({summary['total_clips']} clips)")
    ax.set_xlim(0, max(counts + [1]) * 1.12)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_durations(stats: list[ClipStat], summary: dict, path: Path) -> Path:
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    durs = [s.duration for s in stats if s.readable]
    fig, ax = plt.subplots(figsize=(8, 4))
    log = False
    if durs:
        import numpy as np

        n_bins = min(40, max(5, len(durs) // 3))
        lo, hi = min(durs), max(durs)
        log = _long_tail(durs)
        bins = np.geomspace(lo, hi, n_bins + 1) if log else n_bins
        ax.hist(durs, bins=bins, color="#4C72B0", edgecolor="white")
        if log:
            _log_seconds_axis(ax, lo, hi)
        med = summary["durations"]["median"]
        ax.axvline(med, color="#C44E52", linestyle="--", linewidth=2, label=f"median {med:.1f} s")
        ax.legend(frameon=False)
    ax.set_xlabel("clip duration (s)" + (", log scale" if log else ""))
    ax.set_ylabel("clips")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Clip durations ({len(durs)} readable clips)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _long_tail(durs: list[float]) -> bool:
    """A long tail (one 4-minute clip among 5-second ones) squeezes everything into
    one bar on a linear axis; a log axis keeps the bulk readable."""
    return len(durs) > 1 and min(durs) > 0 and max(durs) > 10 * statistics.median(durs)


def _log_seconds_axis(ax, lo: float, hi: float) -> None:
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    nice = [0.05, 0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600]
    ticks = [t for t in nice if lo / 1.2 <= t <= hi * 1.2]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_durations_by_exercise(stats: list[ClipStat], path: Path) -> Path:
    plt = _pyplot()
    by: dict[str, list[float]] = {}
    for s in stats:
        if s.readable:
            by.setdefault(s.exercise, []).append(s.duration)
    names = sorted(by, key=lambda n: (statistics.median(by[n]), n))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.4))
    if names:
        ax.boxplot(
            [by[n] for n in names],
            vert=False,
            widths=0.6,
            patch_artist=True,
            boxprops={"facecolor": "#AEC7E8", "edgecolor": "#4C72B0"},
            medianprops={"color": "#C44E52", "linewidth": 2},
            flierprops={"marker": ".", "markersize": 4, "markerfacecolor": "#555555"},
        )
        ax.set_yticks(range(1, len(names) + 1), [f"{n} (n={len(by[n])})" for n in names])
    every = [d for ds in by.values() for d in ds]
    log = _long_tail(every)
    if log:
        _log_seconds_axis(ax, min(every), max(every))
    ax.set_xlabel("clip duration (s)" + (", log scale" if log else ""))
    ax.set_title("Clip duration by exercise (box: quartiles, red: median)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ---- terminal summary ------------------------------------------------------------------
def summary_table(summary: dict):
    """A rich Table: one row per exercise plus a total row."""
    from rich import box
    from rich.table import Table

    t = Table(
        title="Dataset statistics", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False,
        caption="most common resolution and fps; +N = N other values (see stats.json)",
        caption_justify="left",
    )  # fmt: skip
    for col, kw in (
        ("exercise", {"no_wrap": True}),
        ("clips", {"justify": "right", "no_wrap": True}),
        ("total", {"justify": "right", "no_wrap": True}),
        ("median s", {"justify": "right", "no_wrap": True}),
        ("min–max s", {"justify": "right", "no_wrap": True}),
        ("resolution", {"no_wrap": True}),
        ("fps", {"no_wrap": True}),
    ):
        t.add_column(col, **kw)

    def fmt_total(sec: float | None) -> str:
        if not sec:
            return "-"
        m, s = divmod(int(round(sec)), 60)
        return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}"

    def top(counts: dict) -> str:
        if not counts:
            return "-"
        k, rest = next(iter(counts)), len(counts) - 1
        return k + (f" [dim]+{rest}[/]" if rest else "")

    items = sorted(summary["exercises"].items(), key=lambda kv: (-kv[1]["clips"], kv[0]))
    for name, e in items:
        clips = str(e["clips"]) + (f" [red]({e['unreadable']} bad)[/]" if e["unreadable"] else "")
        t.add_row(
            name, clips, fmt_total(e["total_duration"]), fmt(e["median_duration"]),
            f"{fmt(e['min_duration'])}–{fmt(e['max_duration'])}", top(e["resolutions"]), top(e["fps"]),
        )  # fmt: skip
    d = summary["durations"]
    t.add_section()
    t.add_row(
        "[bold]all[/]", f"[bold]{summary['total_clips']}[/]", fmt_total(d["total"]), fmt(d["median"]),
        f"{fmt(d['min'])}–{fmt(d['max'])}", "", "",
    )  # fmt: skip
    return t
