// Dispatch console: live alert list, map, incident detail with audio and the CAD call.
"use strict";
(() => {
  const { api, el, time, cadBlock, incidentFacts } = SW;
  const alerts = new Map();   // incident id -> latest alert
  let selected = null;
  const list = document.getElementById("alerts");
  const detail = document.getElementById("detail");
  const citizenForm = document.getElementById("citizen-form");
  const map = new SWMap(document.getElementById("map"), {
    onSelect: (id) => select(id),
    onClick: (lat, lon) => { citizenForm.lat.value = lat.toFixed(6); citizenForm.lon.value = lon.toFixed(6); },
  });

  function renderList() {
    list.replaceChildren();
    const items = [...alerts.values()].sort((a, b) => b.incident.first_shot_utc.localeCompare(a.incident.first_shot_utc));
    for (const a of items) {
      const inc = a.incident;
      const cls = (inc.id === selected ? "sel " : "") + (a._new ? "new " : "") + (a.kind === "cancel" ? "cancelled" : "");
      const li = el("li", { "data-incident": inc.id, class: cls, onclick: () => select(inc.id) },
        el("div", {}, el("b", {}, inc.location)),
        el("div", {}, a.kind === "cancel" ? "CANCELLED: " + inc.summary : inc.heard),
        el("div", { class: "t" }, `${time(inc.first_shot_utc)} · ${inc.classification} · CAD ${a.cad_call ? a.cad_call.type_code + " P" + a.cad_call.priority : "-"}`));
      list.append(li); a._new = false;
    }
  }
  function onAlert(a, fresh) {
    const prev = alerts.get(a.incident.id);
    if (prev && prev.version > a.version) return;
    a._new = fresh && !prev; alerts.set(a.incident.id, a);
    map.upsert(a.incident);
    renderList();
    if (fresh && (!selected || !prev)) select(a.incident.id);
    else if (selected === a.incident.id) renderDetail(a);
  }
  function select(id) { selected = id; map.select(id); const a = alerts.get(id); if (a) { renderDetail(a); map.center(a.incident.lon, a.incident.lat, 700); } renderList(); }

  async function renderDetail(a) {
    const inc = a.incident;
    const audio = el("audio", { controls: "", preload: "none", "data-testid": "audio", src: inc.audio_url || "" });
    const play = el("button", { class: "primary", "data-testid": "play", onclick: () => audio.play().catch(e => console.warn(e)) }, "▶ Play audio");
    if (!inc.audio_url) play.disabled = true;
    const units = await api("GET", "/units").then(d => d.units).catch(() => []);
    const cad = a.cad_call;
    const actions = el("div", { class: "stack" });
    if (cad) {
      const sel = el("select", { name: "unit" }, ...units.map(u => el("option", { value: u.unit_id }, `${u.unit_id} (${u.status})`)));
      actions.append(
        el("div", { class: "row" }, sel, el("button", { onclick: async () => { update(await api("POST", `/cad-calls/${cad.id}/units`, { unit_id: sel.value })); } }, "Assign unit")),
        el("div", { class: "row" },
          el("button", { class: "danger", onclick: async () => { update(await api("POST", `/cad-calls/${cad.id}/escalate`, { medical: true, extra_units: 2 })); } }, "Confirmed shooting: escalate + medical")));
      const sup = el("form", { class: "stack" },
        el("input", { name: "victim", placeholder: "Victim" }), el("input", { name: "subject", placeholder: "Subject" }),
        el("input", { name: "vehicle", placeholder: "Vehicle" }), el("input", { name: "weapon", placeholder: "Discarded weapon" }),
        el("button", { type: "submit" }, "Add pertinent information"));
      sup.addEventListener("submit", async (e) => { e.preventDefault();
        const body = Object.fromEntries(new FormData(sup)); try { update(await api("POST", `/cad-calls/${cad.id}/supplement`, body)); sup.reset(); } catch (err) { alert(err.message); } });
      actions.append(sup);
    }
    detail.replaceChildren(
      el("h2", { "data-testid": "detail-title" }, inc.location),
      incidentFacts(inc), el("div", { class: "row" }, play), audio,
      cadBlock(cad), el("h3", {}, "Actions"), actions);
  }
  function update(cadCall) {
    const a = [...alerts.values()].find(x => x.cad_call && x.cad_call.id === cadCall.id);
    if (a) { a.cad_call = cadCall; if (selected === a.incident.id) renderDetail(a); renderList(); }
  }
  citizenForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(citizenForm));
    const body = { address: f.address, narrative: f.narrative, victim: f.victim, subject: f.subject, vehicle: f.vehicle, weapon: f.weapon };
    if (f.lat && f.lon) { body.lat = parseFloat(f.lat); body.lon = parseFloat(f.lon); }
    const out = document.getElementById("citizen-result");
    try {
      const c = await api("POST", "/citizen-calls", body);
      citizenForm.reset();
      if (c.proposed_incident_id) {
        out.replaceChildren(el("p", {}, `Call #${c.id} (${c.address}) looks like a duplicate of incident ${c.proposed_incident_id} (${c.proposed_distance_m} m away).`),
          el("button", { class: "primary", onclick: async () => { const r = await api("POST", `/citizen-calls/${c.id}/attach`, {}); update(r.cad_call); out.replaceChildren(el("p", { class: "ok" }, `Attached; ${r.supplements_added} pertinent item(s) added.`)); } }, "Attach to original incident"));
      } else out.replaceChildren(el("p", {}, `Call #${c.id} entered (${c.address}); no ShotWatch incident nearby.`));
    } catch (err) { out.replaceChildren(el("p", { class: "error" }, err.message)); }
  });

  map.load().then(async () => {
    const d = await api("GET", "/alerts?limit=100");
    for (const a of d.alerts.slice().reverse()) onAlert(a, false);
    if (d.alerts.length && !selected) select(d.alerts[0].incident.id);
    SW.live((m) => {
      if (m.type === "alert") onAlert(m, true);
      else if (m.type === "cad") update(m.cad_call);
    });
  });
})();
