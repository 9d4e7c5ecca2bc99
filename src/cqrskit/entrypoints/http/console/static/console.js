// The cqrskit console: a page over the console's JSON API (api/...).
// The admin token lives in sessionStorage and goes out as a bearer header.
// Everything shown is set as text (never as HTML), so no event data can run.
"use strict";

const TOKEN_KEY = "cqrskit-console-token";
const STATUS_EVERY_MS = 2000;
const $ = (id) => document.getElementById(id);
const SECTIONS = ["sign-in", "streams", "stream", "status", "parked"];
let statusTimer = null;
let streamsAfter = null;
let eventsFrom = null;

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function showError(text) {
  const box = $("error");
  box.textContent = text || "";
  box.hidden = !text;
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  const answer = await fetch(`api/${path}`, { ...options, headers });
  const body = await answer.json().catch(() => null);
  if (answer.status === 401 || answer.status === 403) {
    sessionStorage.removeItem(TOKEN_KEY);  // expired, or not an operator's: ask again
  }
  if (!answer.ok) {
    const detail = body && body.detail ? body.detail : answer.statusText;
    throw new Error(`${answer.status} ${body && body.title ? body.title : ""}: ${detail}`);
  }
  return body;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function jsonCell(row, value) {
  const td = document.createElement("td");
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(value, null, 2);
  td.appendChild(pre);
  row.appendChild(td);
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

function show(section) {
  for (const id of SECTIONS) $(id).hidden = id !== section;
  $("nav").hidden = section === "sign-in";
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.dataset.tab === section
      || (section === "stream" && a.dataset.tab === "streams"));
  }
}

// --- streams ---------------------------------------------------------------

async function loadStreams(prefix, more) {
  if (!more) { $("stream-list").replaceChildren(); streamsAfter = null; }
  const query = new URLSearchParams({ prefix, limit: "50" });
  if (streamsAfter) query.set("after", streamsAfter);
  const page = await api(`streams?${query}`);
  for (const s of page.items) {
    const row = document.createElement("tr");
    const td = cell(row, "");
    td.appendChild(link(`#/stream/${encodeURIComponent(s.stream_id)}`, s.stream_id));
    cell(row, s.version, "num");
    $("stream-list").appendChild(row);
  }
  streamsAfter = page.next_after;
  $("more-streams").hidden = !streamsAfter;
}

// --- one stream: audit trail and time travel -------------------------------

function who(metadata) {
  const p = metadata.principal;
  return p ? `${p.sub} (${p.roles.join(", ")})` : "system";
}

async function loadTrail(streamId, more) {
  if (!more) { $("events").replaceChildren(); eventsFrom = 1; }
  const query = new URLSearchParams({ from_version: String(eventsFrom), limit: "100" });
  const trail = await api(`streams/${encodeURIComponent(streamId)}?${query}`);
  $("stream-id").textContent = trail.stream_id;
  $("stream-version").textContent = trail.version;
  $("time-travel").hidden = !trail.has_state;
  $("state-version").max = trail.version;
  for (const e of trail.events) {
    const row = document.createElement("tr");
    row.dataset.version = e.version;
    cell(row, e.version, "num");
    cell(row, e.position, "num");
    cell(row, e.type);
    cell(row, e.recorded_at);
    cell(row, who(e.metadata));
    cell(row, e.metadata.correlation_id || "");
    jsonCell(row, e.data);
    const td = cell(row, "");
    if (trail.has_state) {
      td.appendChild(button("state here", () => loadState(streamId, e.version)));
    }
    $("events").appendChild(row);
  }
  eventsFrom = trail.next_from;
  $("more-events").hidden = !eventsFrom;
  if (!more && trail.has_state) await loadState(streamId, trail.version);
}

async function loadState(streamId, version) {
  const at = await api(`streams/${encodeURIComponent(streamId)}/state?version=${version}`);
  $("state-version").value = at.version;
  $("state-caption").textContent =
    `after event ${at.version} of ${at.last_version}` +
    (at.version === at.last_version ? " (now)" : "");
  $("state").textContent = JSON.stringify(at.state, null, 2);
}

// --- lag and partitions, refreshed while shown -----------------------------

function partitionTable(projection) {
  const table = document.createElement("table");
  const head = document.createElement("tr");
  for (const h of ["partition", "owner", "applied", "lag (events)", "lag (s)"]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.appendChild(th);
  }
  table.appendChild(head);
  for (const p of projection.partitions) {
    const row = document.createElement("tr");
    if (p.lag_events > 0) row.className = "lagging";
    cell(row, p.partition, "num");
    cell(row, p.owner || "-");
    cell(row, p.applied_position, "num");
    cell(row, `${p.lag_capped ? "≥" : ""}${p.lag_events}`, "num");
    cell(row, p.lag_seconds.toFixed(1), "num");
    table.appendChild(row);
  }
  return table;
}

function relayText(relay) {
  if (relay.embedded) return "relay inside `cqrskit run` (in-process broker)";
  const leader = relay.leader ? `${relay.leader.holder} since ${relay.leader.since}` : "no leader";
  return `relay ${leader}; position ${relay.position}, lag ${relay.lag_events} events`;
}

async function loadStatus() {
  const s = await api("status");
  $("status-summary").textContent = `event store head ${s.head}; ${relayText(s.relay)}; ` +
    `${s.partitions} partitions`;
  $("members").replaceChildren();
  if (s.relay.embedded && s.members.length === 0) {
    const row = document.createElement("tr");
    cell(row, "the projector inside `cqrskit run`");
    cell(row, "all");
    $("members").appendChild(row);
  }
  for (const m of s.members) {
    const row = document.createElement("tr");
    cell(row, m.member);
    cell(row, m.partitions.join(", "));
    $("members").appendChild(row);
  }
  const blocks = s.projections.map((p) => {
    const div = document.createElement("div");
    div.className = "projection";
    div.dataset.projection = p.name;
    const h = document.createElement("h3");
    h.textContent = `projection ${p.name} (${p.parked_streams} parked)`;
    div.append(h, partitionTable(p));
    return div;
  });
  $("projections").replaceChildren(...blocks);
  $("status-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function watchStatus() {
  stopStatus();
  const tick = () => loadStatus().then(() => showError(""), (e) => showError(e.message));
  tick();
  statusTimer = setInterval(tick, STATUS_EVERY_MS);
}

function stopStatus() {
  if (statusTimer) clearInterval(statusTimer);
  statusTimer = null;
}

// --- parked events ---------------------------------------------------------

async function loadParked() {
  const records = await api("parked");
  $("parked-list").replaceChildren();
  $("parked-empty").hidden = records.length > 0;
  for (const r of records) {
    const row = document.createElement("tr");
    cell(row, r.projection);
    cell(row, r.stream_id);
    cell(row, `v${r.version} ${r.type} (position ${r.position})`);
    cell(row, r.error);
    cell(row, r.attempts, "num");
    cell(row, r.failed_at);
    cell(row, "").appendChild(button("Retry", () => retry(r)));
    $("parked-list").appendChild(row);
  }
}

async function retry(record) {
  const path = `parked/${encodeURIComponent(record.projection)}/` +
    `${encodeURIComponent(record.stream_id)}/retry`;
  const answer = await api(path, { method: "POST" }).catch((e) => { showError(e.message); });
  if (!answer) return;
  $("retry-result").textContent = answer.unparked
    ? `${answer.stream_id} retried; unparked`
    : `${answer.stream_id} failed again at v${answer.failure.version}: ${answer.failure.error}`;
  await loadParked();
}

// --- routing ---------------------------------------------------------------

async function route() {
  stopStatus();
  showError("");
  if (!token()) { show("sign-in"); return; }
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, ...rest] = hash.split("/");
  const arg = decodeURIComponent(rest.join("/"));
  try {
    if (name === "stream" && arg) { show("stream"); await loadTrail(arg, false); }
    else if (name === "status") { show("status"); watchStatus(); }
    else if (name === "parked") { show("parked"); await loadParked(); }
    else { show("streams"); await loadStreams($("prefix").value, false); }
  } catch (e) {
    showError(e.message);
    if (!token()) show("sign-in");
  }
}

function wire() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    route();
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    route();
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadStreams($("prefix").value, false).catch((e) => showError(e.message));
  });
  $("more-streams").addEventListener("click", () =>
    loadStreams($("prefix").value, true).catch((e) => showError(e.message)));
  $("more-events").addEventListener("click", () =>
    loadTrail($("stream-id").textContent, true).catch((e) => showError(e.message)));
  $("state-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadState($("stream-id").textContent, $("state-version").value)
      .catch((e) => showError(e.message));
  });
  window.addEventListener("hashchange", route);
  route();
}

document.addEventListener("DOMContentLoaded", wire);
