"""`workout live`: a camera, stream or file, classified and counted as it plays."""

from __future__ import annotations

import json
import sys

import typer

from workout_classifier.cli.common import _load_classifier, app, console, err, fail


@app.command()
def live(
    source: str = typer.Option(
        "0", "--source", "-s", help="Camera index (0), rtsp:// or http:// stream, or a video file."
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="Model file (default: the one shipped in the package)."
    ),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object per processed frame, then the summary."
    ),
    window: bool = typer.Option(
        None,
        "--window/--no-window",
        help="Show a window (default: when there is a display).",
        show_default=False,
    ),
    realtime: bool = typer.Option(
        True,
        "--realtime/--every-frame",
        help="A file plays at its own speed, dropping frames the machine cannot keep up "
        "with; --every-frame takes them all, as fast as it can.",
    ),
):
    """Classify and count live: skeleton, exercise, sets and reps as they happen; a summary at the end (Ctrl-C)."""
    from workout_classifier.frames.video import VideoError
    from workout_classifier.live.stream import draw, has_display, json_state, run_live
    from workout_classifier.live.tracker import LiveTracker

    clf = _load_classifier(model)
    show = has_display() if window is None else window
    if show and not has_display():
        fail("no display to show a window on (use --json, or run where there is a desktop)")
    tracker = LiveTracker(clf)
    shown = {"label": None, "reps": None, "set": None}
    fps = {"n": 0, "t0": None}

    def on_update(state, frame):
        if json_out:
            state_line = json_state(state)
            print(json.dumps(state_line), flush=True)
        elif (state["label"], state["reps"], state["set"]) != tuple(shown.values()):
            shown.update(label=state["label"], reps=state["reps"], set=state["set"])
            what = state["label"] or "looking for a person"
            conf = f" ({state['confidence']:.0%})" if state["confidence"] is not None else ""
            where = f", set {state['set']}: {state['reps']} reps" if state["set"] else ""
            err.print(f"{state['time']:7.1f} s  {what}{conf}{where}", highlight=False)
        if show:
            import time

            import cv2

            fps["n"] += 1
            fps["t0"] = fps["t0"] or time.perf_counter()
            rate = fps["n"] / max(time.perf_counter() - fps["t0"], 1e-3)
            cv2.imshow("workout live (q: stop)", draw(frame.image, state, rate))
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                raise KeyboardInterrupt

    try:
        summary = run_live(source, tracker, on_update, realtime=realtime)
    except VideoError as e:
        fail(f"{source}: {e}")
    finally:
        tracker.close()
        if show:
            import cv2

            cv2.destroyAllWindows()
    if json_out:
        print(json.dumps({"summary": summary}), flush=True)
    else:
        _print_summary(summary)
    if summary["error"] and not summary["frames_processed"]:
        fail(f"{source}: {summary['error']}")


def _print_summary(s: dict) -> None:
    out = console if sys.stdout.isatty() else err
    out.print("[bold]summary[/]" + (" (stopped)" if s["interrupted"] else ""))
    if not s["sets"]:
        out.print("  no exercise recognised", highlight=False)
    for i, st in enumerate(s["sets"], 1):
        out.print(
            f"  set {i}: {st['label']}, {st['reps']} reps ({st['start']:.1f}-{st['end']:.1f} s)",
            highlight=False,
        )
    for label, tot in s["exercises"].items():
        out.print(f"  {label}: {tot['sets']} set(s), {tot['reps']} reps", highlight=False)
    out.print(f"  frames: {s['frames_processed']} processed, {s['frames_dropped']} dropped of {s['frames_read']} "
              f"({s['fps_processed']} per second); latency p50 {s['latency_ms_p50']} ms, "
              f"p95 {s['latency_ms_p95']} ms", highlight=False)  # fmt: skip
