// The detailed answer on the page: the timeline as a chart over time (sets and reps of each
// segment), the per-rep table and the downloads. Used by app.js as window.WorkoutAnswer.
// Plain browser JavaScript; every text from the server goes in via textContent.
"use strict";

window.WorkoutAnswer = (function () {
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2f6fed", "#e8833a", "#1f9d74", "#c94f7c", "#8a63d2", "#c9a227", "#2aa3c4", "#6b7a8f"];
  const LANE = 34, TOP = 8, AXIS = 24, LEFT = 8;
  let drawn = null;  // the chart's host and answer, redrawn at the new width when the window resizes

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text != null) e.textContent = text;
    return e;
  }
  function clock(s) {
    if (s == null || !isFinite(s)) return "";
    const m = Math.floor(s / 60);
    const r = Math.round(s - m * 60);
    return m ? `${m}:${String(r).padStart(2, "0")}` : `${s.toFixed(1)} s`;
  }
  const pct = (p) => (p == null ? "" : `${Math.round(p * 100)}%`);
  // Why an answer is `unknown`, as the CLI says it (cli/use.py unknown_reason).
  function unknownWhy(r) {
    if (r.damaged) return " (too much of the clip is damaged to name one)";
    if (r.resting) return " (the body looks at rest)";
    const rom = r.range_of_motion;
    if (r.out_of_range && rom) {
      const lim = rom.min != null ? `under the ${Math.round(rom.min)}° a ${r.top[0].label} needs`
        : `over the ${Math.round(rom.max)}° a ${r.top[0].label} allows`;
      return ` (the ${rom.joint} moves ${Math.round(rom.degrees)}°, ${lim})`;
    }
    if (r.out_of_stance && r.stance_rule) return ` (${r.stance_rule.says})`;
    return " (not sure enough to name one)";
  }
  const colors = (segs) => {
    const order = [...new Set(segs.map((s) => s.label))];  // one color per exercise, in order of appearance
    const ex = order.filter((l) => l !== "resting");  // a rest between sets is grey, not an exercise's color
    return { order, of: (label) => (label === "resting" ? "#a4acb6" : PALETTE[ex.indexOf(label) % PALETTE.length]) };
  };

  // Segments of the same exercise are its sets, numbered in order.
  function withSets(segs) {
    const n = {};
    return segs.map((s) => ({ ...s, set: (n[s.label] = (n[s.label] || 0) + 1) }));
  }

  function tickStep(total, ticks) {
    for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) if (total / s <= ticks) return s;
    return 1200;
  }

  // The chart: one lane per exercise, a bar per segment from its start to its end, each rep a
  // tick at its turning point; the time axis below.
  function timelineChart(host, r) {
    host.replaceChildren();
    drawn = { host, r };
    // As wide as its box (text stays the same size on a phone), at least 320 units.
    const W = Math.max(320, Math.round(host.clientWidth || 800));
    // Drawn while its box is still hidden (the answer is shown after): again once it is laid out.
    if (!host.clientWidth) requestAnimationFrame(() => { if (host.clientWidth && drawn.host === host) timelineChart(host, r); });
    const segs = withSets(Array.isArray(r.timeline) ? r.timeline : []);
    if (!segs.length) return false;
    const { order, of } = colors(segs);
    const t0 = Math.min(0, segs[0].start || 0);
    const t1 = Math.max(segs[segs.length - 1].end || 0, r.duration || 0, t0 + 1e-3);
    const x = (t) => LEFT + ((t - t0) / (t1 - t0)) * (W - 2 * LEFT);
    const h = TOP + order.length * LANE + AXIS;
    const chart = svg("svg", { viewBox: `0 0 ${W} ${h}`, class: "chart", role: "img",
      "aria-label": `Timeline: ${segs.map((s) => `${s.label} ${clock(s.start)} to ${clock(s.end)}`).join(", ")}` });
    order.forEach((label, i) => {
      chart.append(svg("rect", { x: LEFT, y: TOP + i * LANE, width: W - 2 * LEFT, height: LANE - 6, class: "lane" }));
    });
    const turns = (r.rep_details || []).map((d) => d.turn);
    for (const s of segs) {
      const lane = order.indexOf(s.label);
      const y = TOP + lane * LANE;
      const g = svg("g", { class: "seg", "data-label": s.label });
      const w = Math.max(x(s.end) - x(s.start), 2);
      g.append(svg("rect", { x: x(s.start), y, width: w, height: LANE - 6, rx: 4, fill: of(s.label), class: "seg-bar" }));
      const rest = s.label === "resting";  // a rest has no set number and no reps
      const reps = typeof s.reps === "number" && !rest ? `${s.reps} rep${s.reps === 1 ? "" : "s"}` : "";
      const text = `${s.label}${rest ? "" : ` · set ${s.set}`}${reps ? " · " + reps : ""}`;
      if (w > text.length * 6.5) g.append(svg("text", { x: x(s.start) + 6, y: y + LANE / 2, class: "seg-text" }, text));
      else if (reps && w > 26) g.append(svg("text", { x: x(s.start) + 4, y: y + LANE / 2, class: "seg-text" }, String(s.reps)));
      g.append(svg("title", {}, `${text} · ${clock(s.start)}–${clock(s.end)} · ${pct(s.confidence)} sure`));
      for (const t of turns.filter((t) => t >= s.start && t < s.end)) {
        g.append(svg("line", { x1: x(t), x2: x(t), y1: y + LANE - 12, y2: y + LANE - 6, class: "rep-tick" }));
      }
      chart.append(g);
    }
    const axisY = TOP + order.length * LANE;
    chart.append(svg("line", { x1: LEFT, x2: W - LEFT, y1: axisY, y2: axisY, class: "axis" }));
    const step = tickStep(t1 - t0, Math.max(3, Math.floor(W / 90)));
    for (let t = Math.ceil(t0 / step) * step; t <= t1 + 1e-6; t += step) {
      chart.append(svg("line", { x1: x(t), x2: x(t), y1: axisY, y2: axisY + 4, class: "axis" }));
      const anchor = x(t) < 30 ? "start" : x(t) > W - 30 ? "end" : "middle";
      chart.append(svg("text", { x: x(t), y: axisY + 17, class: "axis-text", "text-anchor": anchor }, clock(t)));
    }
    host.append(chart);
    // The legend under the chart: every segment in words, for a screen reader and a small screen.
    const list = el("ol", "segments");
    for (const s of segs) {
      const li = el("li");
      const sw = el("span", "swatch");
      sw.style.background = of(s.label);
      const rest = s.label === "resting";
      li.append(sw, `${clock(s.start)}–${clock(s.end)}  `, el("strong", null, s.label), rest ? "" : ` set ${s.set}`);
      const extra = [];
      if (typeof s.reps === "number" && !rest) extra.push(`${s.reps} rep${s.reps === 1 ? "" : "s"}`);
      if (typeof s.confidence === "number") extra.push(`${pct(s.confidence)} sure`);
      if (extra.length) li.append(` (${extra.join(", ")})`);
      list.append(li);
    }
    host.append(list);
    return true;
  }

  // One row per counted rep: when, how long, the two halves, range of motion and its cues.
  function repTable(host, r) {
    host.replaceChildren();
    const reps = r.rep_details || [];
    if (!reps.length) return false;
    const table = el("table", "reps");
    const head = el("tr");
    for (const h of ["Rep", "Time", "Duration", "Down / up", "Range", "Cues"]) head.append(el("th", null, h));
    table.append(el("thead"));
    table.tHead.append(head);
    const body = el("tbody");
    for (const d of reps) {
      const cues = (d.cues || []).map((c) => c.replace(/^rep \d+: /, ""));
      const tr = el("tr", cues.length ? "bad" : null);
      tr.append(el("td", null, String(d.rep)), el("td", null, clock(d.turn)),
        el("td", null, `${(d.end - d.start).toFixed(1)} s`),
        el("td", null, `${d.down_s.toFixed(1)} s / ${d.up_s.toFixed(1)} s`),
        // The defining joint's degrees where the exercise has one (knee, elbow, hip, shoulder), else the signal's units.
        el("td", null, typeof d.range_deg === "number" ? `${d.joint} ${Math.round(d.range_deg)}°`
          : typeof d.range === "number" ? d.range.toFixed(2) : ""),
        el("td", null, cues.length ? cues.join("; ") : "ok"));
      body.append(tr);
    }
    table.append(body);
    host.append(table);
    return true;
  }

  // The answer as files: from the job on the server when there is one, else made here.
  function downloads(host, r, jobId) {
    host.replaceChildren();
    const stem = (r.video || "answer").replace(/\.[^.]+$/, "");
    const link = (text, href, name) => {
      const a = el("a", "button secondary-plain", text);
      a.href = href;
      a.download = name;
      return a;
    };
    if (jobId) {
      host.append(link("Download JSON", `/api/jobs/${jobId}/result.json`, `${stem}.json`),
        link("Download CSV", `/api/jobs/${jobId}/result.csv`, `${stem}.csv`));
    } else {
      const blob = new Blob([JSON.stringify(r, null, 1)], { type: "application/json" });
      host.append(link("Download JSON", URL.createObjectURL(blob), `${stem}.json`));
    }
  }

  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      if (drawn && drawn.host.isConnected && !drawn.host.closest("[hidden]")) timelineChart(drawn.host, drawn.r);
    }, 150);
  });

  return { timelineChart, repTable, downloads, clock, pct, unknownWhy };
})();
