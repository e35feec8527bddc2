// Shared helpers: config, JSON API calls, the live WebSocket, formatting.
"use strict";
const SW = (() => {
  const cfgEl = document.getElementById("sw-config");
  const config = cfgEl ? JSON.parse(cfgEl.textContent) : {};
  async function api(method, path, body) {
    const opt = { method, headers: {}, credentials: "same-origin" };
    if (body !== undefined) { opt.headers["content-type"] = "application/json"; opt.body = JSON.stringify(body); }
    const r = await fetch("/api/v1" + path, opt);
    if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("signed out"); }
    const ct = r.headers.get("content-type") || "";
    const data = ct.includes("json") ? await r.json() : await r.text();
    if (!r.ok) throw new Error((data && data.detail) ? JSON.stringify(data.detail) : ("HTTP " + r.status));
    return data;
  }
  const connEl = document.getElementById("conn");
  if (connEl) connEl.style.display = "none";  // shown by pages that use the live stream
  function live(onMessage) {
    const conn = document.getElementById("conn");
    if (conn) conn.style.display = "";
    let delay = 500;
    function open() {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/alerts");
      ws.onopen = () => { delay = 500; if (conn) { conn.textContent = "live"; conn.classList.add("live"); } };
      ws.onmessage = (ev) => { try { onMessage(JSON.parse(ev.data)); } catch (e) { console.error(e); } };
      ws.onclose = () => { if (conn) { conn.textContent = "offline"; conn.classList.remove("live"); }
        setTimeout(open, delay); delay = Math.min(delay * 2, 10000); };
      setInterval(() => { if (ws.readyState === 1) ws.send("ping"); }, 25000);
    }
    open();
  }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  function time(utc) { return utc ? utc.slice(11, 19) + "Z" : ""; }
  function mph(mps) { return mps == null ? "" : (mps * 2.2369363).toFixed(0) + " mph"; }
  function kv(pairs) {
    const dl = el("dl", { class: "kv" });
    for (const [k, v] of pairs) { dl.append(el("dt", {}, k), el("dd", {}, v)); }
    return dl;
  }
  function cadBlock(cad) {
    if (!cad) return el("p", { class: "muted" }, "No CAD call.");
    const tl = el("ul", { class: "timeline" });
    for (const e of (cad.timeline || []).slice().reverse()) tl.append(el("li", {}, `${time(e.at_utc)} [${e.kind}] ${e.text}`));
    const units = (cad.units || []).map(u => `${u.unit_id} ${u.status}${u.self_dispatched ? " (self-dispatched)" : ""}`).join(", ") || "none";
    return el("div", { class: "cad", id: "cad-" + cad.id },
      el("div", {}, el("span", { class: "code", "data-testid": "cad-type" }, cad.type_code),
        " · ", el("span", { class: "code", "data-testid": "cad-priority" }, "Priority " + cad.priority),
        " · CAD #" + cad.id, cad.status === "cancelled" ? " · CANCELLED" : "", cad.confirmed_shooting ? " · CONFIRMED SHOOTING" : "", cad.medical_requested ? " · MEDICAL" : ""),
      el("div", { "data-testid": "cad-location" }, cad.location),
      el("p", { "data-testid": "cad-narrative" }, cad.narrative),
      el("div", {}, "Units: ", units), tl);
  }
  function incidentFacts(inc) {
    const pairs = [["Location", inc.location], ["Heard", inc.heard], ["First shot", inc.first_shot_utc],
      ["Rounds", String(inc.rounds)], ["Shooters", String(inc.shooters)],
      ["Accuracy", "± " + inc.error_radius_m + " m"], ["Class", inc.classification + " (" + inc.confidence + ")"]];
    if (inc.mobile) pairs.push(["Moving", `${inc.direction || ""} ${inc.heading_deg ?? ""}° at ${mph(inc.speed_mps)}`]);
    return kv(pairs);
  }
  return { config, api, live, el, time, mph, kv, cadBlock, incidentFacts };
})();
