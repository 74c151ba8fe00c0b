// The dashboard: scenarios (GET /__mock/scenarios, /__mock/status), the live journal
// (GET /__mock/requests/stream, read with fetch so it can carry the key), a run's detail and
// timeline, and a try-it form that posts to the team-run route like a UI would.
"use strict";

const $ = (selector) => document.querySelector(selector);
const KEY_STORE = "mockserver.key";
const params = new URLSearchParams(location.search);
const NAMESPACE = params.get("namespace") || "";
const state = { entries: new Map(), selected: null, teams: [], status: null, filter: "", live: false, lastId: 0 };

// ---- HTTP: every call carries the tab's key and namespace; a 401 asks for the key once ----

function headers(extra) {
  const h = new Headers(extra || {});
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) h.set("Authorization", `Bearer ${key}`);
  if (NAMESPACE) h.set("X-Mock-Namespace", NAMESPACE);
  return h;
}

let asking = null;
function askKey() {
  if (!asking) {
    asking = new Promise((resolve) => {
      const dialog = $("#key-dialog");
      $("#key-input").value = "";
      dialog.addEventListener("close", function done() {
        dialog.removeEventListener("close", done);
        if (dialog.returnValue === "ok" && $("#key-input").value) sessionStorage.setItem(KEY_STORE, $("#key-input").value.trim());
        asking = null;
        resolve(dialog.returnValue === "ok");
      });
      dialog.showModal();
      $("#key-input").focus();
    });
  }
  return asking;
}

async function call(path, init = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(path, { ...init, headers: headers(init.headers) });
    if (response.status !== 401 || attempt > 1) return response;
    if (!(await askKey())) return response;
  }
}

async function json(path, init) {
  const response = await call(path, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.detail) || `${response.status} ${response.statusText}`);
  return body;
}

// Server-sent events from a fetch body: yields {event, data} as each frame's blank line arrives.
async function* sse(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
      if (signal && signal.aborted) break;
    }
  } finally {
    reader.releaseLock();
  }
}

function node(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) if (child != null) element.append(child instanceof Node ? child : String(child));
  return element;
}

function banner(text, kind = "warn") {
  const box = $("#banner");
  box.hidden = !text;
  box.className = `banner ${kind}`;
  box.textContent = text || "";
}

function setLive(text, kind) {
  const pill = $("#live");
  pill.textContent = text;
  pill.className = `pill ${kind}`;
}

// ---- Scenarios ----

async function loadScenarios() {
  try {
    const [scenarios, status] = await Promise.all([json("/__mock/scenarios"), json("/__mock/status")]);
    const seen = JSON.stringify([scenarios, status.overrides, status.reload]);
    if (seen === state.seen) return;
    state.seen = seen;
    state.teams = scenarios.teams;
    state.status = status;
    state.overrides = status.overrides || {};
    renderScenarios();
    renderProblems(status.reload);
    $("#server").textContent = `${scenarios.teams.length} teams · speed ${scenarios.speed}${NAMESPACE ? ` · namespace ${NAMESPACE}` : ""}`;
    fillTryTeams();
  } catch (error) {
    banner(`Cannot read the scenarios: ${error.message}`, "error");
  }
}

function renderProblems(reload) {
  const box = $("#problems");
  const last = reload && reload.last;
  $("#reload").textContent = reload && reload.enabled ? (last ? `reloaded ${last.at.slice(11, 19)}` : "hot reload on") : "";
  if (!last || last.ok || !last.problems.length) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.hidden = false;
  box.replaceChildren(
    node("h3", {}, `Last reload failed: ${last.problems.length} problem(s); the previous set keeps serving`),
    node("ul", {}, last.problems.map((problem) => {
      const m = problem.match(/^(.*?:\d+):\s?(.*)$/s);
      return node("li", {}, m ? [node("code", { class: "where" }, m[1]), " ", m[2]] : problem);
    })),
  );
}

const where = (text) => (text ? node("code", { class: "where", title: text }, text.split("/").slice(-1)[0]) : null);

function renderScenarios() {
  const list = $("#teams");
  const first = !list.children.length;
  const openIds = new Set([...list.querySelectorAll("details[open]")].map((d) => d.dataset.team));
  list.replaceChildren(
    ...state.teams.map((team) => {
      const override = (state.overrides || {})[team.id];
      const picker = node("select", {
        "aria-label": `Scenario for the next runs of ${team.id}`,
        onchange: (event) => chooseScenario(team.id, event.target.value),
      }, node("option", { value: "" }, team.sequence.length ? "automatic (sequence)" : "automatic (match)"),
      team.scenarios.map((s) => node("option", { value: s.name, selected: override && override[0] === s.name }, s.name)));
      const details = node("details", { "data-team": team.id, open: first || openIds.has(team.id) || undefined },
        node("summary", {},
          node("span", { class: "team-name" }, team.name),
          node("span", { class: "muted small" }, ` ${team.id}`),
          team.faults.length ? node("span", { class: "badge fault" }, `${team.faults.length} fault${team.faults.length > 1 ? "s" : ""}`) : null,
          override ? node("span", { class: "badge override", title: "PUT /__mock/teams/{id}/scenario" }, `→ ${override.join(", ")}`) : null,
        ),
        team.description ? node("p", { class: "muted small" }, team.description) : null,
        node("div", { class: "meta" }, where(team.file), team.added ? node("span", { class: "badge" }, "added at runtime") : null),
        team.members.length ? node("p", { class: "members small" }, "Members: ",
          team.members.map((m, i) => [i ? ", " : "", node("b", { title: m.role }, m.name), node("span", { class: "muted" }, ` (${m.id})`)])) : null,
        team.sequence.length ? node("p", { class: "small" }, "Sequence: ", team.sequence.join(" → ")) : null,
        node("ul", { class: "scenarios" }, team.scenarios.map((s) => node("li", {},
          node("span", { class: "scenario-name" }, s.name),
          s.match ? node("code", { class: "match", title: "match" }, `/${s.match}/`) : node("span", { class: "muted small" }, " default"),
          where(s.where)))),
        team.faults.length ? node("ul", { class: "faults" }, team.faults.map((f) => node("li", {},
          node("span", { class: "badge fault" }, f.kind),
          f.match ? node("code", { class: "match" }, `/${f.match}/`) : null,
          f.after_events != null ? node("span", { class: "small" }, ` after ${f.after_events} events`) : null,
          f.after_seconds != null ? node("span", { class: "small" }, ` after ${f.after_seconds}s`) : null,
          f.times != null ? node("span", { class: "small" }, ` first ${f.times}×${f.per === "session" ? " per session" : ""}`) : null,
          f.probability != null ? node("span", { class: "small" }, ` p=${f.probability}`) : null,
          where(f.where)))) : null,
        node("label", { class: "small pick" }, "Next runs: ", picker),
      );
      return node("li", { class: "team" }, details);
    }),
  );
}

async function chooseScenario(teamId, name) {
  try {
    if (name) await json(`/__mock/teams/${encodeURIComponent(teamId)}/scenario`, { method: "PUT", body: JSON.stringify({ name }) });
    else await json(`/__mock/teams/${encodeURIComponent(teamId)}/scenario`, { method: "DELETE" });
    await loadScenarios();
  } catch (error) {
    banner(`Could not switch the scenario of ${teamId}: ${error.message}`, "error");
  }
}

// ---- Journal ----

const endingClass = (entry) =>
  entry.ending === "completed" || (entry.ending == null && entry.status && entry.status < 400) ? "ok" : entry.ending == null && !entry.status ? "muted" : "bad";

function matches(entry) {
  if (!state.filter) return true;
  const hay = [entry.team_id, entry.message, entry.scenario, entry.fault, entry.ending, entry.path, entry.status].join(" ").toLowerCase();
  return hay.includes(state.filter);
}

function row(entry) {
  const files = (entry.files || []).length;
  const tr = node("tr", {
    tabindex: "0", "data-id": entry.id, class: `entry ${state.selected === entry.id ? "selected" : ""}`,
    "aria-selected": state.selected === entry.id ? "true" : "false",
    onclick: () => select(entry.id), onkeydown: rowKeys,
  },
  node("td", { class: "mono", title: entry.time }, entry.time.slice(11, 19), node("span", { class: "muted" }, entry.time.slice(19, 23))),
  node("td", {}, entry.team_id || node("span", { class: "muted" }, `${entry.method} ${entry.path}`)),
  node("td", { class: "message", title: entry.message || "" }, entry.message || ""),
  node("td", { class: "num" }, files || ""),
  node("td", {}, node("span", { class: `status s${String(entry.status || 0)[0]}` }, entry.status ?? "—"), " ",
    entry.ending ? node("span", { class: `ending ${endingClass(entry)}` }, entry.ending) : ""),
  node("td", {}, entry.scenario || "", entry.fault ? [" ", node("span", { class: "badge fault" }, entry.fault)] : ""),
  node("td", { class: "num" }, entry.frames || ""));
  return tr;
}

function renderJournal() {
  const body = $("#entries");
  const shown = [...state.entries.values()].filter(matches).reverse();
  body.replaceChildren(...shown.map(row));
  $("#empty").hidden = shown.length > 0;
}

function addEntry(entry) {
  if (state.entries.has(entry.id)) return;
  state.entries.set(entry.id, entry);
  state.lastId = Math.max(state.lastId, entry.id);
  while (state.entries.size > 2000) state.entries.delete(state.entries.keys().next().value);
  if (!matches(entry)) return;
  const body = $("#entries");
  const tr = row(entry);
  tr.classList.add("fresh");
  body.prepend(tr);
  $("#empty").hidden = true;
}

function rowKeys(event) {
  const tr = event.currentTarget;
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    select(Number(tr.dataset.id));
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = event.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
    if (next) {
      next.focus();
      select(Number(next.dataset.id));
    }
  }
}

async function watchJournal() {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
    try {
      const response = await call("/__mock/requests/stream");
      if (response.status === 404) {
        banner("The journal is off on this server (no /__mock/requests): the live journal and the timeline are unavailable; scenarios and Try it still work.", "warn");
        setLive("journal off", "off");
        return;
      }
      if (!response.ok || !(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
        throw new Error(`${response.status} ${await response.text().catch(() => "")}`.trim());
      }
      await backfill();
      setLive("live", "on");
      banner("");
      delay = 500;
      for await (const frame of sse(response)) if (frame.event === "request") addEntry(frame.data);
      setLive("reconnecting…", "warn");
    } catch (error) {
      setLive("offline", "bad");
      banner(`Live journal unavailable (${error.message || error}); retrying in ${Math.round(delay / 1000)} s.`, "warn");
      await poll();
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function backfill() {
  const entries = await json("/__mock/requests?limit=200");
  for (const entry of entries) state.entries.set(entry.id, entry), (state.lastId = Math.max(state.lastId, entry.id));
  renderJournal();
}

async function poll() {
  try {
    const entries = await json(`/__mock/requests?since=${state.lastId}`);
    entries.forEach(addEntry);
  } catch {
    /* the banner already says the journal is unreachable */
  }
}

// ---- One request: its fields, files, headers, timeline and frames ----

function kv(pairs) {
  return node("dl", { class: "kv" }, pairs.filter(([, v]) => v != null && v !== "").map(([k, v]) => [node("dt", {}, k), node("dd", {}, v)]));
}

async function select(id) {
  state.selected = id;
  document.querySelectorAll("#entries tr").forEach((tr) => {
    const on = Number(tr.dataset.id) === id;
    tr.classList.toggle("selected", on);
    tr.setAttribute("aria-selected", on ? "true" : "false");
  });
  let entry = state.entries.get(id);
  if (!entry || entry.timeline === undefined) {
    try {
      entry = await json(`/__mock/requests/${id}`);
    } catch (error) {
      $("#detail").replaceChildren(node("p", { class: "error" }, `Request ${id}: ${error.message}`));
      return;
    }
  }
  renderDetail(entry);
}

function renderDetail(entry) {
  const detail = $("#detail");
  const timelineBox = node("div", { class: "timeline", id: "timeline" });
  const frameRows = node("tbody", {});
  const timeline = entry.timeline;
  const duration = timeline && timeline.frames.length ? Timeline.ms(timeline.frames[timeline.frames.length - 1][0]) : "";
  const fields = Object.entries(entry.fields || {}).filter(([k]) => k !== "message");
  const parts = [
    node("div", { class: "detail-head" },
      node("h2", {}, `#${entry.id} ${entry.method} ${entry.path}${entry.query ? "?" + entry.query : ""}`),
      node("span", { class: `status s${String(entry.status || 0)[0]}` }, entry.status ?? "no response"),
      entry.ending ? node("span", { class: `ending ${endingClass(entry)}` }, entry.ending) : null,
      entry.fault ? node("span", { class: "badge fault" }, entry.fault) : null),
    entry.message ? node("blockquote", { class: "said" }, entry.message) : null,
    kv([
      ["time", entry.time], ["scenario", entry.scenario ? [entry.scenario, " ", where(entry.scenario_where)] : null],
      ["frames", entry.frames ? `${entry.frames} over ${duration}` : null], ["duration", `${entry.duration_ms} ms`],
      ["late", entry.late_ms != null ? `${entry.late_ms} ms (most a batch left after it was due)` : null],
      ["session", entry.session_id], ["run", entry.run_id], ["user", entry.user_id], ["namespace", entry.namespace || null],
    ]),
    node("h3", {}, "Timeline"),
    timelineBox,
    node("div", { class: "legend small muted" },
      node("span", { class: "lg k-content" }, "text delta"), node("span", { class: "lg k-tool" }, "tool call"),
      node("span", { class: "lg k-edge" }, "run start/end"), node("span", { class: "lg k-reasoning" }, "reasoning"),
      node("span", { class: "lg k-error" }, "error/cancel"), node("span", { class: "lg k-other" }, "other")),
    fields.length ? [node("h3", {}, "Form fields"), kv(fields.map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]))] : null,
    (entry.files || []).length ? [node("h3", {}, "Files"), node("table", { class: "small-table" },
      node("thead", {}, node("tr", {}, ["field", "name", "type", "size", "category", "sha256"].map((h) => node("th", {}, h)))),
      node("tbody", {}, entry.files.map((f) => node("tr", {}, node("td", {}, f.field), node("td", {}, f.name), node("td", {}, f.content_type),
        node("td", { class: "num" }, f.size), node("td", {}, f.category), node("td", { class: "mono", title: f.sha256 }, (f.sha256 || "").slice(0, 12))))))] : null,
    node("details", { class: "headers" }, node("summary", {}, "Request headers"), kv(Object.entries(entry.headers || {}))),
    timeline && timeline.frames.length ? [node("h3", {}, `Frames sent (${timeline.frames.length} of ${timeline.planned} planned)`),
      node("div", { class: "frames-wrap" }, node("table", { class: "frames small-table" },
        node("thead", {}, node("tr", {}, ["#", "at", "lane", "event", "text"].map((h) => node("th", {}, h)))), frameRows))] : null,
  ];
  detail.replaceChildren(...parts.flat().filter(Boolean));
  if (timeline) {
    timeline.frames.forEach((f, i) => frameRows.append(node("tr", { "data-index": i, class: `k-${Timeline.kindOf(f[1])}` },
      node("td", { class: "num" }, i + 1), node("td", { class: "num mono" }, Timeline.ms(f[0])), node("td", {}, f[2]),
      node("td", { class: "mono" }, f[1]), node("td", { class: "text" }, f[3] || ""))));
  }
  const drawn = Timeline.draw(timelineBox, timeline, (i) => {
    frameRows.querySelectorAll("tr.picked").forEach((tr) => tr.classList.remove("picked"));
    const tr = frameRows.querySelector(`tr[data-index="${i}"]`);
    if (tr) tr.classList.add("picked"), tr.scrollIntoView({ block: "nearest" });
  });
  state.drawn = drawn;
}

// ---- Try it ----

function fillTryTeams() {
  const select = $("#try-team");
  const chosen = select.value;
  select.replaceChildren(...state.teams.map((t) => node("option", { value: t.id, selected: t.id === chosen }, `${t.name} (${t.id})`)));
  fillTryScenarios();
}

function fillTryScenarios() {
  const team = state.teams.find((t) => t.id === $("#try-team").value);
  $("#try-scenario").replaceChildren(node("option", { value: "" }, "as the server chooses"),
    ...(team ? team.scenarios.map((s) => node("option", { value: s.name }, s.name)) : []));
}

let running = null;
async function tryIt(event) {
  event.preventDefault();
  if (running) return;
  const team = $("#try-team").value;
  const answer = $("#try-answer");
  const activity = $("#try-activity");
  const status = $("#try-status");
  const stream = $("#try-stream").checked;
  answer.replaceChildren();
  activity.replaceChildren();
  const form = new FormData();
  form.set("message", $("#try-message").value);
  form.set("stream", String(stream));
  for (const file of $("#try-files").files) form.append("files", file);
  const extra = { "X-Mock-Speed": $("#try-speed").value || "1" };
  if ($("#try-scenario").value) extra["X-Mock-Scenario"] = $("#try-scenario").value;
  const controller = new AbortController();
  running = controller;
  $("#try-send").disabled = true;
  $("#try-stop").disabled = false;
  const started = performance.now();
  let text = "";
  let frames = 0;
  let pending = false;
  const members = new Map();
  const tools = new Map();
  const paint = () => {
    pending = false;
    answer.innerHTML = Markdown.render(text);
    $("#try-counts").textContent = `${frames} frames · ${Math.round(performance.now() - started)} ms`;
  };
  const log = (cls, ...parts) => {
    const item = node("li", { class: cls }, node("span", { class: "muted mono small" }, `${Math.round(performance.now() - started)} ms `), ...parts);
    activity.append(item);
    return item;
  };
  status.textContent = "sending…";
  try {
    const response = await call(`/teams/${encodeURIComponent(team)}/runs`, { method: "POST", body: form, headers: extra, signal: controller.signal });
    const type = response.headers.get("content-type") || "";
    if (!type.startsWith("text/event-stream")) {
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        status.textContent = `${response.status}: ${(body && body.detail) || response.statusText}`;
        log("bad", `HTTP ${response.status} `, node("code", {}, JSON.stringify(body)));
      } else {
        text = (body && typeof body.content === "string" && body.content) || "";
        paint();
        status.textContent = `done · ${body && body.status}`;
        log("ok", "stream=false answer: ", node("code", {}, `${(body.member_responses || []).length} member responses`));
      }
      return;
    }
    status.textContent = "streaming…";
    for await (const { event, data } of sse(response, controller.signal)) {
      frames += 1;
      const member = data.agent_id ? data.agent_name || data.agent_id : null;
      if (event === "TeamRunContent" && typeof data.content === "string") {
        text += data.content;
        if (!pending) (pending = true), requestAnimationFrame(paint);
      } else if (event === "RunStarted") {
        const item = log("member", node("span", { class: "tag member" }, "member"), " ", node("b", {}, member), node("span", { class: "state" }, " is working…"));
        members.set(data.run_id, item);
      } else if (event === "RunContent" && typeof data.content === "string") {
        const item = members.get(data.run_id);
        if (item) {
          let span = item.querySelector(".member-text");
          if (!span) span = item.appendChild(node("div", { class: "member-text small" }));
          span.textContent += data.content;
        }
      } else if (event === "RunCompleted") {
        const item = members.get(data.run_id);
        if (item) item.querySelector(".state").textContent = " finished ✓";
      } else if (/ToolCallStarted$/.test(event) && data.tool) {
        tools.set(data.tool.tool_call_id, log("tool", node("span", { class: "tag tool" }, "tool"), " ", member ? node("b", {}, `${member}: `) : null,
          node("code", {}, `${data.tool.tool_name}(${JSON.stringify(data.tool.tool_args || {})})`), node("span", { class: "state" }, " …")));
      } else if (/ToolCall(Completed|Error)$/.test(event) && data.tool) {
        const item = tools.get(data.tool.tool_call_id);
        if (item) item.querySelector(".state").textContent = /Error$/.test(event) || data.tool.tool_call_error ? " ✗ failed" : " ✓ done";
      } else if (/ReasoningStep$/.test(event)) {
        log("reasoning", node("span", { class: "tag reasoning" }, "reasoning"), " ", (data.content && data.content.title) || "reasoning step");
      } else if (/Error$/.test(event)) {
        log("bad", `${event}: ${data.content || ""}`);
      } else if (/Cancelled$/.test(event)) {
        log("bad", `${event}`);
      }
      status.textContent = `streaming… ${event}`;
    }
    paint();
    status.textContent = `done · ${frames} frames in ${Math.round(performance.now() - started)} ms`;
  } catch (error) {
    paint();
    status.textContent = controller.signal.aborted ? `stopped after ${frames} frames` : `failed: ${error.message || error}`;
  } finally {
    running = null;
    $("#try-send").disabled = false;
    $("#try-stop").disabled = true;
  }
}

// ---- Tabs, keys, start ----

function showTab(name) {
  for (const tab of ["journal", "try"]) {
    const on = tab === name;
    $(`#tab-${tab}`).setAttribute("aria-selected", String(on));
    $(`#tab-${tab}`).tabIndex = on ? 0 : -1;
    $(`#view-${tab}`).hidden = !on;
  }
}

function start() {
  $("#tab-journal").addEventListener("click", () => showTab("journal"));
  $("#tab-try").addEventListener("click", () => showTab("try"));
  $(".tabs").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const next = $("#tab-journal").getAttribute("aria-selected") === "true" ? "try" : "journal";
    showTab(next);
    $(`#tab-${next}`).focus();
  });
  $("#filter").addEventListener("input", (event) => {
    state.filter = event.target.value.trim().toLowerCase();
    renderJournal();
  });
  $("#clear").addEventListener("click", async () => {
    await call("/__mock/requests", { method: "DELETE" });
    state.entries.clear();
    renderJournal();
  });
  $("#key-button").addEventListener("click", async () => {
    if (await askKey()) await loadScenarios();
  });
  $("#try-team").addEventListener("change", fillTryScenarios);
  $("#try").addEventListener("submit", tryIt);
  $("#try").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("#try").requestSubmit();
  });
  $("#try-stop").addEventListener("click", () => running && running.abort());
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      event.preventDefault();
      showTab("journal");
      $("#filter").focus();
    }
  });
  window.addEventListener("resize", () => state.selected != null && select(state.selected));
  loadScenarios().then(() => watchJournal());
  setInterval(loadScenarios, 3000);
}

start();
