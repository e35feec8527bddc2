// Administration: sensors (with their confidential locations), users, audit log.
"use strict";
(() => {
  const { api, el, time } = SW;
  async function sensors() {
    const d = await api("GET", "/sensors");
    document.getElementById("sensors").replaceChildren(...d.sensors.map(s => el("tr", {},
      el("td", {}, s.sensor_id), el("td", {}, s.lat == null ? "—" : s.lat.toFixed(6)), el("td", {}, s.lon == null ? "—" : s.lon.toFixed(6)), el("td", {}, s.last_seen_utc ? time(s.last_seen_utc) : ""),
      el("td", {}, s.revoked ? "revoked" : el("button", { class: "danger", onclick: async () => { await api("POST", `/sensors/${s.sensor_id}/revoke`); sensors(); } }, "Revoke")))));
  }
  async function auditLog() {
    const d = await api("GET", "/audit?limit=200");
    document.getElementById("chain").replaceChildren(el("span", { class: d.chain_ok ? "ok" : "late" }, d.chain_ok ? "chain verified" : `chain broken at #${d.first_bad_id}`));
    document.getElementById("audit").replaceChildren(...d.records.map(r => el("tr", {}, el("td", {}, r.at_utc.slice(0, 19)), el("td", {}, r.actor), el("td", {}, r.action), el("td", {}, r.object))));
  }
  document.getElementById("sensor-form").addEventListener("submit", async (e) => {
    e.preventDefault(); const f = Object.fromEntries(new FormData(e.target));
    try { const r = await api("POST", "/sensors", { sensor_id: f.sensor_id, lat: +f.lat, lon: +f.lon, elevation_m: +f.elevation_m });
      document.getElementById("sensor-token").textContent = `Token for ${r.sensor_id} (shown once): ${r.token}`; sensors(); } catch (err) { alert(err.message); }
  });
  document.getElementById("user-form").addEventListener("submit", async (e) => {
    e.preventDefault(); const f = Object.fromEntries(new FormData(e.target)); if (!f.unit_id) delete f.unit_id;
    try { const r = await api("POST", "/users", f); document.getElementById("user-result").textContent = `Added ${r.username} (${r.role})`; e.target.reset(); } catch (err) { alert(err.message); }
  });
  document.getElementById("unlock-form").addEventListener("submit", async (e) => {
    e.preventDefault(); const f = Object.fromEntries(new FormData(e.target));
    try { const r = await api("POST", `/users/${encodeURIComponent(f.username)}/unlock`);
      document.getElementById("unlock-result").textContent = r.was_locked ? `Unlocked ${r.username}` : `${r.username} was not locked`; e.target.reset(); auditLog(); } catch (err) { alert(err.message); }
  });
  sensors(); auditLog(); setInterval(auditLog, 10000);
})();
