"""The page shows an answer's warnings under it (issue 28), and why an answer is `unknown`, in a real browser
(see test_browser)."""

from __future__ import annotations

import pytest
from test_browser import (  # noqa: F401
    PHONE,
    browser,
    fits_width,
    live,
    no_script_errors,
    open_page,
    page,
    stub_done_job,
)

pytestmark = pytest.mark.slow

WARNINGS = [
    "130 of 239 frames could not be decoded (at 1.9-4.0 s, 4.2 s); the answer may be wrong",
    "more than 50% of the frames are damaged: no exercise is named",
]


def _answer(pg, answer: dict) -> None:
    stub_done_job(pg, answer, "e" * 32)  # the page runs uploads as jobs
    open_page(pg)
    pg.set_input_files(
        "#file", files=[{"name": "clip.mp4", "mimeType": "video/mp4", "buffer": b"\0" * 64}]
    )
    pg.wait_for_selector("#result:not([hidden])")


def test_warnings_are_shown_under_the_answer(page):  # noqa: F811
    fake = {"video": "clip.mp4", "label": "unknown", "confidence": 0.62, "error": None, "damaged": True,
            "top": [{"label": "squat", "probability": 0.62}, {"label": "lunges", "probability": 0.2}],
            "windows": 2, "duration": 8.0, "detection_rate": 0.9, "warnings": WARNINGS}  # fmt: skip
    _answer(page, fake)
    assert page.locator("#warnings").is_visible()
    assert page.locator("#warnings li").all_text_contents() == WARNINGS
    assert "damaged" in page.text_content("#confidence")
    # under the answer: below the label, above the chart
    y = {s: page.locator(s).bounding_box()["y"] for s in ("#label", "#warnings", "#chart")}
    assert y["#label"] < y["#warnings"] < y["#chart"]
    page.set_viewport_size(PHONE)
    assert fits_width(page)
    no_script_errors(page)


def test_a_clean_answer_shows_no_warnings(page):  # noqa: F811
    fake = {"video": "clip.mp4", "label": "squat", "confidence": 0.9, "error": None, "damaged": False,
            "top": [{"label": "squat", "probability": 0.9}], "warnings": []}  # fmt: skip
    _answer(page, fake)
    assert page.locator("#warnings").is_hidden() and page.locator("#warnings li").count() == 0
    no_script_errors(page)


@pytest.mark.parametrize(
    "extra, says",
    [
        ({}, "not sure enough"),
        ({"resting": True}, "at rest"),
        ({"out_of_range": True, "range_of_motion": {"joint": "knee", "degrees": 12.4, "min": 34.3}},
         "the knee moves 12°, under the 34° a squat needs"),
        ({"out_of_range": True, "range_of_motion": {"joint": "elbow", "degrees": 61.0, "max": 19.7}},
         "the elbow moves 61°, over the 20° a squat allows"),
        ({"out_of_stance": True, "stance_rule": {"measure": "feet_apart", "value": 1.2, "min": 2.2,
                                                 "says": "the feet get 1.2 hip widths apart"}},
         "the feet get 1.2 hip widths apart"),
    ],
)  # fmt: skip
def test_an_unknown_answer_says_why(page, extra, says):  # noqa: F811
    fake = {"video": "clip.mp4", "label": "unknown", "confidence": 0.55, "error": None, "damaged": False,
            "top": [{"label": "squat", "probability": 0.55}], "warnings": [], **extra}  # fmt: skip
    _answer(page, fake)
    assert says in page.text_content("#confidence")
    no_script_errors(page)
