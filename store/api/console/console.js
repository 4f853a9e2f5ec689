// The store's console: injection points with their state and fault-script
// step, a form to arm them (terms or JSON), message and disarm, the live
// event stream with the request journal (EventSource), tables, and request
// rates from /metrics. Served by the store itself (GET /console); talks only
// to the routes of the store that served it.
"use strict";

const PHASES = ["armed", "disarmed", "hit", "fired", "paused", "released",
  "timeout", "request", "reset", "gap"];
const MAX_ROWS = 500;

const $ = (id) => document.getElementById(id);

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(cells, className) {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const c of cells) tr.appendChild(c);
  return tr;
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

async function send(method, path, body) {
  const answer = await fetch(path, { method, body });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${answer.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

// --- injection points ------------------------------------------------------

function stepText(state) {
  if (!state.steps || state.steps.length === 0) return "";
  const steps = state.steps.map((s, i) =>
    `${i === state.step ? "▶" : ""}${s.action} ${s.fires}/${s.count || "∞"}`);
  return steps.join(" → ");
}

function parametersText(state) {
  return (state.parameters || []).map((p) => `${p.key}=${p.value}`).join(" ");
}

function pointRow(point) {
  const s = point.state;
  const armed = s.enabled ? (s.exhausted ? "armed, used up" : "armed") : "off";
  const actions = document.createElement("td");
  actions.appendChild(button("message", () => act("POST", point.name, "/message")));
  actions.appendChild(button("disarm", () => act("DELETE", point.name, "")));
  const tr = row([cell(point.name), cell(armed), cell(s.hits), cell(s.fires),
    cell(s.waiting), cell(stepText(s), "mono"), cell(parametersText(s), "mono"),
    actions], s.enabled ? "armed" : "");
  tr.dataset.point = point.name;
  tr.title = point.description;
  return tr;
}

async function act(method, name, suffix) {
  try {
    await send(method, `/v2/error_injection/injection/${name}${suffix}`);
  } catch (e) {
    $("arm-result").textContent = e.message;
  }
  refreshPoints();
}

async function refreshPoints() {
  const catalog = await send("GET", "/v2/error_injection/points");
  const body = $("points").tBodies[0];
  body.replaceChildren(...catalog.points.map(pointRow));
  const select = $("arm-point");
  if (select.options.length === 0) {
    for (const p of catalog.points) select.add(new Option(p.name, p.name));
  }
}

// --- arming ----------------------------------------------------------------

function armingBody() {
  const text = $("arm-text").value.trim();
  const tag = $("arm-tag").value.trim();
  const parameters = $("arm-form").value === "json" ? JSON.parse(text || "{}")
    : { script: text };
  if (tag) parameters.tag = tag;
  return JSON.stringify(parameters);
}

async function arm(event) {
  event.preventDefault();
  const result = $("arm-result");
  try {
    const name = $("arm-point").value;
    await send("POST", `/v2/error_injection/injection/${name}`, armingBody());
    result.textContent = `armed ${name}`;
  } catch (e) {
    result.textContent = e.message;
  }
  refreshPoints();
}

// --- the live stream -------------------------------------------------------

function passesFilter(data) {
  const injection = $("filter-injection").value.trim();
  const tag = $("filter-tag").value.trim();
  if (data.phase === "request") {
    if (!$("filter-journal").checked) return false;
    return !tag || data.tag === tag;
  }
  const requestTag = data.request ? data.request.tag : "";
  return (!injection || data.injection === injection) && (!tag || requestTag === tag);
}

function describe(data) {
  if (data.phase === "request") {
    const fired = data.injections.length ? ` fired: ${data.injections.join(", ")}` : "";
    return `${data.method} ${data.path} → ${data.status || "no answer"}` +
      `${data.cut ? " (cut)" : ""}, ${data.bytes_out} B out${fired}`;
  }
  const step = data.steps > 1 ? ` step ${data.step + 1}/${data.steps}` : "";
  return `${data.injection || ""} ${data.phase}${data.type ? ` (${data.type})` : ""}${step}`;
}

function onStreamEvent(message) {
  const data = JSON.parse(message.data);
  if (!passesFilter(data)) return;
  const tag = data.phase === "request" ? data.tag : (data.request ? data.request.tag : "");
  const tr = row([cell(data.seq), cell((data.ts || "").slice(11, 26)),
    cell(data.phase), cell(describe(data), "mono"), cell(tag || "")],
  data.phase === "request" ? "request" : data.phase);
  tr.dataset.phase = data.phase;
  tr.dataset.injection = data.injection || "";
  const body = $("events").tBodies[0];
  body.insertBefore(tr, body.firstChild);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  if (data.phase !== "request") refreshPoints();
}

function subscribe() {
  const stream = new EventSource("/v2/error_injection/events?journal=1&since=0");
  for (const phase of PHASES) stream.addEventListener(phase, onStreamEvent);
  stream.addEventListener("hello", () => {
    $("status").textContent = "live";
    $("status").className = "live";
  });
  stream.onerror = () => {
    $("status").textContent = "reconnecting…";
    $("status").className = "muted";
  };
}

// --- tables and metrics ----------------------------------------------------

async function refreshTables() {
  const answer = await send("GET", "/v1/tables");
  $("tables").replaceChildren(...(answer.tables || []).map((t) => {
    const li = document.createElement("li");
    const families = (t.columnFamilies || []).map((f) => f.name).join(", ");
    li.textContent = `${t.name}: ${families}`;
    return li;
  }));
}

let lastCounts = null;
let lastTime = 0;

function parseMetrics(text) {
  const routes = {};
  const line = /^kvstore_http_(requests_total|request_duration_seconds_sum|request_duration_seconds_count)\{route="([^"]*)"[^}]*\} ([0-9.e+-]+)$/;
  for (const l of text.split("\n")) {
    const m = line.exec(l);
    if (!m) continue;
    const r = routes[m[2]] || (routes[m[2]] = { requests: 0, sum: 0, count: 0 });
    if (m[1] === "requests_total") r.requests += Number(m[3]);
    else if (m[1].endsWith("_sum")) r.sum = Number(m[3]);
    else r.count = Number(m[3]);
  }
  return routes;
}

async function refreshMetrics() {
  const answer = await fetch("/metrics");
  const routes = parseMetrics(await answer.text());
  const now = performance.now();
  const seconds = lastCounts ? (now - lastTime) / 1000 : 0;
  const rows = Object.keys(routes).sort().map((name) => {
    const r = routes[name];
    const before = lastCounts && lastCounts[name] ? lastCounts[name].requests : r.requests;
    const rate = seconds > 0 ? ((r.requests - before) / seconds).toFixed(1) : "";
    const mean = r.count ? `${(1000 * r.sum / r.count).toFixed(3)} ms` : "";
    return row([cell(name), cell(r.requests), cell(rate), cell(mean)]);
  });
  $("metrics").tBodies[0].replaceChildren(...rows);
  lastCounts = routes;
  lastTime = now;
}

function every(ms, fn) {
  const run = () => fn().catch((e) => { $("status").textContent = e.message; });
  run();
  setInterval(run, ms);
}

$("arm").addEventListener("submit", arm);
subscribe();
every(2000, refreshPoints);
every(5000, refreshTables);
every(2000, refreshMetrics);
