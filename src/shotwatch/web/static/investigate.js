// Investigator Portal: search by time, area, address, rounds; audio with waveform;
// forensic report PDF; release requests (authorized only by a captain).
"use strict";
(() => {
  const { api, el, time, incidentFacts, cadBlock, config } = SW;
  const can = (p) => (config.permissions || []).includes(p);
  const map = new SWMap(document.getElementById("map"), { onSelect: (id) => open(id) });
  const results = document.getElementById("results"), detail = document.getElementById("detail");
  const form = document.getElementById("search");
  const iso = (v) => v ? new Date(v).toISOString().replace(/\.\d+Z$/, ".000000Z") : "";
  async function search() {
    const f = Object.fromEntries(new FormData(form)); const q = new URLSearchParams();
    if (f.since) q.set("since", iso(f.since)); if (f.until) q.set("until", iso(f.until));
    if (f.address) q.set("address", f.address); if (f.min_rounds) q.set("min_rounds", f.min_rounds);
    if (f.usebbox && map.vb) {
      const [x, y, w, h] = map.vb;
      const [n, wl] = map.toLatLon(x, y), [s, e] = map.toLatLon(x + w, y + h); q.set("bbox", [s, wl, n, e].map(v => v.toFixed(6)).join(","));
    }
    q.set("limit", "500");
    const d = await api("GET", "/incidents?" + q.toString());
    results.replaceChildren(...d.incidents.map(inc => { map.upsert(inc); return el("tr", { onclick: () => open(inc.id), class: "clickable" },
      el("td", {}, inc.first_shot_utc.slice(0, 19).replace("T", " ")), el("td", {}, inc.location), el("td", {}, inc.rounds), el("td", {}, inc.classification), el("td", {}, inc.review_status)); }));
  }
  async function waveform(url, canvas) {
    try {
      const buf = await (await fetch(url, { credentials: "same-origin" })).arrayBuffer();
      const ac = new (window.AudioContext || window.webkitAudioContext)();
      const audio = await ac.decodeAudioData(buf); const data = audio.getChannelData(0);
      const ctx = canvas.getContext("2d"); canvas.width = canvas.clientWidth; canvas.height = 80;
      ctx.strokeStyle = "#3e8ed0"; ctx.beginPath(); const step = Math.max(1, Math.floor(data.length / canvas.width));
      for (let x = 0; x < canvas.width; x++) { let mn = 1, mx = -1; for (let i = x * step; i < (x + 1) * step && i < data.length; i++) { mn = Math.min(mn, data[i]); mx = Math.max(mx, data[i]); }
        ctx.moveTo(x, 40 - mx * 38); ctx.lineTo(x, 40 - mn * 38); }
      ctx.stroke(); ac.close();
    } catch (e) { console.warn("waveform", e); }
  }
  async function open(id) {
    const inc = await api("GET", "/incidents/" + encodeURIComponent(id));
    map.select(id); map.center(inc.lon, inc.lat, 800);
    const canvas = el("canvas", { class: "wave" });
    const clips = el("div", {}, ...inc.clips.map(c => el("div", {}, `Clip ${c.index + 1} ${time(c.t_utc)} `, el("audio", { controls: "", preload: "none", src: c.url }))));
    const rel = el("form", { class: "stack" }, el("input", { name: "recipient", placeholder: "Recipient (e.g. District Attorney)", required: "" }),
      el("input", { name: "reason", placeholder: "Reason", required: "" }), el("button", {}, "Request release"));
    rel.addEventListener("submit", async (e) => { e.preventDefault(); const f = Object.fromEntries(new FormData(rel));
      try { await api("POST", "/release-requests", { incident_id: id, ...f }); rel.replaceChildren(el("p", { class: "ok" }, "Release requested; awaiting captain.")); loadReleases(); } catch (err) { alert(err.message); } });
    detail.replaceChildren(el("h2", {}, `Incident ${inc.id}`), incidentFacts(inc), canvas, clips,
      can("reports") ? el("p", {}, el("a", { href: `/api/v1/incidents/${encodeURIComponent(id)}/report.pdf` }, "Forensic report (PDF)")) : null,
      cadBlock(inc.cad_call), can("request_release") ? rel : null);
    if (inc.audio_url) waveform(inc.audio_url, canvas);
  }
  async function loadReleases() {
    if (!can("request_release")) return;
    const box = document.getElementById("releases");
    const d = await api("GET", "/release-requests");
    box.replaceChildren(el("h3", {}, "Release requests"), ...d.release_requests.map(r => el("div", {},
      `#${r.id} incident ${r.incident_id} → ${r.recipient}: ${r.status}${r.decided_by ? " by " + r.decided_by : ""} `,
      can("authorize_release") && r.status === "pending" ? el("span", {},
        el("button", { class: "primary", onclick: async () => { await api("POST", `/release-requests/${r.id}/decision`, { decision: "authorized" }); loadReleases(); } }, "Authorize"),
        el("button", { class: "danger", onclick: async () => { await api("POST", `/release-requests/${r.id}/decision`, { decision: "denied" }); loadReleases(); } }, "Deny")) : null)));
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); search().catch(err => alert(err.message)); });
  map.load().then(() => { search(); loadReleases(); });
})();
