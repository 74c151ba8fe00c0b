// The timeline of one run, drawn as SVG from its journal entry's `timeline`: one lane for the
// team and one per member, one mark per frame (text deltas as ticks), tool calls as spans from
// started to completed, and the fault's head delay, hold, cancel or cut marked across the lanes.
"use strict";

const Timeline = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const LABEL = 118;
  const LANE = 34;
  const AXIS = 24;

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function kindOf(event) {
    if (/Content$|ContentDelta$/.test(event)) return "content";
    if (/ToolCall/.test(event)) return /Error$/.test(event) ? "error" : "tool";
    if (/Error$/.test(event)) return "error";
    if (/Cancelled$/.test(event)) return "cancel";
    if (/Reasoning/.test(event)) return "reasoning";
    if (/RunStarted$|RunCompleted$/.test(event)) return "edge";
    return "other";
  }

  function niceStep(span) {
    const rough = span / 7;
    const power = Math.pow(10, Math.floor(Math.log10(Math.max(rough, 1e-9))));
    for (const factor of [1, 2, 5, 10]) if (power * factor >= rough) return power * factor;
    return power * 10;
  }

  const ms = (value) =>
    value >= 1000 ? `${(value / 1000).toFixed(value >= 10000 ? 0 : 1)} s` : `${value >= 10 || !value ? Math.round(value) : value.toFixed(1)} ms`;

  function draw(container, timeline, onPick) {
    container.textContent = "";
    if (!timeline || !timeline.frames.length) {
      const note = document.createElement("p");
      note.className = "empty";
      note.textContent = timeline ? "This run sent no frames." : "Not a run: no frames to draw.";
      container.appendChild(note);
      return null;
    }
    const col = Object.fromEntries(timeline.columns.map((name, i) => [name, i]));
    const frames = timeline.frames;
    const lanes = ["team"];
    for (const frame of frames) if (!lanes.includes(frame[col.lane])) lanes.push(frame[col.lane]);
    let end = frames[frames.length - 1][col.at_ms];
    for (const mark of timeline.marks) end = Math.max(end, mark.at_ms + (mark.ms || 0));
    // At speed 0 every frame leaves at once: lay them out in order, so each still has its mark.
    const instant = end < 1;
    end = instant ? Math.max(frames.length - 1, 1) : end * 1.02;
    const width = Math.max(container.clientWidth || 640, 420);
    const height = AXIS + lanes.length * LANE + 10;
    const scale = (at) => LABEL + (at / end) * (width - LABEL - 14);
    const x = instant ? () => LABEL : scale;
    const frameX = instant ? (i) => scale(i) : (i) => scale(frames[i][col.at_ms]);
    const laneY = (lane) => AXIS + lanes.indexOf(lane) * LANE + LANE / 2;

    const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "timeline-svg", role: "img",
      "aria-label": `Timeline: ${frames.length} frames over ${ms(frames[frames.length - 1][col.at_ms])}` }, container);
    const defs = el("defs", {}, svg);
    const hatch = el("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
    el("rect", { width: 3, height: 6, class: "hatch" }, hatch);

    lanes.forEach((lane, i) => {
      const top = AXIS + i * LANE;
      el("rect", { x: 0, y: top, width, height: LANE, class: i % 2 ? "lane odd" : "lane" }, svg);
      const label = el("text", { x: 8, y: top + LANE / 2 + 4, class: "lane-label" }, svg);
      label.textContent = lane === "team" ? "team" : lane;
    });
    if (instant) {
      const note = el("text", { x: LABEL, y: AXIS - 8, class: "axis" }, svg);
      note.textContent = `every frame left at once (${ms(frames[frames.length - 1][col.at_ms])}): shown in order`;
    }
    const step = niceStep(end);
    for (let t = 0; !instant && t <= end; t += step) {
      el("line", { x1: x(t), x2: x(t), y1: AXIS - 4, y2: height - 10, class: "grid" }, svg);
      const label = el("text", { x: x(t), y: AXIS - 8, class: "axis", "text-anchor": "middle" }, svg);
      label.textContent = ms(t);
    }

    for (const mark of timeline.marks) {
      const group = el("g", { class: `fault fault-${mark.kind}` }, svg);
      const title = el("title", {}, group);
      if (mark.kind === "hold") {
        const stop = mark.ms == null ? end : mark.at_ms + mark.ms;
        el("rect", { x: x(mark.at_ms), y: AXIS, width: Math.max(x(stop) - x(mark.at_ms), 2), height: lanes.length * LANE, fill: "url(#hatch)", class: "hold" }, group);
        title.textContent = mark.ms == null ? `hold before frame ${mark.frame}, until the client left` : `hold ${ms(mark.ms)} before frame ${mark.frame}`;
      } else if (mark.kind === "head_delay") {
        title.textContent = `${ms(mark.ms)} before the response head`;
      } else {
        const at = instant ? scale(Math.max(mark.frame - 0.5, 0)) : x(mark.at_ms);
        el("line", { x1: at, x2: at, y1: AXIS - 2, y2: height - 8, class: "cutline" }, group);
        title.textContent = `${mark.kind} after frame ${mark.frame} at ${ms(mark.at_ms)}`;
      }
      const labelAt = instant && mark.frame != null ? scale(Math.max(mark.frame - 0.5, 0)) : x(mark.at_ms);
      const label = el("text", { x: labelAt + 4, y: height - 12, class: "fault-label" }, group);
      label.textContent = { hold: "hold", cut: "✂ cut", cancel: "cancel", head_delay: `head +${ms(mark.ms)}` }[mark.kind] || mark.kind;
    }

    const open = new Map();
    frames.forEach((frame, i) => {
      const call = frame[col.call];
      if (!call) return;
      if (/Started$/.test(frame[col.event])) open.set(call, i);
      else if (open.has(call)) {
        const start = frames[open.get(call)];
        const y = laneY(frame[col.lane]);
        const x0 = frameX(open.get(call));
        const x1 = frameX(i);
        const span = el("g", { class: /Error$/.test(frame[col.event]) ? "span span-error" : "span" }, svg);
        el("rect", { x: x0, y: y - 11, width: Math.max(x1 - x0, 3), height: 22, rx: 4 }, span);
        el("title", {}, span).textContent = `${start[col.text]}: ${ms(frame[col.at_ms] - start[col.at_ms])}`;
        if (x1 - x0 > 60) {
          const label = el("text", { x: x0 + 6, y: y - 14, class: "span-label" }, span);
          label.textContent = start[col.text];
        }
        open.delete(call);
      }
    });

    const marks = [];
    frames.forEach((frame, i) => {
      const kind = kindOf(frame[col.event]);
      const cx = frameX(i);
      const y = laneY(frame[col.lane]);
      let node;
      if (kind === "content") node = el("line", { x1: cx, x2: cx, y1: y - 7, y2: y + 7 }, svg);
      else if (kind === "error" || kind === "cancel") node = el("rect", { x: cx - 5, y: y - 5, width: 10, height: 10, transform: `rotate(45 ${cx} ${y})` }, svg);
      else node = el("circle", { cx, cy: y, r: kind === "edge" ? 5.5 : 4 }, svg);
      node.setAttribute("class", `mark k-${kind}`);
      node.dataset.index = String(i);
      const text = frame[col.text] ? ` · ${frame[col.text]}` : "";
      el("title", {}, node).textContent = `#${i + 1} ${frame[col.event]} at ${ms(frame[col.at_ms])}${text}`;
      node.addEventListener("click", () => onPick && onPick(i));
      marks.push(node);
    });
    return { svg, marks };
  }

  return { draw, kindOf, ms };
})();
