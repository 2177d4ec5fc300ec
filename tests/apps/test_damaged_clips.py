"""A damaged clip says it is damaged (issue 28): predict's answers, the Python API's Result, the
table of `workout predict` and /api/predict carry the same warnings; a clean clip carries none.

Damaged copies are made here (tests/damaging.py) from a generated H.264 clip (nobody in it: the
answer is the error "no person", and the warnings still say what could not be read) and, where
../shared is present, from a real squat clip (answered: the label is `unknown` or carries them).
"""

from __future__ import annotations

import re

import pytest
from avclips import write_clip
from conftest import real_clip
from damaging import cut, faststart, flip_bits, zero_block
from fastapi.testclient import TestClient
from test_serve import model_for_tests
from typer.testing import CliRunner

from workout_classifier.api import load_model
from workout_classifier.serve import create_app

REAL = "squat/squat_16.mp4"  # about 2 s, one person (as in test_serve)


def _copies(src, d) -> dict:
    clean = faststart(src, d / "clean.mp4")
    return {
        "clean": clean,
        "zeroed": zero_block(clean, d / "zeroed.mp4", share=0.2, where=0.4),
        "flipped": flip_bits(clean, d / "flipped.mp4", bits=40, seed=3),
        "cut": cut(clean, d / "cut.mp4", 0.5),
    }


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return model_for_tests(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("damaged")
    return _copies(write_clip(d / "raw.mp4", n=60, fps=30, size=(160, 120)), d)


def _numbers_masked(warnings: list[str]) -> list[str]:
    """Damaged-frame counts may differ by a frame or two between two decodes (FFmpeg's threads log
    as they go); the sentences must not."""
    return [re.sub(r"\d+(\.\d+)?", "#", w) for w in warnings]


def test_python_api_warns_for_damage_and_not_for_a_clean_clip(model_path, synthetic):
    res = dict(
        zip(synthetic, load_model(model_path).predict(list(synthetic.values())), strict=True)
    )
    assert res["clean"].warnings == [] and res["clean"].to_dict()["warnings"] == []
    for kind in ("zeroed", "flipped"):
        assert res[kind].warnings, kind
        assert "frames could not be decoded" in res[kind].warnings[0]
        assert res[kind].to_dict()["warnings"] == res[kind].warnings
    assert res["cut"].warnings and res["cut"].warnings[0].startswith("only ")
    assert "of the stated 2.0 s could be read" in res["cut"].warnings[0]


def test_the_table_marks_a_damaged_answer_and_says_why_under_it(model_path, synthetic):
    from workout_classifier.cli import app

    args = ["predict", str(synthetic["clean"]), str(synthetic["zeroed"])]
    out = (
        CliRunner().invoke(app, args + (["--model", str(model_path)] if model_path else [])).output
    )
    lines = out.splitlines()
    under = [ln for ln in lines if ln.startswith("! zeroed.mp4: ")]
    assert under and "frames could not be decoded" in under[0]
    assert not any("clean.mp4:" in ln for ln in lines)  # the clean clip: no line under the table
    row = next(ln for ln in lines if "zeroed.mp4" in ln and ln.startswith("│"))
    assert " ! " in row  # the mark in the table


def test_web_api_carries_the_same_warnings(model_path, synthetic, tmp_path):
    model = load_model(model_path)
    app = create_app(model_path, max_upload_mb=1, workers=1, tmp_dir=tmp_path, warm_up=False)
    with TestClient(app) as client:
        for kind in ("clean", "zeroed", "cut"):
            data = synthetic[kind].read_bytes()
            r = client.post("/api/predict", files={"file": (f"{kind}.mp4", data, "video/mp4")})
            assert r.status_code == 200, r.text
            web = r.json()["warnings"]
            api = model.predict(synthetic[kind]).warnings
            assert _numbers_masked(web) == _numbers_masked(api), kind
            assert bool(web) == (kind != "clean")
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Prediction"]
        assert "warnings" in schema["properties"]


@pytest.mark.slow
def test_a_damaged_real_clip_is_not_answered_as_if_whole(model_path, real_clips, tmp_path):
    copies = _copies(real_clip(real_clips, REAL), tmp_path)
    answers = load_model(model_path).predict(list(copies.values()), reps=True, timeline=True)
    res = dict(zip(copies, answers, strict=True))
    clean = res["clean"]
    assert clean.error is None and clean.warnings == [] and clean.answer["damaged"] is False
    for kind in ("zeroed", "flipped"):
        r = res[kind]
        assert r.error is None and r.warnings, kind
        if r.answer["damaged"]:  # too damaged: no exercise named, and the reason said
            assert r.label == "unknown" and "no exercise is named" in r.warnings[-1]
    # the timeline's segments over the zeroed stretch say so themselves; the clean clip's do not
    assert any(s.get("warnings") for s in res["zeroed"].timeline)
    assert not any(s.get("warnings") for s in clean.timeline)
    assert not any(d.get("warnings") for d in clean.rep_details)
    # cut cleanly: answered from what is there, saying how much that was
    c = res["cut"]
    assert c.error is None and c.label is not None and not c.answer["damaged"]
    assert len(c.warnings) == 1 and c.warnings[0].startswith("only ")


def test_old_cache_files_without_a_decode_report_still_warn(model_path, synthetic, tmp_path):
    """A cache made before extraction kept the report: predict decodes the clip again for it."""
    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.landmarks import PoseSequence
    from workout_classifier.predict import pose_settings_for

    model = load_model(model_path)
    cache = tmp_path / "cache"
    first = model.predict(synthetic["zeroed"], cache=cache)
    pc = PoseCache(cache, pose_settings_for(model.classifier))
    path = pc.data_path(pc.key(synthetic["zeroed"]))
    seq = PoseSequence.load(path)
    del seq.meta["decode"]
    seq.save(path)
    again = model.predict(synthetic["zeroed"], cache=cache)
    assert again.warnings and _numbers_masked(again.warnings) == _numbers_masked(first.warnings)
