// Review queue: every incident waits here with a running timer until a reviewer decides.
"use strict";
(() => {
  const { api, el, time } = SW;
  const target = SW.config.review_target_s || 60;
  document.getElementById("target").textContent = target;
  const items = new Map(); // id -> {inc, seenAt (ms), age0}
  const body = document.getElementById("queue"), empty = document.getElementById("empty");
  const map = new SWMap(document.getElementById("map"), {});
  function render() {
    body.replaceChildren(); empty.style.display = items.size ? "none" : "";
    for (const [id, it] of items) {
      const inc = it.inc;
      const timer = el("span", { class: "timer", "data-start": String(it.seenAt - it.age0 * 1000) });
      const audio = el("audio", { preload: "none", src: inc.audio_url || "" });
      const sel = el("select", {}, ...["gunfire", "probable_gunfire", "non_gunfire"].map(c => el("option", { value: c }, c)));
      const decide = async (action) => {
        const b = { action }; if (action === "reclassify") b.classification = sel.value;
        try { await api("POST", `/review/${id}`, b); items.delete(id); render(); } catch (e) { alert(e.message); }
      };
      body.append(el("tr", { "data-incident": id, onmouseenter: () => { map.select(id); } },
        el("td", {}, timer), el("td", {}, time(inc.first_shot_utc)), el("td", {}, inc.classification),
        el("td", {}, inc.confidence), el("td", {}, inc.rounds), el("td", {}, inc.location),
        el("td", {}, el("button", { onclick: () => audio.play().catch(() => {}) }, "▶"), audio),
        el("td", { class: "row" }, el("button", { class: "primary", onclick: () => decide("confirm") }, "Confirm"),
          sel, el("button", { onclick: () => decide("reclassify") }, "Reclassify"),
          el("button", { class: "danger", onclick: () => decide("dismiss") }, "Dismiss"))));
    }
    tick();
  }
  function tick() {
    for (const t of document.querySelectorAll(".timer")) {
      const s = (Date.now() - Number(t.dataset.start)) / 1000;
      t.textContent = s.toFixed(0) + " s"; t.className = "timer " + (s > target ? "late" : "ok");
    }
  }
  setInterval(tick, 500);
  function upsert(inc, age) {
    if (inc.review_status !== "pending") { items.delete(inc.id); render(); return; }
    const prev = items.get(inc.id);
    items.set(inc.id, { inc, seenAt: prev ? prev.seenAt : Date.now(), age0: prev ? prev.age0 : (age || 0) });
    map.upsert(inc); render();
  }
  map.load().then(async () => {
    const d = await api("GET", "/review");
    for (const inc of d.queue) upsert(inc, inc.age_s);
    SW.live((m) => { if (m.type === "review") upsert(m.incident, 0); });
  });
})();
