"""Camera mode end to end: headless Chromium with a fake camera fed from a real clip, the app under uvicorn.

The clip is converted to .y4m by the test (tests/fakecam.py) and played by
Chromium as the camera; the page sends its frames over WS /api/live and draws
the answers. Asserts the label shown, the rep counter rising, the latency figures
the page measures (recorded, not timed: speed targets are in bench/live.py), the
summary at Stop and the server's session freed; that a lifter small in a 720p
picture is found on most frames by zooming (camzoom.js), clearly more than with
the zoom off; and that a denied or missing camera gets a clear message. Skips with the reason where Playwright, Chromium or
../shared is missing.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from conftest import real_clip, small_copy
from fakecam import camera_args, live_stats, open_camera_mode, wait_until, write_y4m
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    LiveServer,
    fits_width,
    need_browser,
)
from test_live import REAL_LIVE_CLIP
from test_serve import model_for_tests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_browser()
    pytest.importorskip("uvicorn")
    from workout_classifier.serve import create_app

    root = tmp_path_factory.mktemp("camera")
    app = create_app(model_for_tests(root), workers=1, tmp_dir=root, warm_up=False)
    srv = LiveServer(app)
    srv.app = app
    yield srv
    srv.stop()


def launch(sync_api, args: list[str]):
    p = sync_api.sync_playwright().start()
    try:
        return p, p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + args)
    except Exception as e:  # e.g. missing shared libraries
        p.stop()
        pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(e).splitlines()[0]}")


def watch(pg) -> None:
    pg.requested, pg.problems = [], []
    pg.on("request", lambda req: pg.requested.append(req.url))
    pg.on("pageerror", lambda exc: pg.problems.append(f"script error: {exc}"))
    pg.on("console", lambda msg: msg.type == "error" and pg.problems.append(f"console: {msg.text}"))


def test_camera_mode_shows_the_label_and_counts_reps(server, real_clips, tmp_path, record_property):
    sync_api = need_browser()
    cam = write_y4m(
        real_clip(real_clips, REAL_LIVE_CLIP), tmp_path / "camera.y4m", fps=30, width=480
    )
    p, browser = launch(sync_api, camera_args(cam["path"]))
    try:
        pg = browser.new_context(viewport=DESKTOP).new_page()
        watch(pg)
        base = server.url
        open_camera_mode(pg, base)
        assert len(server.app.state.camera.active) == 1  # this page's session holds one worker
        # The clip shows push-ups (4 in 12 s; the fake camera loops it): the label, then reps counted as they happen.
        wait_until(pg, "document.getElementById('cam-label').dataset.label === 'push up'")
        first = int(pg.text_content("#cam-reps"))
        wait_until(
            pg, f"Number(document.getElementById('cam-reps').textContent) >= {max(first, 1) + 1}"
        )
        st = live_stats(pg)
        shown = [s["reps"] for s in st["samples"]]
        assert st["maxReps"] >= 2 and shown[-1] >= 2
        assert all(b >= a for a, b in zip(shown, shown[1:], strict=False)), (
            "the rep counter went down"
        )
        assert pg.locator("#cam-overlay").is_visible() and pg.locator("#error").is_hidden()
        # The page's own figures: every answered frame has a latency, capture to overlay drawn.
        assert st["frames"] >= 20 and len(st["samples"]) == st["frames"]
        assert all(math.isfinite(s["ms"]) and s["ms"] > 0 for s in st["samples"])
        assert 0 < st["p50"] <= st["p95"] and st["fps"] > 0
        for key in ("fps", "p50", "p95", "dropped", "frames", "clock"):
            record_property(f"camera_{key}", st[key])
        print(f"\ncamera mode: {st['fps']:.1f} frames/s processed, latency p50 {st['p50']:.0f} ms, "
              f"p95 {st['p95']:.0f} ms ({st['clock']} time), {st['dropped']} camera frames skipped")  # fmt: skip

        pg.set_viewport_size(PHONE)
        pg.wait_for_timeout(300)
        assert fits_width(pg), "camera mode scrolls sideways at phone width"
        assert pg.locator("#cam-reps").is_visible()

        pg.click("#camera-stop")  # the summary of the session, then the socket closes
        pg.wait_for_selector("#cam-sets li")
        assert "push up" in pg.text_content("#cam-sets")
        deadline = time.monotonic() + 30
        while server.app.state.camera.active and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not server.app.state.camera.active, "the closed session still holds its worker"
        foreign = [u for u in pg.requested if not u.startswith((base, "blob:", "data:"))]
        assert not foreign, f"the page fetched from elsewhere: {foreign}"
        assert not pg.problems, pg.problems
    finally:
        browser.close()
        p.stop()


def test_camera_mode_zooms_on_a_lifter_small_in_the_picture(
    server, real_clips, tmp_path, record_property
):
    """The phone at the back of the room (as test_live's CLI test): a squat at a fifth of a 720p picture's
    height, near its lower right corner, as the camera. The page zooms on a crop of the full-resolution
    frame, and maps the landmarks back to the whole picture; with `?zoom=0` it sends the whole picture
    (480 px wide), where the server's own zoom (pose/zoom.py, on that small copy) is all there is."""
    sync_api = need_browser()
    far = small_copy(real_clip(real_clips, "squat/squat_11.mp4"), tmp_path / "far.mp4", 0.2)
    cam = write_y4m(far, tmp_path / "far.y4m", fps=15, width=1280)
    p, browser = launch(sync_api, camera_args(cam["path"]))
    hit, after = {}, {}
    try:
        for zoom in (True, False):
            pg = browser.new_context(viewport=DESKTOP).new_page()
            watch(pg)
            open_camera_mode(pg, server.url, "" if zoom else "?zoom=0")
            size = pg.evaluate(
                "(v => [v.videoWidth, v.videoHeight])(document.getElementById('cam-video'))"
            )
            wait_until(pg, "window.liveStats.frames >= 150", timeout=180)
            st = live_stats(pg)
            pg.click("#camera-stop")
            pg.close()
            assert st["zoom"] is zoom and not pg.problems, pg.problems
            s = st["samples"][:150]
            found = [x["found"] for x in s]
            first = found.index(True) if any(found) else len(s)
            hit[zoom] = sum(found) / len(s)
            after[zoom] = sum(found[first:]) / max(len(s) - first, 1)  # once found the first time
            zoomed = sum(x["found"] and x["zoomed"] for x in s) / len(s)
            record_property(f"camera_small_hit_zoom_{int(zoom)}", round(hit[zoom], 3))
            print(f"\nsmall lifter, zoom {'on' if zoom else 'off'}: picture {size[0]}x{size[1]}, person found "
                  f"on {hit[zoom]:.2f} of {len(s)} answered frames ({zoomed:.2f} on a crop), first at frame "
                  f"{first}, {after[zoom]:.2f} from then on; {st['fps']:.1f} frames/s")  # fmt: skip
            if zoom:
                # A look (9 tiles, one per frame) after every 3 missed whole pictures; a tile finds this
                # lifter on about half the frames: found by the 7th look (frame 83) but for 1 run in 100.
                assert first < 90, "no look found the lifter"
                assert after[zoom] >= 0.9 and zoomed >= 0.9 * hit[zoom], (after, zoomed)
                x, y = np.median([x["hips"] for x in s if x["found"]], axis=0)
                assert x > 900 / 1280 and y > 0.7, (x, y)  # on the lifter, in the lower right
            else:
                assert zoomed == 0
    finally:
        browser.close()
        p.stop()
    assert hit[False] <= min(hit[True], 0.5) - 0.2, hit


@pytest.mark.parametrize(
    ("args", "title"),
    [
        (
            ["--use-fake-device-for-media-stream"],
            "Camera access was denied",
        ),  # the prompt is answered no
        (["--use-fake-ui-for-media-stream"], "No camera found"),  # allowed, but there is no camera
    ],
    ids=["denied", "no-camera"],
)
def test_no_camera_gives_a_clear_message(server, args, title):
    sync_api = need_browser()
    p, browser = launch(sync_api, args)
    try:
        pg = browser.new_context(viewport=PHONE).new_page()
        watch(pg)
        pg.goto(server.url + "/")
        pg.wait_for_selector("#model-info:not(:empty)")
        pg.click("#camera-start")
        pg.wait_for_selector("#error:not([hidden])", timeout=30_000)
        assert pg.text_content("#error-title") == title
        assert pg.text_content("#error-text").strip()
        assert pg.locator("#camera").is_hidden() and pg.locator("#pick").is_visible()
        assert not server.app.state.camera.active  # no socket was opened
        assert fits_width(pg) and not pg.problems, pg.problems
    finally:
        browser.close()
        p.stop()
