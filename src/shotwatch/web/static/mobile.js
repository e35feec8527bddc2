// Mobile Alert Console (phone-sized): current alert, map, audio, unit status buttons.
"use strict";
(() => {
  const { api, el, time, incidentFacts } = SW;
  const unit = SW.config.unit_id;
  const alerts = new Map(); let current = null;
  const banner = document.getElementById("banner"), det = document.getElementById("mac-detail");
  const audio = document.getElementById("audio"), list = document.getElementById("alerts");
  const bPlay = document.getElementById("btn-play"), bEn = document.getElementById("btn-enroute"), bOn = document.getElementById("btn-onscene"), bAv = document.getElementById("btn-available");
  const map = new SWMap(document.getElementById("map"), { onSelect: (id) => show(id) });
  function show(id) {
    const a = alerts.get(id); if (!a) return; current = a; const inc = a.incident;
    banner.className = a.kind === "cancel" ? "banner idle" : "banner active"; banner.setAttribute("data-incident", inc.id);
    banner.textContent = a.kind === "cancel" ? `Cancelled (not gunfire) · ${inc.location}` : `SHOTS · ${inc.location}`;
    det.replaceChildren(incidentFacts(inc), el("div", { class: "muted", "data-testid": "mac-cad" }, a.cad_call ? `CAD #${a.cad_call.id} ${a.cad_call.type_code} P${a.cad_call.priority}` : ""));
    audio.src = inc.audio_url || ""; bPlay.disabled = !inc.audio_url; bEn.disabled = false; bOn.disabled = false;
    map.select(inc.id); map.center(inc.lon, inc.lat, 500); renderList();
  }
  function renderList() {
    list.replaceChildren(...[...alerts.values()].sort((a, b) => b.incident.first_shot_utc.localeCompare(a.incident.first_shot_utc)).slice(0, 10)
      .map(a => el("li", { class: current && current.incident.id === a.incident.id ? "sel" : "", onclick: () => show(a.incident.id) }, `${time(a.incident.first_shot_utc)} ${a.incident.location} — ${a.incident.heard}`)));
  }
  function onAlert(a, fresh) {
    const prev = alerts.get(a.incident.id); if (prev && prev.version > a.version) return;
    alerts.set(a.incident.id, a); map.upsert(a.incident);
    if (fresh) show(a.incident.id); else renderList();
  }
  async function status(s) {
    if (!unit) { alert("No unit linked to this user"); return; }
    const body = { status: s }; if (current && s !== "available") body.incident_id = current.incident.id;
    try { await api("POST", `/units/${unit}/status`, body); det.append(el("p", { class: "ok" }, `Unit ${unit}: ${s.replace("_", " ")}`)); } catch (e) { alert(e.message); }
  }
  bPlay.addEventListener("click", () => { audio.play().catch(e => console.warn(e)); });
  bEn.addEventListener("click", () => status("en_route"));
  bOn.addEventListener("click", () => status("on_scene"));
  bAv.addEventListener("click", () => status("available"));
  document.getElementById("canvass-form").addEventListener("submit", async (e) => {
    e.preventDefault(); const f = e.target; if (!unit) return;
    try { await api("POST", `/units/${unit}/canvass`, { text: f.text.value }); f.reset(); det.append(el("p", { class: "ok" }, "Canvass sent")); } catch (err) { alert(err.message); }
  });
  map.load().then(async () => {
    const d = await api("GET", "/alerts?limit=20");
    for (const a of d.alerts.slice().reverse()) onAlert(a, false);
    if (d.alerts.length) show(d.alerts[0].incident.id);
    SW.live((m) => { if (m.type === "alert") onAlert(m, true); });
  });
})();
