// Workout classifier page: upload a clip to /api/predict and show the answer.
// Plain browser JavaScript, no libraries; every text from the server goes in via textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const els = {
    pick: $("pick"), drop: $("drop"), file: $("file"), limits: $("limits"),
    status: $("status"), fname: $("fname"), fsize: $("fsize"),
    uploadText: $("upload-text"), uploadPct: $("upload-pct"), uploadBar: $("upload-bar"),
    processing: $("processing"), processText: $("process-text"), elapsed: $("elapsed"),
    error: $("error"), errorTitle: $("error-title"), errorText: $("error-text"), errorAgain: $("error-again"),
    result: $("result"), resultFile: $("result-file"), label: $("label"), confidence: $("confidence"),
    warnings: $("warnings"), chart: $("chart"), facts: $("facts"), timelineBox: $("timeline-box"), timeline: $("timeline"),
    segments: $("segments"), videoBox: $("video-box"), video: $("video"), videoCaption: $("video-caption"),
    again: $("again"), modelInfo: $("model-info"),
  };
  const PALETTE = ["#2f6fed", "#e8833a", "#1f9d74", "#c94f7c", "#8a63d2", "#c9a227", "#2aa3c4", "#6b7a8f"];

  let health = null;      // /api/health answer, once loaded
  let busy = false;
  let xhr = null;
  let timer = null;
  let localUrl = null;    // object URL of the chosen file, for the preview

  // ---- formatting -------------------------------------------------------------------
  const pct = (p) => (p == null ? "" : `${Math.round(p * 100)}%`);
  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }
  function clock(s) {
    if (s == null || !isFinite(s)) return "";
    const m = Math.floor(s / 60);
    const r = Math.round(s - m * 60);
    return m ? `${m}:${String(r).padStart(2, "0")}` : `${s.toFixed(1)} s`;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  // ---- page states ------------------------------------------------------------------
  function show(which) {
    els.pick.hidden = which !== "pick";
    els.status.hidden = which !== "status";
    els.result.hidden = which !== "result";
    if (which !== "error") els.error.hidden = true;
  }

  function reset() {
    if (xhr) xhr.abort();
    xhr = null;
    busy = false;
    stopTimer();
    els.video.removeAttribute("src");
    els.video.load();
    if (localUrl) URL.revokeObjectURL(localUrl);
    localUrl = null;
    els.file.value = "";
    show("pick");
    els.error.hidden = true;
    els.drop.focus();
  }

  function fail(title, text) {
    busy = false;
    stopTimer();
    show("pick");
    els.errorTitle.textContent = title;
    els.errorText.textContent = text || "";
    els.error.hidden = false;
    document.body.dataset.state = "error";
  }

  function stopTimer() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  // ---- health: limits and model ---------------------------------------------------------
  async function loadHealth() {
    try {
      const r = await fetch("/api/health", { cache: "no-store" });
      if (!r.ok) throw new Error(`status ${r.status}`);
      health = await r.json();
      els.limits.textContent = `MP4, MOV, AVI, MKV or WebM · up to ${health.max_upload_mb} MB`;
      const n = health.classes.length;
      els.modelInfo.textContent = `Model: ${health.model.name}, ${n} exercise${n === 1 ? "" : "s"} (${health.classes.join(", ")})`;
    } catch (e) {
      fail("The server is not answering", "Check that `workout serve` is still running, then reload this page.");
    }
  }

  // ---- upload ---------------------------------------------------------------------------
  function start(file) {
    if (!file || busy) return;
    els.error.hidden = true;
    const limit = health ? health.max_upload_mb * 1024 * 1024 : Infinity;
    if (file.size > limit) {
      fail("This clip is too large", `${file.name} is ${size(file.size)}; this server accepts clips up to ${health.max_upload_mb} MB. Trim or compress it, then try again.`);
      return;
    }
    if (file.size === 0) {
      fail("This file is empty", `${file.name} has 0 bytes.`);
      return;
    }
    busy = true;
    document.body.dataset.state = "uploading";
    if (localUrl) URL.revokeObjectURL(localUrl);
    localUrl = file.type.startsWith("video/") ? URL.createObjectURL(file) : null;

    els.fname.textContent = file.name;
    els.fsize.textContent = size(file.size);
    els.uploadText.textContent = "Uploading";
    els.uploadPct.textContent = "0%";
    els.uploadBar.value = 0;
    els.processing.hidden = true;
    show("status");

    const form = new FormData();
    form.append("file", file, file.name);
    const wantAnnotated = !!(health && health.features && health.features.annotated_video);
    xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/predict${wantAnnotated ? "?annotate=true" : ""}`);
    xhr.responseType = "text";
    xhr.upload.onprogress = (ev) => {
      if (!ev.lengthComputable) return;
      const p = Math.round((ev.loaded / ev.total) * 100);
      els.uploadBar.value = p;
      els.uploadPct.textContent = `${p}%`;
    };
    xhr.upload.onload = processing;
    xhr.onload = () => finished(xhr, file);
    xhr.onerror = () => {
      if (file.size > limit) fail("This clip is too large", `The limit is ${health.max_upload_mb} MB.`);
      else fail("The upload failed", "The connection to the server was lost. Check that it is running and try again.");
    };
    xhr.onabort = () => { busy = false; };
    xhr.send(form);
  }

  function processing() {
    els.uploadBar.value = 100;
    els.uploadPct.textContent = "100%";
    els.uploadText.textContent = "Uploaded";
    els.processing.hidden = false;
    document.body.dataset.state = "processing";
    const t0 = Date.now();
    els.elapsed.textContent = "";
    stopTimer();
    timer = setInterval(() => {
      const s = Math.floor((Date.now() - t0) / 1000);
      els.elapsed.textContent = `${s} s`;
      if (s === 8) els.processText.textContent = "Still working: long clips take a while…";
    }, 1000);
    els.processText.textContent = "Finding the pose in each frame…";
  }

  function finished(req, file) {
    stopTimer();
    busy = false;
    xhr = null;
    let body = null;
    try { body = JSON.parse(req.responseText); } catch (e) { body = null; }
    if (req.status === 200 && body) {
      render(body, file);
      return;
    }
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    const titles = {
      400: "The upload was incomplete",
      413: "This clip is too large",
      415: "This file is not a video",
      422: "This video cannot be read",
      503: "The server is busy",
    };
    const title = titles[req.status] || `The server could not answer (error ${req.status})`;
    const hint = {
      415: " Choose a video file (MP4, MOV, AVI, MKV or WebM).",
      422: " It may be damaged or cut short; try another copy.",
      503: " Wait a minute and try again.",
    }[req.status] || "";
    fail(title, `${file.name}: ${detail || "no details given."}${hint}`);
  }

  // ---- the answer -------------------------------------------------------------------------
  function render(r, file) {
    document.body.dataset.state = "result";
    els.resultFile.textContent = r.video || file.name;
    els.label.classList.toggle("none", !r.label);
    els.label.dataset.label = r.label || "";
    if (!r.label) {
      els.label.textContent = "No answer for this clip";
      els.confidence.textContent = r.error ? `${r.error}. Film the whole body, well lit, and try again.` : "";
    } else {
      els.label.textContent = r.label;
      els.confidence.textContent = `${pct(r.confidence)} sure` + (r.label !== "unknown" ? "" : r.damaged ? " (too much of the clip is damaged to name one)" : " (not sure enough to name one)");
    }

    // what the decoder could not read of the clip: under the answer, which they qualify
    const warnings = Array.isArray(r.warnings) ? r.warnings : [];
    els.warnings.replaceChildren(...warnings.map((w) => el("li", null, w)));
    els.warnings.hidden = !warnings.length;

    // bar chart of the top answers
    els.chart.replaceChildren();
    (r.top || []).forEach((t, i) => {
      const row = el("li", "bar-row" + (i === 0 ? " best" : ""));
      row.append(el("span", "bar-name", t.label));
      const track = el("span", "bar-track");
      const fill = el("span", "bar-fill");
      track.append(fill);
      row.append(track, el("span", "bar-pct", pct(t.probability)));
      row.title = `${t.label}: ${(t.probability * 100).toFixed(1)}%`;
      els.chart.append(row);
      requestAnimationFrame(() => { fill.style.width = `${Math.max(t.probability * 100, 0.5)}%`; });
    });
    els.chart.parentElement.querySelector(".small-head").hidden = !(r.top && r.top.length);

    // facts: reps, form, duration, pose found
    els.facts.replaceChildren();
    const fact = (name, value, cls, note) => {
      const d = el("div");
      d.dataset.fact = name;
      d.append(el("dt", null, name));
      const dd = el("dd", cls || null, value);
      if (note) { dd.append(" "); dd.append(el("small", null, note)); }
      d.append(dd);
      els.facts.append(d);
    };
    if (typeof r.hold_seconds === "number") fact("Held", `${r.hold_seconds.toFixed(0)} s`);
    else if (typeof r.reps === "number") fact("Repetitions", String(r.reps));
    // per rep: tempo and the cue where a rep fell short
    for (const d of r.rep_details || []) {
      const cue = (d.cues || [])[0];
      fact(`Rep ${d.rep}`, `${d.turn.toFixed(1)} s: down ${d.down_s.toFixed(1)} s, up ${d.up_s.toFixed(1)} s`,
        cue ? "bad" : null, cue ? cue.replace(/^rep \d+: /, "") : null);
    }
    const form = formVerdict(r);
    if (form) fact("Form", form.text, form.cls, form.note);
    if (r.duration != null) fact("Clip length", clock(r.duration));
    if (r.detection_rate != null) fact("Body seen", pct(r.detection_rate), null, "of frames");

    renderTimeline(r.timeline);

    // video: the annotated clip when the server made one, else the clip itself (if the browser plays it)
    const src = r.annotated_video || localUrl;
    els.videoBox.hidden = !src;
    els.result.classList.toggle("has-video", !!src);
    if (src) {
      els.video.src = src;
      els.videoCaption.textContent = r.annotated_video
        ? "Annotated: skeleton, exercise and rep counter drawn on the clip."
        : "Your clip.";
      els.video.onerror = () => {
        if (!r.annotated_video) { els.videoBox.hidden = true; els.result.classList.remove("has-video"); }
        else els.videoCaption.textContent = "This browser cannot play the annotated clip.";
      };
    }
    show("result");
    els.again.focus({ preventScroll: true });
  }

  function formVerdict(r) {
    let f = r.form;
    if (f == null) return null;
    let label = f;
    let conf = r.form_confidence;
    let cues = r.form_cues || r.form_reasons;
    if (typeof f === "object") {
      label = f.label || f.verdict || f.form;
      conf = f.confidence != null ? f.confidence : f.probability;
      cues = f.cues || f.reasons || f.advice;
    }
    if (label == null) return null;
    label = String(label);
    const good = /^(correct|good|ok)$/i.test(label);
    const bad = /^(wrong|incorrect|bad)$/i.test(label);
    const notes = [];
    if (typeof conf === "number") notes.push(`${pct(conf)} sure`);
    if (Array.isArray(cues) && cues.length) notes.push(cues.join("; "));
    else if (typeof cues === "string") notes.push(cues);
    return { text: label, cls: good ? "good" : bad ? "bad" : "", note: notes.join(" · ") };
  }

  function renderTimeline(segs) {
    els.timeline.replaceChildren();
    els.segments.replaceChildren();
    const ok = Array.isArray(segs) && segs.length > 1;
    els.timelineBox.hidden = !ok;
    if (!ok) return;
    const order = [...new Set(segs.map((s) => s.label))];  // one color per exercise, in order of appearance
    const t0 = segs[0].start || 0;
    const total = Math.max((segs[segs.length - 1].end || 0) - t0, 1e-6);
    for (const s of segs) {
      const color = PALETTE[order.indexOf(s.label) % PALETTE.length];
      const part = el("span");
      part.style.flex = `${Math.max((s.end - s.start) / total, 0.005)} 0 0`;
      part.style.background = color;
      part.title = `${s.label} ${clock(s.start)}–${clock(s.end)}`;
      els.timeline.append(part);
      const li = el("li");
      const sw = el("span", "swatch");
      sw.style.background = color;
      li.append(sw, `${clock(s.start)}–${clock(s.end)}  `);
      li.append(el("strong", null, s.label));
      const extra = [];
      if (typeof s.reps === "number") extra.push(`${s.reps} reps`);
      if (typeof s.confidence === "number") extra.push(`${pct(s.confidence)} sure`);
      if (extra.length) li.append(` (${extra.join(", ")})`);
      els.segments.append(li);
    }
  }

  // ---- events -----------------------------------------------------------------------------
  els.file.addEventListener("change", () => start(els.file.files[0]));
  els.again.addEventListener("click", reset);
  els.errorAgain.addEventListener("click", reset);
  els.drop.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); els.file.click(); }
  });
  els.drop.tabIndex = 0;
  ["dragenter", "dragover"].forEach((t) => els.drop.addEventListener(t, (ev) => {
    ev.preventDefault();
    els.drop.classList.add("over");
  }));
  ["dragleave", "dragend", "drop"].forEach((t) => els.drop.addEventListener(t, () => els.drop.classList.remove("over")));
  els.drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (f) start(f);
  });
  // A file dropped anywhere else must not make the browser navigate away from the page.
  window.addEventListener("dragover", (ev) => ev.preventDefault());
  window.addEventListener("drop", (ev) => {
    ev.preventDefault();
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (f && !els.pick.hidden) start(f);
  });

  document.body.dataset.state = "ready";
  loadHealth();
})();
