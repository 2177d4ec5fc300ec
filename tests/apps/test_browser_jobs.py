"""A long job on the page, in a real browser (see test_browser): the cancel button stops the job on
the server (DELETE /api/jobs/{id}) and goes back to the start. The job API is stubbed with a running
job (no server work)."""

from __future__ import annotations

import json

import pytest
from test_browser import (  # noqa: F401
    browser,
    live,
    no_script_errors,
    open_page,
    page,
)

pytestmark = pytest.mark.slow

JOB_ID = "c" * 32


def stub_running_job(pg, deleted: list) -> None:
    """A job that stays running; DELETE answers it cancelled (recorded)."""
    view = {"id": JOB_ID, "video": "session.mp4", "state": "running", "progress": 0.4, "stage": "pose",
            "eta_s": 30, "result": None, "partial": None, "error": None,
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
