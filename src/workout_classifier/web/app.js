// Workout classifier page: upload a clip as a job (/api/jobs, see jobs.js), follow its progress, show
// the answer (the detailed parts in answer.js). A job in progress is found again after a reload.
// Plain browser JavaScript, no libraries; every text from the server goes in via textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const els = {
    pick: $("pick"), drop: $("drop"), file: $("file"), limits: $("limits"),
    status: $("status"), fname: $("fname"), fsize: $("fsize"),
    uploadText: $("upload-text"), uploadPct: $("upload-pct"), uploadBar: $("upload-bar"),
    processing: $("processing"), processText: $("process-text"), elapsed: $("elapsed"),
    jobPct: $("job-pct"), jobBar: $("job-bar"), eta: $("eta"), cancel: $("cancel"),
    soFarBox: $("so-far-box"), soFarHead: $("so-far-head"), soFarChart: $("so-far-chart"),
    error: $("error"), errorTitle: $("error-title"), errorText: $("error-text"), errorAgain: $("error-again"),
    result: $("result"), resultFile: $("result-file"), label: $("label"), confidence: $("confidence"),
    warnings: $("warnings"), chart: $("chart"), facts: $("facts"), timelineBox: $("timeline-box"), timelineChart: $("timeline-chart"),
    repsBox: $("reps-box"), repTable: $("rep-table"), downloads: $("downloads"),
    videoBox: $("video-box"), video: $("video"), videoCaption: $("video-caption"),
    again: $("again"), modelInfo: $("model-info"),
  };
  const Jobs = window.WorkoutJobs, Answer = window.WorkoutAnswer;

  let health = null;      // /api/health answer, once loaded
  let busy = false;
  let xhr = null;
  let timer = null;
  let localUrl = null;    // object URL of the chosen file, for the preview
  let unfollow = null;    // stops following the job in progress
  let partialShown = false;
  let jobId = null;       // the job being followed, for the cancel button

  // ---- formatting -------------------------------------------------------------------
  const pct = Answer.pct, clock = Answer.clock, unknownWhy = Answer.unknownWhy;
  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
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
    els.status.hidden = which !== "status" && which !== "partial";  // partial: the answer while the clip is drawn
    els.result.hidden = which !== "result" && which !== "partial";
    if (which !== "error") els.error.hidden = true;
  }

  function reset() {
    if (xhr) xhr.abort();
    xhr = null;
    if (unfollow) unfollow();
    unfollow = null;
    jobId = null;
    els.soFarBox.hidden = true;
    Jobs.forget();
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

    const wantAnnotated = !!(health && health.features && health.features.annotated_video);
    xhr = Jobs.submit(file, wantAnnotated ? "annotate=true" : "", {
      progress: (f) => {
        const p = Math.round(f * 100);
        els.uploadBar.value = p;
        els.uploadPct.textContent = `${p}%`;
      },
      created: (job) => { xhr = null; follow(job.id, file.name); },
      refused: (status, detail) => { xhr = null; refused(status, detail, file.name); },
      lost: () => {
        xhr = null;
        if (file.size > limit) fail("This clip is too large", `The limit is ${health.max_upload_mb} MB.`);
        else fail("The upload failed", "The connection to the server was lost. Check that it is running and try again.");
      },
    });
  }

  // The clip is on the server: its job's progress until the answer (also after a page reload).
  function follow(id, name) {
    busy = true;
    jobId = id;
    partialShown = false;
    els.soFarBox.hidden = true;
    els.fname.textContent = name;
    els.uploadBar.value = 100;
    els.uploadPct.textContent = "100%";
    els.uploadText.textContent = "Uploaded";
    els.processing.hidden = false;
    els.jobBar.value = 0;
    els.jobPct.textContent = "0%";
    els.eta.textContent = "";
    els.processText.textContent = Jobs.stageText({ stage: "queued" });
    document.body.dataset.state = "processing";
    show("status");
    stopTimer();
    let since = null;
    timer = setInterval(() => {
      if (since != null) els.elapsed.textContent = `${Math.floor((Date.now() - since) / 1000)} s`;
    }, 1000);
    unfollow = Jobs.follow(id, (v) => {
      if (v.elapsed_s != null && since == null) since = Date.now() - v.elapsed_s * 1000;
      els.jobBar.value = Math.round(v.progress * 100);
      els.jobPct.textContent = pct(v.progress);
      els.processText.textContent = Jobs.stageText(v);
      els.eta.textContent = v.state === "running" ? Jobs.eta(v.eta_s) : "";
      document.body.dataset.stage = v.stage || "";
      soFar(v.timeline_so_far);
      if (v.state === "done") { unfollow = null; done(v.result, id); }
      else if (v.state === "failed") { unfollow = null; refused(v.status || 500, v.error, v.video || name); }
      else if (v.state === "cancelled") { unfollow = null; reset(); }  // cancelled elsewhere (another tab)
      else if (v.partial && !partialShown) {  // the answer is known; the annotated clip is still being drawn
        partialShown = true;
        render(v.partial, null);
        show("partial");
      }
    }, () => { unfollow = null; fail("This job is no longer on the server", "The server restarted or the job was too old. Upload the clip again."); });
  }

  // A long clip's timeline from the frames posed so far, drawn while the job goes on.
  function soFar(t) {
    const segs = t && Array.isArray(t.segments) ? t.segments : [];
    if (!segs.length || partialShown) return;
    els.soFarHead.textContent = `Timeline so far (the first ${clock(t.until)})`;
    els.soFarBox.hidden = false;
    document.body.dataset.soFar = String(segs.length);
    Answer.timelineChart(els.soFarChart, { timeline: segs, duration: t.until });
  }

  // Cancel: an upload in flight is aborted, a job on the server is stopped (DELETE), then back to the start.
  function cancel() {
    const id = jobId;
    reset();
    if (id) Jobs.cancel(id);
  }

  function done(result, id) {
    stopTimer();
    jobId = null;
    els.soFarBox.hidden = true;
    busy = false;
    render(result, id);
  }

  function refused(status, detail, name) {
    const titles = {
      400: "The upload was incomplete",
      413: "This clip is too large",
      415: "This file is not a video",
      422: "This video cannot be read",
      503: "The server is busy",
    };
    const title = titles[status] || `The server could not answer (error ${status})`;
    const hint = {
      415: " Choose a video file (MP4, MOV, AVI, MKV or WebM).",
      422: " It may be damaged or cut short; try another copy.",
      503: " Wait a minute and try again.",
    }[status] || "";
    fail(title, `${name}: ${detail || "no details given."}${hint}`);
  }

  // ---- the answer -------------------------------------------------------------------------
  function render(r, jobId) {
    document.body.dataset.state = jobId === null ? "partial" : "result";
    els.resultFile.textContent = r.video || "";
    els.label.classList.toggle("none", !r.label);
    els.label.dataset.label = r.label || "";
    if (!r.label) {
      els.label.textContent = "No answer for this clip";
      els.confidence.textContent = r.error ? `${r.error}. Film the whole body, well lit, and try again.` : "";
    } else {
      els.label.textContent = r.label;
      els.confidence.textContent = `${pct(r.confidence)} sure` + (r.label !== "unknown" ? "" : unknownWhy(r));
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
    if (Array.isArray(r.exercises) && r.exercises.length) {  // a session: the answer above is for all of it
      fact("Exercises", r.exercises.map((e) => `${e.label} ${Math.round(e.seconds)} s`).join(", "), null,
        "several in this clip; the timeline shows each part");
    }
    if (typeof r.hold_seconds === "number") fact("Held", `${r.hold_seconds.toFixed(0)} s`);
    else if (typeof r.reps === "number") fact("Repetitions", String(r.reps));
    const form = formVerdict(r);
    if (form) fact("Form", form.text, form.cls, form.note);
    if (r.duration != null) fact("Clip length", clock(r.duration));
    if (r.detection_rate != null) fact("Body seen", pct(r.detection_rate), null, "of frames");

    els.timelineBox.hidden = !Answer.timelineChart(els.timelineChart, r);
    els.repsBox.hidden = !Answer.repTable(els.repTable, r);
    Answer.downloads(els.downloads, r, jobId);

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
    if (jobId === null) return;  // a partial answer: the job goes on
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

  // ---- events -----------------------------------------------------------------------------
  els.file.addEventListener("change", () => start(els.file.files[0]));
  els.again.addEventListener("click", reset);
  els.cancel.addEventListener("click", cancel);
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
  loadHealth().then(() => {
    const job = Jobs.remembered();  // a job this tab started before a reload
    if (job && !busy) {
      els.fsize.textContent = "";
      follow(job.id, job.name);
    }
  });
})();
