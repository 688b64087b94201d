// The Lab's dashboard: plain JS, no dependencies. Reads /api/status once, then lives on the
// Server-Sent Events of /api/events ("status" every second, "lab" for each event).
// Buttons POST to the API with the lab's token (from #token=... in the URL, kept for the tab).
"use strict";

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const STATUS_COLORS = { up: "#3ecf8e", joining: "#7cc4ff", leaving: "#c0a0ff", unreachable: "#ffb347", down: "#ff5c5c", stopped: "#6b7785", paused: "#e0d25a" };

// ---- token ----------------------------------------------------------------------------------
(function initToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) { sessionStorage.setItem("lab-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
  $("token").value = sessionStorage.getItem("lab-token") || "";
  $("token").addEventListener("change", (e) => sessionStorage.setItem("lab-token", e.target.value.trim()));
})();

function toast(text, bad) {
  const t = $("toast");
  t.textContent = text;
  t.style.borderColor = bad ? "#ff5c5c" : "#3ecf8e";
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 4000);
}

async function post(path, body) {
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "X-Lab-Token": sessionStorage.getItem("lab-token") || "", "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : "",
    });
    const answer = await response.json().catch(() => ({}));
    toast(answer.message || answer.error || response.status + "", !response.ok);
  } catch (e) { toast("the lab did not answer: " + e, true); }
}

// ---- figures --------------------------------------------------------------------------------
function figures(node, name) { return (node.figures || []).filter((f) => f.name === name); }
function value(node, name, tag) {
  const fs = figures(node, name).filter((f) => !tag || f.tags.split(",").includes(tag));
  return fs.length ? fs.reduce((s, f) => s + f.value, 0) : null;
}
function rate(node, name, tag) {
  const fs = figures(node, name).filter((f) => (!tag || f.tags.split(",").includes(tag)) && f.rate != null);
  return fs.length ? fs.reduce((s, f) => s + f.rate, 0) : null;
}
function human(n, unit) {
  if (n == null) return "–";
  const u = unit || "";
  if (Math.abs(n) >= 1 << 30) return (n / (1 << 30)).toFixed(1) + " Gi" + u;
  if (Math.abs(n) >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " Mi" + u;
  if (Math.abs(n) >= 1 << 10) return (n / (1 << 10)).toFixed(1) + " Ki" + u;
  return (Math.round(n * 10) / 10) + (u ? " " + u : "");
}
function uptime(s) {
  if (s == null) return "–";
  if (s < 120) return Math.round(s) + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}

function sparkline(values, color) {
  const v = values || [];
  if (v.length < 2) return '<svg viewBox="0 0 70 20"></svg>';
  const max = Math.max(...v, 1e-9);
  const pts = v.map((x, i) => `${(i / (v.length - 1)) * 70},${19 - (x / max) * 18}`).join(" ");
  return `<svg viewBox="0 0 70 20"><polyline fill="none" stroke="${color}" stroke-width="1.3" points="${pts}"/></svg>`;
}

// ---- rendering ------------------------------------------------------------------------------
function renderNodes(nodes) {
  const container = $("nodes");
  const seen = new Set();
  for (const node of nodes) {
    seen.add(node.name);
    let card = container.querySelector(`.node[data-node="${CSS.escape(node.name)}"]`);
    if (!card) {
      card = document.createElement("div");
      card.className = "node";
      card.dataset.node = node.name;
      container.appendChild(card);
    }
    card.dataset.status = node.status;
    const h = node.history || {};
    const conn = value(node, "actors.net.connections.open");
    card.innerHTML = `
      <div class="title"><span class="name">${esc(node.name)}</span><span class="roles">${esc(node.roles.join(", "))}</span>
        <span class="status ${esc(node.status)}">${esc(node.status)}${node.leader ? " ★" : ""}</span></div>
      <div class="meta">${esc(node.address || "not a cluster member")} · pid ${node.pid ?? "–"} · up ${uptime(node.uptimeSeconds)}</div>
      <div class="spark" title="bytes in per second">in ${sparkline(h.bytes_in, "#7cc4ff")} ${human(rate(node, "actors.net.bytes.received"), "B/s")}</div>
      <div class="spark" title="bytes out per second">out ${sparkline(h.bytes_out, "#3ecf8e")} ${human(rate(node, "actors.net.bytes.sent"), "B/s")}</div>
      <div class="spark" title="CPU % of one core">cpu ${sparkline(h.cpu, "#e0d25a")} ${h.cpu && h.cpu.length ? h.cpu[h.cpu.length - 1] + " %" : "–"}</div>
      <div class="figs">connections <b>${conn ?? "–"}</b> · memory <b>${human(value(node, "actors.process.memory.working_set"), "B")}</b></div>
      <div class="actions" data-managed="${node.managed}">
        <button data-act="kill" data-signal="KILL" class="danger" title="kill -9">Kill</button>
        <button data-act="kill" data-signal="STOP" title="SIGSTOP">Pause</button>
        <button data-act="kill" data-signal="CONT" title="SIGCONT">Resume</button>
        <button data-act="restart">Restart</button>
        <button data-act="leave">Leave</button>
      </div>`;
  }
  for (const card of [...container.children]) if (!seen.has(card.dataset.node)) card.remove();
}

function renderGraph(nodes) {
  const svg = $("graph");
  const n = nodes.length, cx = 210, cy = 150, r = 110;
  const pos = nodes.map((node, i) => ({ node, x: cx + r * Math.cos((2 * Math.PI * i) / Math.max(n, 1) - Math.PI / 2), y: cy + r * Math.sin((2 * Math.PI * i) / Math.max(n, 1) - Math.PI / 2) }));
  const live = (s) => s === "up" || s === "joining" || s === "leaving" || s === "unreachable" || s === "paused";
  let edges = "";
  const members = pos.filter((p) => p.node.address && live(p.node.status));
  for (let i = 0; i < members.length; i++)
    for (let j = i + 1; j < members.length; j++) {
      const a = members[i], b = members[j];
      const bad = a.node.status !== "up" || b.node.status !== "up";
      edges += `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="${bad ? "#ffb347" : "#2f5a46"}" stroke-width="1" ${bad ? 'stroke-dasharray="4 3"' : ""}/>`;
    }
  const circles = pos.map((p) => `<g class="gnode" data-node="${esc(p.node.name)}" data-status="${esc(p.node.status)}">
      <circle cx="${p.x}" cy="${p.y}" r="${p.node.leader ? 17 : 14}" fill="${STATUS_COLORS[p.node.status] || "#6b7785"}" stroke="#0c1014" stroke-width="2"/>
      <text x="${p.x}" y="${p.y + 30}">${esc(p.node.name)}</text></g>`).join("");
  svg.innerHTML = edges + circles;
  const counts = {};
  for (const node of nodes) counts[node.status] = (counts[node.status] || 0) + 1;
  $("counts").textContent = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(" · ");
}

function renderTables(nodes) {
  const trackers = nodes.filter((n) => n.roles.includes("tracker") || figures(n, "actors.tracker.swarms").length);
  $("swarms").tBodies[0].innerHTML = trackers.map((n) => `<tr data-node="${esc(n.name)}"><td>${esc(n.name)}</td>
      <td>${value(n, "actors.tracker.swarms") ?? "–"}</td><td>${value(n, "actors.tracker.peers") ?? "–"}</td>
      <td>${human(rate(n, "actors.tracker.announces"))}</td><td>${human(rate(n, "actors.web.requests"))}</td></tr>`).join("")
    || '<tr><td colspan="5" class="muted">no tracker reports yet</td></tr>';
  const calls = nodes.filter((n) => n.roles.includes("rendezvous") || n.roles.includes("relay"));
  $("calls").tBodies[0].innerHTML = calls.map((n) => `<tr data-node="${esc(n.name)}"><td>${esc(n.name)}</td>
      <td>${value(n, "actors.rendezvous.callers") ?? "–"}</td>
      <td>${value(n, "actors.rendezvous.calls", "path=direct") ?? "–"}</td>
      <td>${value(n, "actors.rendezvous.calls", "path=reverse") ?? "–"}</td>
      <td>${value(n, "actors.rendezvous.calls", "path=relay") ?? "–"}</td>
      <td>${value(n, "actors.relay.sessions") ?? "–"}</td><td>${human(rate(n, "actors.relay.bytes"), "B/s")}</td></tr>`).join("")
    || '<tr><td colspan="7" class="muted">no rendezvous or relay reports yet</td></tr>';
}

// The swarm view, from the peers' reports: completion per peer, and bytes per (uploader → downloader) pair.
function renderSwarms(swarms) {
  if (!swarms || !swarms.length) { $("swarm-view").innerHTML = '<span class="muted">no peer reports yet</span>'; return; }
  $("swarm-view").innerHTML = swarms.map((s) => {
    const label = Object.fromEntries(s.peers.map((p) => [p.id, p.label]));
    const peers = s.peers.map((p) => `<div class="swarm-peer" data-peer="${esc(p.label)}" data-completion="${p.completion ?? ""}">
        <span class="peer-name">${esc(p.label)}</span>
        <span class="bar"><span style="width:${p.completion ?? 0}%"></span></span>
        <span>${p.completion == null ? '<span class="muted">not reporting</span>' : p.completion + " %"}</span></div>`).join("");
    const transfers = s.transfers.slice(0, 30).map((t) => `<div class="transfer" data-from="${esc(label[t.from] || t.from)}" data-to="${esc(label[t.to] || t.to)}" data-bytes="${t.bytes}">
        ${esc(label[t.from] || t.from)} → ${esc(label[t.to] || t.to)} <b>${human(t.bytes, "B")}</b></div>`).join("");
    return `<div class="swarm" data-infohash="${esc(s.infoHash)}"><div class="swarm-name">${esc(s.name)} <small class="muted">${esc(s.infoHash.slice(0, 12))}…</small></div>
      ${peers}<div class="transfers">${transfers || '<span class="muted">no bytes exchanged yet</span>'}</div></div>`;
  }).join("");
}

// The calls view, from the callers' reports (both sides merged by the lab).
function renderCalls(calls) {
  const ms = (v) => (v == null ? "–" : Math.round(v) + " ms");
  $("call-list").tBodies[0].innerHTML = (calls || []).map((c) => `<tr data-call="${esc(c.callId)}" data-path="${esc(c.path || "")}" data-state="${esc(c.state)}" data-rtt="${c.rttMs ?? ""}">
      <td>${esc(c.from)} → ${esc(c.to)}</td><td>${esc(c.path || "–")}</td><td class="rtt">${ms(c.rttMs)}</td><td>${ms(c.jitterMs)}</td>
      <td>${c.loss == null ? "–" : (c.loss * 100).toFixed(1) + " %"}</td><td>${esc(c.state)}${c.result ? " (" + esc(c.result) + ")" : ""}</td></tr>`).join("")
    || '<tr><td colspan="6" class="muted">no caller reports yet</td></tr>';
}

function render(snapshot) {
  renderNodes(snapshot.nodes);
  renderGraph(snapshot.nodes);
  renderTables(snapshot.nodes);
  renderSwarms(snapshot.swarms);
  renderCalls(snapshot.calls);
  const leader = snapshot.nodes.find((n) => n.leader);
  $("leader").textContent = leader ? "leader: " + leader.name : "";
}

function addEvent(e) {
  const list = $("events");
  const li = document.createElement("li");
  li.className = e.kind;
  const time = new Date(e.unixMs).toLocaleTimeString();
  li.innerHTML = `<span class="muted">${esc(time)}</span> <b>${esc(e.node)}</b> <span class="kind">${esc(e.kind)}</span> ${esc(e.text)}`;
  list.insertBefore(li, list.firstChild);
  while (list.children.length > 300) list.removeChild(list.lastChild);
}

async function refreshLinks() {
  try {
    const response = await fetch("/api/links");
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { $("links").innerHTML = `<span class="muted">${esc(body.error || response.status)}</span>`; return; }
    renderLinks(body);
  } catch (e) { $("links").textContent = "–"; }
}

function renderLinks(body) {
  const links = Array.isArray(body) ? body : (body.links || []);
  if (!links.length) { $("links").innerHTML = '<span class="muted">no links</span>'; return; }
  $("links").innerHTML = `<table><thead><tr><th>link</th><th>listen → target</th><th>conns</th><th>↑ / ↓</th><th>toxics</th><th></th></tr></thead><tbody>${links.map((l) => `
    <tr data-link="${esc(l.name)}"><td>${esc(l.name)}</td><td>${esc(l.listen)} → ${esc(l.target)}</td>
    <td>${l.openConnections ?? "–"}</td><td>${human(l.bytesUpstream, "B")} / ${human(l.bytesDownstream, "B")}</td>
    <td>${(l.toxics || []).map((t) => esc(t.type) + " " + esc(t.stream) + " " + Object.entries(t.attributes || {}).map(([k, v]) => esc(k) + "=" + esc(v)).join(" ")).join("<br>") || '<span class="muted">none</span>'}</td>
    <td><button data-link-act="latency" data-link="${esc(l.name)}">+300 ms</button> <button data-link-act="clear" data-link="${esc(l.name)}">Clear</button></td></tr>`).join("")}</tbody></table>`;
}

// ---- actions --------------------------------------------------------------------------------
$("nodes").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-act]");
  if (!button) return;
  const name = button.closest(".node").dataset.node;
  const act = button.dataset.act;
  if (act === "kill" && button.dataset.signal === "KILL" && !confirm(`kill -9 ${name}?`)) return;
  const query = act === "kill" ? "?signal=" + button.dataset.signal : "";
  post(`/api/nodes/${encodeURIComponent(name)}/${act}${query}`);
});
$("links").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-link-act]");
  if (!button) return;
  const link = encodeURIComponent(button.dataset.link);
  if (button.dataset.linkAct === "clear") post(`/api/links/${link}/clear`);
  else post(`/api/links/${link}/toxics`, { type: "latency", direction: "both", attributes: { latency: "300", jitter: "0" } });
});
$("partition-form").addEventListener("submit", (e) => {
  e.preventDefault();
  post("/api/partition", { spec: $("partition-spec").value.trim() || "one", oneWay: $("partition-oneway").checked });
});
$("heal").addEventListener("click", () => post("/api/heal"));

// ---- live -----------------------------------------------------------------------------------
fetch("/api/status").then((r) => r.json()).then(render).catch(() => {});
let lastSeq = 0; // the SSE backlog is replayed on reconnect: show each event once
function connect() {
  const source = new EventSource("/api/events?backlog=100");
  source.addEventListener("open", () => { $("live").textContent = "live"; $("live").className = "badge on"; });
  source.addEventListener("error", () => { $("live").textContent = "reconnecting…"; $("live").className = "badge off"; });
  source.addEventListener("status", (m) => render(JSON.parse(m.data)));
  source.addEventListener("lab", (m) => { const e = JSON.parse(m.data); if (e.seq > lastSeq) { lastSeq = e.seq; addEvent(e); } });
}
connect();
refreshLinks();
setInterval(refreshLinks, 5000);

// ---- experiment runs (bundles under actors.lab.runs): verdicts and plots ---------------------
async function refreshRuns() {
  try {
    const body = await (await fetch("/api/runs")).json();
    const box = $("runs");
    box.textContent = "";
    if (!body.runs.length) { box.textContent = `no runs in ${body.root} yet: actors lab run config/lab/tracker-kill.conf`; return; }
    for (const run of body.runs) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      const base = `/api/runs/${encodeURIComponent(run.scenario)}/${encodeURIComponent(run.stamp)}/`;
      summary.textContent = `${run.passed ? "✔" : "✘"} ${run.kind && run.kind !== "scenario" ? run.kind + " sweep " : ""}${run.scenario} ${run.stamp} (seed ${run.seed})${run.failed.length ? " — failed: " + run.failed.join("; ") : ""}`;
      details.appendChild(summary);
      const report = document.createElement("a");
      report.href = base + "report.md"; report.textContent = "report.md"; report.target = "_blank";
      details.appendChild(report);
      // Plots load only when the run is opened.
      details.addEventListener("toggle", () => {
        if (!details.open || details.querySelector("img")) return;
        for (const plot of run.plots) { const img = document.createElement("img"); img.src = base + plot; img.alt = plot; img.className = "plot"; details.appendChild(img); }
      });
      box.appendChild(details);
    }
  } catch { /* the lab restarts: next time */ }
}
refreshRuns();
setInterval(refreshRuns, 15000);
