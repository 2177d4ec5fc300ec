// Camera mode: the browser's camera -> JPEG frames over a WebSocket (/api/live) -> skeleton, exercise and
// rep count drawn over the live picture. One frame in flight at a time: the newest camera frame is sent
// when the previous answer is back, so nothing queues and stale frames are simply not sent (counted).
// Latency is measured here, from the camera frame's capture time (requestVideoFrameCallback's captureTime,
// else the time it was presented) to the overlay drawn for it; the server echoes the frame id.
// A person small in the picture is sent as a crop of the full-resolution frame (camzoom.js; `?zoom=0` on
// the page's address turns that off).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const els = {
    start: $("camera-start"), stop: $("camera-stop"), box: $("camera"), pick: $("pick"), video: $("cam-video"),
    overlay: $("cam-overlay"), label: $("cam-label"), conf: $("cam-conf"), reps: $("cam-reps"), set: $("cam-set"),
    cues: $("cam-cues"), stats: $("cam-stats"), sets: $("cam-sets"),
    error: $("error"), errorTitle: $("error-title"), errorText: $("error-text"),
  };
  if (!els.start) return;
  // Body bones (MediaPipe's indices), the face left out as in the annotated clips.
  const BONES = [[11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [11, 23], [12, 24], [23, 24], [23, 25],
    [25, 27], [27, 29], [29, 31], [27, 31], [24, 26], [26, 28], [28, 30], [30, 32], [28, 32], [15, 17], [16, 18]];
  const SEND_WIDTH = 480;  // the pose model looks at 256 px; smaller frames travel faster

  const KEEP = 5000;  // latency samples kept for the figures (minutes of frames)

  let stream = null, ws = null, running = false;
  let sent = new Map();            // frame id -> {captured (performance.now() clock), view sent}
  let nextId = 1, inFlight = false, t0 = 0;
  let presented = 0, presentedAtReady = 0, sentCount = 0;
  let latest = null, lastSentFrame = -1;  // the newest camera frame's {n, captured}, the last one sent
  let waiting = false;  // an answer came back before the camera had a new frame: send on the next one
  const latencies = [];
  const grab = document.createElement("canvas");
  const zoom = new window.CamZoom(new URLSearchParams(location.search).get("zoom") !== "0");
  let viewSent = null;  // the last "view" told to the server (JSON), null: none yet
  // Read by the browser test and bench/live.py: counts, latency percentiles and the raw samples.
  // found: answers with a person; zoomed: of those, the ones on a crop (the sample's `zoomed` says which).
  window.liveStats = { frames: 0, dropped: 0, p50: null, p95: null, fps: 0, label: null, reps: 0, maxReps: 0,
    clock: "", samples: [], found: 0, zoomed: 0, zoom: zoom.enabled };

  function showError(title, text) {
    els.errorTitle.textContent = title;
    els.errorText.textContent = text;
    els.error.hidden = false;
    document.body.dataset.state = "error";
  }

  function pctile(arr, q) {
    if (!arr.length) return null;
    const s = [...arr].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((q / 100) * s.length))];
  }

  async function start() {
    els.error.hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showError("The camera is not available here",
        "This browser gives the camera only to secure pages: open the page as https:// or on localhost.");
      return;
    }
    try {
      // 720p where the camera has it (the whole 16:9 view): the whole picture still travels 480 px wide, and a
      // crop around a small person (camzoom.js) is cut from these pixels. (640 x 480, asked before, crops a
      // 16:9 camera to 4:3; see docs/live.md for both measured.)
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    } catch (e) {
      const denied = e && (e.name === "NotAllowedError" || e.name === "SecurityError");
      const none = e && (e.name === "NotFoundError" || e.name === "OverconstrainedError" || e.name === "NotReadableError");
      if (denied) showError("Camera access was denied", "Allow the camera for this site in the browser's settings, then press \u201cUse the camera instead\u201d again.");
      else if (none) showError("No camera found", "Connect a camera (or close the program using it), then try again; or upload a clip.");
      else showError("The camera could not start", String((e && e.message) || e));
      return;
    }
    els.pick.hidden = true;
    els.box.hidden = false;
    els.label.textContent = "Connecting…";
    els.sets.replaceChildren();
    els.video.srcObject = stream;
    await els.video.play().catch(() => {});
    document.body.dataset.state = "camera";
    running = true;
    latencies.length = 0; sent.clear(); presented = 0; sentCount = 0; inFlight = false;
    latest = null; lastSentFrame = -1; waiting = false;
    zoom.reset(); viewSent = null;
    Object.assign(window.liveStats, { frames: 0, dropped: 0, p50: null, p95: null, fps: 0, label: null, reps: 0,
      maxReps: 0, samples: [], found: 0, zoomed: 0 });
    countFrames();
    connect();
  }

  function countFrames() {
    // Frames the camera presented (the ones not sent are the dropped ones) and when each was captured.
    if (!running || !els.video.requestVideoFrameCallback) return;
    els.video.requestVideoFrameCallback((now, meta) => {
      presented++;
      const captured = meta.captureTime || meta.presentationTime || now;
      window.liveStats.clock = meta.captureTime ? "capture" : "presentation";
      latest = { n: presented, captured };
      countFrames();
      if (waiting) { waiting = false; sendFrame(); }
    });
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/api/live`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
    ws.onclose = () => { if (running) { stopCamera(); showError("The live connection closed", "The server stopped or restarted; press \u201cUse the camera instead\u201d to try again."); } };
  }

  function onMessage(m) {
    if (m.type === "ready") { t0 = performance.now(); presentedAtReady = presented; els.label.textContent = "Looking for a person…"; sendFrame(); return; }
    if (m.type === "error") {
      if (m.id == null) { stopCamera(); showError("Camera mode is busy", m.message); return; }
      inFlight = false; sendFrame(); return;
    }
    if (m.type === "summary") { renderSummary(m); return; }
    if (m.type !== "frame") return;
    const s = sent.get(m.id);
    sent.delete(m.id);
    draw(m, s && s.view);
    zoom.update(m.landmarks, els.video.videoWidth, els.video.videoHeight);
    const st = window.liveStats;
    const found = !!m.landmarks, zoomed = !!(s && s.view);
    if (s != null) {
      const ms = performance.now() - s.captured;  // capture -> overlay drawn
      latencies.push(ms);
      if (latencies.length > KEEP) latencies.shift();
      // hips: where the person is (the mid-hip, shares of the whole picture), to check a crop's mapping back.
      const hips = found ? [0, 1].map((k) => (m.landmarks[23][k] + m.landmarks[24][k]) / 2) : null;
      st.samples.push({ id: m.id, at: performance.now() - t0, ms, server_ms: m.server_ms, reps: m.reps, label: m.label,
        found, zoomed, hips });
      if (st.samples.length > KEEP) st.samples.shift();
    }
    st.frames++;
    st.found += found;
    st.zoomed += found && zoomed;
    st.label = m.label; st.reps = m.reps; st.maxReps = Math.max(st.maxReps, m.reps);
    st.p50 = pctile(latencies, 50); st.p95 = pctile(latencies, 95);
    const secs = (performance.now() - t0) / 1000;
    st.fps = secs > 0 ? st.frames / secs : 0;
    st.dropped = Math.max(presented - presentedAtReady - sentCount, 0);
    els.stats.textContent = `${st.fps.toFixed(1)} frames/s processed · ${st.dropped} camera frames skipped · latency p50 ${Math.round(st.p50)} ms, p95 ${Math.round(st.p95)} ms`;
    inFlight = false;
    sendFrame();
  }

  function sendFrame() {
    if (!running || inFlight || !ws || ws.readyState !== WebSocket.OPEN) return;
    const v = els.video;
    if (!v.videoWidth) { setTimeout(sendFrame, 30); return; }
    if (latest && latest.n === lastSentFrame) { waiting = true; return; }  // this frame was sent already
    const view = zoom.draw(v, grab, SEND_WIDTH);  // the whole picture, or a crop around a small person
    // The frame just drawn is the newest presented one (no callback support: now, a little late).
    const captured = latest ? latest.captured : performance.now();
    if (latest) lastSentFrame = latest.n;
    const id = nextId++;
    inFlight = true;
    grab.toBlob((blob) => {
      if (!blob || !running) { inFlight = false; return; }
      blob.arrayBuffer().then((buf) => {
        const msg = new Uint8Array(12 + buf.byteLength);
        const dv = new DataView(msg.buffer);
        dv.setUint32(0, id, true);
        dv.setFloat64(4, (captured - t0) / 1000, true);
        msg.set(new Uint8Array(buf), 12);
        sent.set(id, { captured, view });
        sentCount++;
        if (!ws || ws.readyState !== WebSocket.OPEN) { inFlight = false; return; }
        const said = JSON.stringify(view);
        if (said !== viewSent) { ws.send(JSON.stringify({ type: "view", region: view })); viewSent = said; }
        ws.send(msg.buffer);  // after its view: a socket keeps the order
      });
    }, "image/jpeg", 0.75);
  }

  function draw(m, view) {
    const c = els.overlay, v = els.video;
    c.width = v.videoWidth || 640;
    c.height = v.videoHeight || 480;
    const g = c.getContext("2d");
    g.clearRect(0, 0, c.width, c.height);
    if (view) {  // the part of the picture the pose model was given (a crop around a small person, or a tile)
      g.lineWidth = 1;
      g.strokeStyle = "rgba(255, 255, 255, 0.5)";
      g.setLineDash([6, 6]);
      g.strokeRect(view[0] * c.width, view[1] * c.height, (view[2] - view[0]) * c.width, (view[3] - view[1]) * c.height);
      g.setLineDash([]);
    }
    const lm = m.landmarks;
    if (lm) {
      g.lineWidth = Math.max(2, c.width / 220);
      g.strokeStyle = "#3cdc3c";
      g.fillStyle = "#ffffff";
      for (const [a, b] of BONES) {
        if (lm[a][2] < 0.3 || lm[b][2] < 0.3) continue;
        g.beginPath();
        g.moveTo(lm[a][0] * c.width, lm[a][1] * c.height);
        g.lineTo(lm[b][0] * c.width, lm[b][1] * c.height);
        g.stroke();
      }
      for (let j = 11; j < 33; j++) {
        if (lm[j][2] < 0.3) continue;
        g.beginPath();
        g.arc(lm[j][0] * c.width, lm[j][1] * c.height, g.lineWidth * 1.2, 0, 2 * Math.PI);
        g.fill();
      }
    }
    els.label.textContent = m.label || (lm ? "Watching…" : "Looking for a person…");
    els.label.dataset.label = m.label || "";
    els.conf.textContent = m.confidence != null ? `${Math.round(m.confidence * 100)}% sure` : "";
    els.reps.textContent = String(m.reps);
    els.set.textContent = m.set ? `· set ${m.set}` : "";
    els.cues.textContent = (m.form_cues || []).join("; ");
  }

  function renderSummary(s) {
    els.sets.replaceChildren();
    (s.sets || []).forEach((st, i) => {
      const li = document.createElement("li");
      li.textContent = `Set ${i + 1}: ${st.label}, ${st.reps} reps (${(st.end - st.start).toFixed(0)} s)`;
      els.sets.append(li);
    });
    if (!(s.sets || []).length) els.label.textContent = "No exercise recognised";
  }

  function stopCamera() {
    running = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
  }

  function stop() {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "stop" }));
      const sock = ws;
      setTimeout(() => sock.close(), 3000);
    }
    stopCamera();
    ws = null;
    els.stop.textContent = "Done";
    els.stop.onclick = () => { els.box.hidden = true; els.pick.hidden = false; els.stop.textContent = "Stop"; els.stop.onclick = null; };
  }

  els.start.addEventListener("click", start);
  els.stop.addEventListener("click", () => { if (running) stop(); });
})();
