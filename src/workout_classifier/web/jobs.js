// Jobs on the server (/api/jobs): send a clip, follow its progress, find it again after a reload.
// Used by app.js as window.WorkoutJobs. The job's id is kept in sessionStorage until it ends.
"use strict";

window.WorkoutJobs = (function () {
  const KEY = "workout-job";

  function remember(id, name) {
    try { sessionStorage.setItem(KEY, JSON.stringify({ id, name })); } catch (e) { /* private mode */ }
  }
  function forget() {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
  }
  function remembered() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }

  // Upload `file` to /api/jobs; `on.progress(fraction)` while it goes, then `on.created(job)` (202)
  // or `on.refused(status, detail)`, or `on.lost()` when the connection fails. Returns the XHR (abort()).
  function submit(file, query, on) {
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/jobs${query ? "?" + query : ""}`);
    xhr.responseType = "text";
    xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) on.progress(ev.loaded / ev.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 202 && body && body.id) {
        remember(body.id, file.name);
        on.created(body);
      } else {
        on.refused(xhr.status, body && typeof body.detail === "string" ? body.detail : "");
      }
    };
    xhr.onerror = () => on.lost();
    xhr.send(form);
    return xhr;
  }

  // Follow a job: `onView(view)` on every change (server-sent events; polling if those fail),
  // `onGone()` when the server no longer knows it. Returns a function that stops following.
  function follow(id, onView, onGone) {
    let stopped = false, source = null, timer = null;
    const ended = (v) => v.state === "done" || v.state === "failed" || v.state === "cancelled";
    const stop = () => {
      stopped = true;
      if (source) source.close();
      if (timer) clearTimeout(timer);
    };
    const seen = (v) => {
      if (stopped) return;
      if (ended(v)) { stop(); forget(); }
      onView(v);
    };
    async function poll() {
      if (stopped) return;
      try {
        const r = await fetch(`/api/jobs/${id}`, { cache: "no-store" });
        if (r.status === 404) { stop(); forget(); onGone(); return; }
        if (r.ok) seen(await r.json());
      } catch (e) { /* the server is restarting or the network blips: try again */ }
      if (!stopped) timer = setTimeout(poll, 1000);
    }
    if (window.EventSource) {
      source = new EventSource(`/api/jobs/${id}/events`);
      source.onmessage = (ev) => { try { seen(JSON.parse(ev.data)); } catch (e) { /* not ours */ } };
      source.onerror = () => {  // a 404, a dropped stream, a proxy that buffers: fall back to polling
        if (stopped) return;
        source.close();
        source = null;
        poll();
      };
    } else {
      poll();
    }
    return stop;
  }

  // Cancel a job (DELETE /api/jobs/{id}): the server stops its work and removes its files.
  async function cancel(id) {
    forget();
    try { await fetch(`/api/jobs/${id}`, { method: "DELETE" }); } catch (e) { /* gone already */ }
  }

  // "12 s left", "1:05 left"; nothing before an estimate exists.
  function eta(s) {
    if (s == null || !isFinite(s)) return "";
    if (s < 60) return `about ${Math.max(1, Math.round(s))} s left`;
    const m = Math.floor(s / 60);
    return `about ${m}:${String(Math.round(s - m * 60)).padStart(2, "0")} left`;
  }

  const STAGES = {
    queued: "Waiting for a free worker…",
    reading: "Reading the video…",
    pose: "Finding the pose in each frame…",
    answer: "Naming the exercise, counting reps…",
    annotate: "Drawing the skeleton on the clip…",
    done: "Done",
    failed: "Failed",
    cancelled: "Cancelled",
  };
  const stageText = (v) => STAGES[v.stage] || STAGES[v.state] || v.stage || "";

  return { submit, follow, cancel, remembered, forget, eta, stageText };
})();
