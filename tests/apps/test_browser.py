"""End to end in a real browser: uvicorn on a free 127.0.0.1 port, headless Chromium driven by Playwright.

Uses Debian's Chromium (`apt-get install chromium`; Playwright's own browser
download is not used) and skips with the reason where Playwright, Chromium or
the real clips are missing. Screenshots go to $WORKOUT_SCREENSHOTS when set
(e.g. bench/results), else to pytest's temp folder.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import real_clip
from test_serve import REAL_CLIP, model_for_tests

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


class LiveServer:
    """The app under uvicorn in a thread; `url` waits until startup (worker warm-up) is done."""

    def __init__(self, app):
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        deadline = time.monotonic() + 120
        while not self.server.started:
            assert self.thread.is_alive(), "the server stopped during startup"
            assert time.monotonic() < deadline, "the server did not start within 120 s"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def need_browser():
    """Skip (before starting anything) where Playwright or Chromium is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)"
        )
    return sync_api


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    need_browser()
    pytest.importorskip("uvicorn")
    from workout_classifier.serve import create_app

    root = tmp_path_factory.mktemp("live")
    server = LiveServer(
        create_app(model_for_tests(root), max_upload_mb=50, workers=1, tmp_dir=root)
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = need_browser()
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as e:  # e.g. missing shared libraries
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(e).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture
def page(live, browser):
    """A fresh page on the live server; every URL it requests is recorded."""
    ctx = browser.new_context(viewport=DESKTOP)
    pg = ctx.new_page()
    pg.requested, pg.problems = [], []
    pg.on("request", lambda req: pg.requested.append(req.url))
    pg.on("pageerror", lambda exc: pg.problems.append(f"script error: {exc}"))
    pg.on("console", lambda msg: msg.type == "error" and pg.problems.append(f"console: {msg.text}"))
    pg.base = live.url
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("WORKOUT_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(pg):
    pg.goto(pg.base + "/")
    pg.wait_for_selector("#model-info:not(:empty)")  # /api/health answered


def only_local_requests(pg) -> None:
    foreign = [u for u in pg.requested if not u.startswith((pg.base, "blob:", "data:"))]
    assert not foreign, f"the page fetched from elsewhere: {foreign}"


def no_script_errors(pg, allow: tuple[str, ...] = ()) -> None:
    """No script errors and no console errors (CSP violations show up there)."""
    problems = [p for p in pg.problems if not any(a in p for a in allow)]
    assert not problems, problems


def fits_width(pg) -> bool:
    return pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# Every value the job's progress bar shows, in order (set before the page's scripts run).
WATCH_PROGRESS = """
window.__progress = [];
new MutationObserver(() => {
  const bar = document.getElementById("job-bar");
  if (bar) window.__progress.push(Number(bar.value));
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["value"]});
"""


def stub_done_job(pg, answer: dict, job_id: str) -> None:
    """Answer the page's job API with a job that is done with `answer` (no server work)."""
    job = {"id": job_id, "video": answer.get("video"), "state": "done", "progress": 1.0, "stage": "done",
           "eta_s": 0, "result": answer, "partial": None, "error": None, "status": None}  # fmt: skip
    pg.route(
        "**/api/jobs?*", lambda route: route.fulfill(status=202, json={**job, "state": "queued"})
    )
    pg.route("**/api/jobs/*/events", lambda route: route.fulfill(
        body=f"data: {json.dumps(job)}\n\n", headers={"Content-Type": "text/event-stream"}))  # fmt: skip


def test_upload_a_real_clip_and_see_the_answer(page, real_clips, shots):
    clip = real_clip(real_clips, REAL_CLIP)
    page.add_init_script(WATCH_PROGRESS)
    open_page(page)
    with page.expect_response(lambda r: r.url.endswith("/api/jobs?annotate=true")) as created:
        page.set_input_files("#file", str(clip))
    assert created.value.status == 202
    job_id = created.value.json()["id"]
    page.wait_for_selector("#processing:not([hidden])")  # upload done, the job under way
    assert page.text_content("#upload-pct") == "100%"
    page.screenshot(path=str(shots / "web-processing.png"))
    page.wait_for_selector("body[data-state='result']", timeout=120_000)
    answer = page.request.get(f"{page.base}/api/jobs/{job_id}").json()["result"]

    # The bar moved forward through the job's stages to the end, never back.
    seen = page.evaluate("window.__progress")
    assert seen == sorted(seen) and seen[-1] == 100 and len(set(seen)) >= 3, seen
    assert answer["label"], answer
    assert page.text_content("#label") == answer["label"]
    assert page.inner_text("#label") == answer["label"].title()  # shown capitalized
    assert page.text_content("#result-file") == clip.name
    rows = page.locator("#chart .bar-row")
    assert rows.count() == len(answer["top"])
    assert rows.first.locator(".bar-name").text_content() == answer["top"][0]["label"]
    assert (
        rows.first.locator(".bar-pct").text_content()
        == f"{round(answer['top'][0]['probability'] * 100)}%"
    )
    # The timeline as a chart: one bar per segment.
    assert page.locator("#timeline-chart svg .seg").count() == len(answer["timeline"]) >= 1
    assert page.locator("#error").is_hidden()
    assert page.evaluate("sessionStorage.getItem('workout-job')") is None  # the job is over

    with page.expect_download() as dl:
        page.click("text=Download JSON")
    assert dl.value.suggested_filename == "squat_16.json"
    assert json.loads(Path(dl.value.path()).read_text()) == answer
    page.wait_for_timeout(600)  # let the bars finish growing
    page.screenshot(path=str(shots / "web.png"), full_page=True)
    assert fits_width(page)

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    page.screenshot(path=str(shots / "web-phone.png"), full_page=True)
    assert fits_width(page), "the page scrolls sideways at phone width"
    only_local_requests(page)
    no_script_errors(page)

    page.click("#again")  # back to the start, ready for another clip
    assert page.locator("#drop").is_visible() and page.locator("#result").is_hidden()


def test_a_job_is_found_again_after_a_reload(page, real_clips):
    clip = real_clip(real_clips, REAL_CLIP)
    open_page(page)
    with page.expect_response(
        lambda r: "/api/jobs" in r.url and r.request.method == "POST"
    ) as created:
        page.set_input_files("#file", str(clip))
    job_id = created.value.json()["id"]
    assert json.loads(page.evaluate("sessionStorage.getItem('workout-job')"))["id"] == job_id
    page.reload()  # mid-job (or just after): the page follows the same job, no second upload
    page.wait_for_selector("body[data-state='result']", timeout=120_000)
    assert page.text_content("#result-file") == clip.name
    posts = [u for u in page.requested if u.endswith("/api/jobs?annotate=true")]
    assert len(posts) == 1
    no_script_errors(page)


def test_a_text_file_gets_a_clear_message(page, shots):
    open_page(page)
    page.set_viewport_size(PHONE)
    page.set_input_files(
        "#file",
        files=[{"name": "notes.mp4", "mimeType": "video/mp4", "buffer": b"not a video\n" * 50}],
    )
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error-title") == "This file is not a video"
    text = page.text_content("#error-text")
    assert "notes.mp4" in text and "not a video" in text
    assert page.locator("#result").is_hidden() and page.locator("#drop").is_visible()
    page.screenshot(path=str(shots / "web-error-phone.png"), full_page=True)
    assert fits_width(page)
    only_local_requests(page)
    no_script_errors(page, allow=("415",))  # the browser logs the failed request itself


def test_reps_form_and_timeline_are_shown_when_the_answer_has_them(page, shots):
    """A long session's answer, from a stubbed job, rendered by the page: chart, sets, rep table, form."""
    reps = [{"rep": i + 1, "start": 2.0 * i, "turn": 2.0 * i + 0.8, "end": 2.0 * i + 1.7, "down_s": 0.8,
             "up_s": 0.9, "range": 0.41, "cues": [f"rep {i + 1}: hips sagging"] if i == 3 else []}
            for i in range(12)]  # fmt: skip
    fake = {
        "video": "session.mp4", "label": "push up", "confidence": 0.91, "error": None,
        "top": [{"label": "push up", "probability": 0.91}, {"label": "bench press", "probability": 0.06},
                {"label": "squat", "probability": 0.03}],
        "windows": 9, "duration": 74.2, "detection_rate": 0.97, "reps": 12, "rep_details": reps,
        "form": "wrong", "form_confidence": 0.84, "form_cues": ["hips sagging"],
        "timeline": [{"start": 0.0, "end": 30.5, "label": "push up", "confidence": 0.93, "reps": 12},
                     {"start": 30.5, "end": 36.0, "label": "resting", "confidence": 1.0, "reps": 0},
                     {"start": 36.0, "end": 41.0, "label": "squat", "confidence": 0.7, "reps": 0},
                     {"start": 41.0, "end": 60.0, "label": "lunges", "confidence": 0.88, "reps": 9},
                     {"start": 60.0, "end": 74.2, "label": "push up", "confidence": 0.8, "reps": 6}],
        "exercises": [{"label": "push up", "seconds": 44.7}, {"label": "squat", "seconds": 10.5},
                      {"label": "lunges", "seconds": 19.0}],
    }  # fmt: skip
    stub_done_job(page, fake, "f" * 32)
    open_page(page)
    page.set_input_files(
        "#file", files=[{"name": "session.mp4", "mimeType": "video/mp4", "buffer": b"\0" * 64}]
    )
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#label") == "push up"
    assert page.text_content("[data-fact='Repetitions'] dd") == "12"
    several = page.text_content("[data-fact='Exercises'] dd")
    assert several.startswith("push up 45 s, squat 11 s, lunges 19 s") and "timeline" in several
    form = page.locator("[data-fact='Form'] dd")
    assert form.text_content().startswith("wrong") and "84% sure" in form.text_content()
    assert "hips sagging" in form.text_content() and "bad" in form.get_attribute("class")
    assert page.locator("#timeline-box").is_visible()
    assert page.locator("#timeline-chart .seg").count() == 5
    legend = page.locator("#timeline-chart .segments li")
    assert legend.count() == 5 and "lunges" in legend.nth(3).text_content()
    assert "set 2" in legend.nth(4).text_content() and "6 reps" in legend.nth(4).text_content()
    rest = legend.nth(1).text_content()
    assert "resting" in rest and "set" not in rest and "rep" not in rest
    rows = page.locator("#rep-table tbody tr")
    assert rows.count() == 12 and "hips sagging" in rows.nth(3).text_content()
    assert "bad" in rows.nth(3).get_attribute("class")
    assert page.get_attribute("text=Download CSV", "href") == f"/api/jobs/{'f' * 32}/result.csv"
    page.wait_for_timeout(600)
    page.screenshot(path=str(shots / "web-extras.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert fits_width(page)
