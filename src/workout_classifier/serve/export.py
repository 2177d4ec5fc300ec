"""An answer as CSV, for GET /api/jobs/{id}/result.csv (the page's download).

One table, one row per thing: the clip (`clip`), each timeline segment (`segment`), each counted
rep (`rep`), each form cue (`form`). Columns that do not apply to a row are empty.
"""

from __future__ import annotations

import csv
import io

COLUMNS = ["kind", "index", "start_s", "end_s", "label", "confidence", "reps", "duration_s",
           "down_s", "up_s", "range", "cues"]  # fmt: skip


def answer_rows(r: dict) -> list[dict]:
    rows = [{"kind": "clip", "index": 0, "start_s": 0, "end_s": r.get("duration"), "label": r.get("label"),
             "confidence": r.get("confidence"), "reps": r.get("reps"), "duration_s": r.get("duration"),
             "cues": r.get("error") or ""}]  # fmt: skip
    for i, s in enumerate(r.get("timeline") or [], 1):
        rows.append({"kind": "segment", "index": i, "start_s": s.get("start"), "end_s": s.get("end"),
                     "label": s.get("label"), "confidence": s.get("confidence"), "reps": s.get("reps"),
                     "duration_s": _minus(s.get("end"), s.get("start"))})  # fmt: skip
    for d in r.get("rep_details") or []:
        rows.append({"kind": "rep", "index": d.get("rep"), "start_s": d.get("start"), "end_s": d.get("end"),
                     "label": r.get("label"), "duration_s": _minus(d.get("end"), d.get("start")),
                     "down_s": d.get("down_s"), "up_s": d.get("up_s"), "range": d.get("range"),
                     "cues": "; ".join(d.get("cues") or [])})  # fmt: skip
    if r.get("form"):
        rows.append({"kind": "form", "index": 0, "label": r["form"], "confidence": r.get("form_confidence"),
                     "cues": "; ".join(r.get("form_cues") or [])})  # fmt: skip
    return rows


def answer_csv(r: dict) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in answer_rows(r):
        w.writerow({k: _cell(row.get(k)) for k in COLUMNS})
    return out.getvalue()


def _minus(a, b):
    return round(a - b, 2) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None


def _cell(v):
    if v is None:
        return ""
    text = str(v)
    # A cell a spreadsheet would run as a formula starts with a quote instead.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
