"""The report of bench/pose_recovery.py: markdown from the parts its steps stored in
bench/results/pose_recovery.json (`render`). Split out of pose_recovery.py, unchanged,
to keep each file short.
"""

from __future__ import annotations


def _load(part: dict) -> str:
    a, b, c = part["load"]
    return f"measured {part['at']}, load average {a:.1f} / {b:.1f} / {c:.1f} (2 cores, shared)"


def render(store: dict) -> str:
    out = ["# Pose recovery and main person (issue 10)", ""]
    if "frames" in store:
        fr = store["frames"]["value"]
        new = any("new_clips" in r for r in fr.values())
        out += [
            "## Frames with a person, per exercise",
            "",
            "Whole set, from the shared cache's metadata (no re-extraction): before = the tracker alone "
            f"(detected minus recovered_frames), after = with recovery (settings VERSION "
            f"{store['frames'].get('version', 3)})."
            + (
                " The 'new' columns: the clips needing recovery re-extracted with this branch's code (VERSION "
                "4: recovery trackers, main person) into /work/cache-10; 'whole exercise, new' counts those new "
                "and every other clip as cached (found on every frame by the tracker alone, so recovery cannot "
                "change it; a second person there is not measured)."
                if new
                else ""
            ),
            "",
        ]
        head = "| exercise | clips | frames | before | after | clips needing recovery | no-person clips before | after |"
        if new:
            head += (
                " re-extracted clips (new code) | their share, v3 | new | no-person, new | several people "
                "| whole exercise, new | no-person clips, new |"
            )
        out += [head, "|" + "---|" * (head.count("|") - 1)]
        tot = {}
        for ex, r in fr.items():
            for k, v in r.items():
                tot[k] = tot.get(k, 0) + v
            out.append(_row(ex, r, new))
        out.append(_row("**all**", tot, new))
        out += ["", f"({_load(store['frames'])}.)", ""]
    for part, what in (
        ("timing", "recovery + main person on"),
        ("timing_default", "defaults (recovery on, main person off)"),
    ):
        if part not in store:
            continue
        t = store[part]["value"]
        ratio = t["on_s"] / t["off_s"]
        out += [f"## Extraction time on clips that need no recovery: {what}", "",
                f"{t['clips']} clips drawn with random.Random(0) from the {t['pool']} clips the tracker alone "
                f"finds on every frame; each extracted {t['repeats']} times with {what} and with recovery and "
                "main person off, alternating order, one process.", "",
                "| setting | seconds (all runs) |", "|---|---|",
                f"| {what} | {t['on_s']:.1f} |", f"| both off | {t['off_s']:.1f} |", "",
                f"Ratio: {ratio:.3f} ({100 * (ratio - 1):+.1f} %); median per-clip ratio "
                f"{t['per_clip_ratio_median']:.3f}. Clips where a second person was found: {t['multi_person']}. "
                f"({_load(store[part])}.)", ""]  # fmt: skip
    if "accuracy" in store:
        a = store["accuracy"]["value"]
        out += [
            "## Grouped 5-fold accuracy, default model (trees)",
            "",
            "Exercises with at least 7 clips (as `workout evaluate`), StratifiedGroupKFold, split seeds 0 to n-1. "
            "off = the clips that had recovered frames re-extracted with recover=False, the rest as on.",
            "",
            "Mean and std over the folds of all seeds; 'common' is the out-of-fold accuracy on the clips "
            "every row could use (a clip with nobody found is left out of that row).",
            "",
            "| cache | clips | skipped (no person) | seeds | accuracy | macro-F1 | accuracy, common clips |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, r in a.items():
            out.append(f"| {name} | {r['clips']} | {r['skipped']} | {r['seeds']} | {r['accuracy']:.3f} +- "
                       f"{r['accuracy_std']:.3f} | {r['macro_f1']:.3f} +- {r['macro_f1_std']:.3f} "
                       f"| {r['common_accuracy']:.3f} ({r['common_clips']}) |")  # fmt: skip
        out += ["", f"({_load(store['accuracy'])}.)", ""]
    if "notes" in store:
        out += ["## Notes", "", *store["notes"]["value"], ""]
    # Sections written by hand after later runs (pose version 5, main person on).
    if "later" in store:
        out += store["later"]["value"]
    return "\n".join(out)


def _row(ex: str, r: dict, new: bool) -> str:
    n = r["frames"]
    row = (f"| {ex} | {r['clips']} | {n} | {r['before'] / n:.3f} | {r['after'] / n:.3f} | {r['needs_recovery']} "
           f"| {r['none_before']} | {r['none_after']} |")  # fmt: skip
    if new:
        m = r.get("new_frames", 0)
        if m:
            row += (f" {r['new_clips']} | {r['new_old_found'] / m:.3f} | {r['new_found'] / m:.3f} | {r['new_none']} "
                    f"| {r['new_people']} |")  # fmt: skip
        else:
            row += " 0 | | | | |"
        row += f" {r['whole_new'] / n:.3f} | {r['whole_new_none']} |"
    return row
