"""Per-rep details of a counted clip (analysis/repdetail.py): times, tempo, range and cues."""

from synth import synthetic_sequence

from workout_classifier.analysis.reps import count_reps


def test_rep_details_cover_each_rep_in_order():
    from workout_classifier.analysis.repdetail import rep_details

    seq = synthetic_sequence("squat", seconds=12, seed=15)
    res = count_reps(seq, "squat")
    det = rep_details(res)
    assert len(det) == res.reps >= 4
    for d in det:
        assert (
            d["start"] < d["turn"] < d["end"]
            and d["down_s"] > 0
            and d["up_s"] > 0
            and d["range"] > 0
        )
        assert d["down_s"] + d["up_s"] < 1.2 * res.period
    assert all(a["end"] <= b["start"] + 1e-6 for a, b in zip(det, det[1:], strict=False))


def test_each_rep_has_its_defining_joint_range_and_cues_when_short_or_rushed(monkeypatch):
    from workout_classifier.analysis import repdetail

    seq = synthetic_sequence("squat", seconds=12, seed=15)
    res = count_reps(seq, "squat")
    det = repdetail.rep_details(res, seq)
    assert all(d["joint"] == "knee" and d["range_deg"] > 40 for d in det)  # standing to the bottom
    assert not any("short range" in c or "rushed" in c for d in det for c in d["cues"])
    # Against a norm twice each rep's range, every rep is short; the cue names the joint and degrees.
    monkeypatch.setitem(repdetail.TYPICAL_RANGE, "squat", 2.1 * max(d["range_deg"] for d in det))
    short = repdetail.rep_details(res, seq)
    assert all(
        any(c.startswith(f"rep {d['rep']}: short range (knee ") for c in d["cues"]) for d in short
    )
    # A rep much shorter than the clip's others is rushed.
    monkeypatch.setattr(
        repdetail, "RUSHED_SHARE", 1.5
    )  # every rep under 1.5x the median is "rushed"
    assert any("rushed" in c for d in repdetail.rep_details(res, seq) for c in d["cues"])
    curl = synthetic_sequence("curl", seconds=12, seed=15)  # an exercise with no defining joint
    assert all("joint" not in d for d in repdetail.rep_details(count_reps(curl, "curl"), curl))
