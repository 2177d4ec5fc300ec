"""A long job on the page, in a real browser (see test_browser): the timeline so far is drawn while
the job runs, and the cancel button stops the job on the server (DELETE /api/jobs/{id}) and goes
back to the start. The job API is stubbed with a running job (no server work)."""

from __future__ import annotations

import json

import pytest
from test_browser import (  # noqa: F401
    PHONE,
    browser,
    fits_width,
    live,
    no_script_errors,
    open_page,
    page,
    shots,
)

pytestmark = pytest.mark.slow

JOB_ID = "c" * 32
SO_FAR = {"until": 61.5, "segments": [
    {"start": 0.0, "end": 32.0, "label": "squat", "confidence": 0.81, "reps": 9},
    {"start": 32.0, "end": 61.6, "label": "push up", "confidence": 0.74, "reps": 6},
]}  # fmt: skip


def stub_running_job(pg, deleted: list) -> None:
    """A job that stays running with a timeline so far; DELETE answers it cancelled (recorded)."""
    view = {"id": JOB_ID, "video": "session.mp4", "state": "running", "progress": 0.4, "stage": "pose",
            "eta_s": 30, "result": None, "partial": None, "timeline_so_far": SO_FAR, "error": None,
            "status": None, "elapsed_s": 20}  # fmt: skip
    pg.route(
        "**/api/jobs?*", lambda route: route.fulfill(status=202, json={**view, "state": "queued"})
    )
    pg.route("**/api/jobs/*/events", lambda route: route.fulfill(
        body=f"data: {json.dumps(view)}\n\n", headers={"Content-Type": "text/event-stream"}))  # fmt: skip

    def job(route):
        if route.request.method == "DELETE":
            deleted.append(route.request.url)
            route.fulfill(json={**view, "state": "cancelled", "stage": "cancelled"})
        else:
            route.fulfill(json=view)

    pg.route(f"**/api/jobs/{JOB_ID}", job)


def _upload(pg) -> None:
    open_page(pg)
    pg.set_input_files(
        "#file", files=[{"name": "session.mp4", "mimeType": "video/mp4", "buffer": b"\0" * 64}]
    )


def test_the_timeline_so_far_is_drawn_while_the_job_runs(page, shots):  # noqa: F811
    stub_running_job(page, [])
    _upload(page)
    page.wait_for_selector("#so-far-box:not([hidden])")
    assert "1:02" in page.text_content("#so-far-head")  # how far the clip is done
    bars = page.locator("#so-far-chart .seg")
    assert bars.count() == 2
    assert [bars.nth(i).get_attribute("data-label") for i in range(2)] == ["squat", "push up"]
    assert page.locator("#result").is_hidden()  # no answer yet: the job goes on
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "web-so-far.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert fits_width(page)
    no_script_errors(page)


def test_the_cancel_button_stops_the_job_on_the_server(page):  # noqa: F811
    deleted: list[str] = []
    stub_running_job(page, deleted)
    _upload(page)
    page.wait_for_selector("body[data-stage='pose']")
    page.click("#cancel")
    page.wait_for_selector("#pick:not([hidden])")
    page.wait_for_function(
        "() => !sessionStorage.getItem('workout-job')"
    )  # not found again on reload
    assert deleted == [f"{page.base}/api/jobs/{JOB_ID}"]
    assert page.locator("#status").is_hidden() and page.locator("#error").is_hidden()
    no_script_errors(page)
