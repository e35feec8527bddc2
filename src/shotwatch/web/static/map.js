// A small SVG map: the department's street layer (or raster tiles from a configured
// tile URL) in Web Mercator, incident markers with their error circle, pan and zoom.
"use strict";
class SWMap {
  constructor(el, opts) {
    this.el = el; this.opts = opts || {}; this.Z = 17; this.W = 256 * Math.pow(2, this.Z);
    this.o = [0, 0];  // origin offset: keeps SVG numbers small (text breaks at ~1e7)
    this.markers = new Map(); this.onSelect = this.opts.onSelect || (() => {});
    const NS = "http://www.w3.org/2000/svg"; this.NS = NS;
    this.svg = document.createElementNS(NS, "svg");
    this.svg.setAttribute("data-testid", "map");
    this.tiles = document.createElementNS(NS, "g");
    this.streets = document.createElementNS(NS, "g");
    this.labels = document.createElementNS(NS, "g");
    this.incs = document.createElementNS(NS, "g");
    this.svg.append(this.tiles, this.streets, this.labels, this.incs);
    el.append(this.svg);
    const z = document.createElement("div"); z.className = "zoom";
    const zi = document.createElement("button"); zi.textContent = "+"; zi.onclick = () => this.zoom(0.6);
    const zo = document.createElement("button"); zo.textContent = "−"; zo.onclick = () => this.zoom(1 / 0.6);
    z.append(zi, zo); el.append(z);
    if (SW.config.tile_attribution) { const a = document.createElement("div"); a.className = "attrib"; a.textContent = SW.config.tile_attribution; el.append(a); }
    this._drag();
  }
  px(lon, lat) {
    const x = (lon + 180) / 360 * this.W;
    const s = Math.sin(lat * Math.PI / 180);
    const y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * this.W;
    return [x - this.o[0], y - this.o[1]];
  }
  metresToPx(m, lat) { return m / (156543.03392 * Math.cos(lat * Math.PI / 180) / Math.pow(2, this.Z)); }
  async load() {
    const r = await fetch("/streets.geojson", { credentials: "same-origin" });
    const gj = await r.json();
    let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
    const named = new Map();
    const f0 = gj.features.find(f => f.geometry && f.geometry.coordinates);
    if (f0) { const c = f0.geometry.type === "LineString" ? f0.geometry.coordinates[0] : f0.geometry.type === "Point" ? f0.geometry.coordinates : f0.geometry.coordinates[0][0];
      this.o = [0, 0]; this.o = this.px(c[0], c[1]); }
    for (const f of gj.features) {
      const g = f.geometry || {}; const lines = g.type === "LineString" ? [g.coordinates] : g.type === "MultiLineString" ? g.coordinates : [];
      for (const line of lines) {
        const pts = line.map(c => this.px(c[0], c[1]));
        for (const [x, y] of pts) { minx = Math.min(minx, x); maxx = Math.max(maxx, x); miny = Math.min(miny, y); maxy = Math.max(maxy, y); }
        if (!SW.config.tile_url) {
          const pl = document.createElementNS(this.NS, "polyline");
          pl.setAttribute("points", pts.map(p => p.join(",")).join(" ")); pl.setAttribute("class", "street");
          this.streets.append(pl);
          const name = (f.properties || {}).name;
          if (name) { const k = (named.get(name) || 0) + 1; named.set(name, k); if (k % 2 === 1) this._label(name, pts); }
        }
      }
    }
    if (!isFinite(minx)) { [minx, miny] = this.px(-121.5, 38.59); [maxx, maxy] = this.px(-121.48, 38.57); }
    const pad = 40; this.home = [minx - pad, miny - pad, maxx - minx + 2 * pad, maxy - miny + 2 * pad];
    this.setView(this.home);
  }
  _label(name, pts) {
    const [x0, y0] = pts[0], [x1, y1] = pts[pts.length - 1];
    let ang = Math.atan2(y1 - y0, x1 - x0) * 180 / Math.PI; if (ang > 90) ang -= 180; if (ang < -90) ang += 180;
    const mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
    const t = document.createElementNS(this.NS, "text"); t.setAttribute("class", "label");
    t.setAttribute("x", mx); t.setAttribute("y", my - 2); t.setAttribute("text-anchor", "middle");
    t.setAttribute("transform", `rotate(${ang} ${mx} ${my})`); t.textContent = name; this.labels.append(t);
  }
  setView(vb) { this.vb = vb; this.svg.setAttribute("viewBox", vb.join(" ")); this.svg.setAttribute("preserveAspectRatio", "xMidYMid meet"); this._labelSize(); this._tiles(); }
  _labelSize() {
    const k = this.vb[2] / Math.max(1, this.el.clientWidth) * 11;  // about 11 screen px
    this.labels.setAttribute("font-size", k.toFixed(2));
    this.labels.style.display = this.vb[2] > 1300 ? "none" : "";
  }
  zoom(f, cx, cy) {
    const [x, y, w, h] = this.vb; cx = cx ?? x + w / 2; cy = cy ?? y + h / 2;
    this.setView([cx - (cx - x) * f, cy - (cy - y) * f, w * f, h * f]);
  }
  center(lon, lat, widthM) {
    const [cx, cy] = this.px(lon, lat); const w = this.metresToPx(widthM || 600, lat);
    const r = this.el.clientHeight / Math.max(1, this.el.clientWidth) || 1;
    this.setView([cx - w / 2, cy - w * r / 2, w, w * r]);
  }
  _tiles() {
    const url = SW.config.tile_url; if (!url) return;
    const [x, y, w] = this.vb; const scale = w / Math.max(1, this.el.clientWidth);
    const z = Math.max(0, Math.min(19, Math.round(this.Z - Math.log2(Math.max(scale, 1e-6)))));
    const tilePx = 256 * Math.pow(2, this.Z - z);
    while (this.tiles.firstChild) this.tiles.firstChild.remove();
    const h = this.vb[3];
    const X = x + this.o[0], Y = y + this.o[1];
    for (let tx = Math.floor(X / tilePx); tx <= Math.floor((X + w) / tilePx); tx++) {
      for (let ty = Math.floor(Y / tilePx); ty <= Math.floor((Y + h) / tilePx); ty++) {
        const img = document.createElementNS(this.NS, "image");
        img.setAttribute("href", url.replace("{z}", z).replace("{x}", tx).replace("{y}", ty).replace("{s}", "a"));
        img.setAttribute("x", tx * tilePx - this.o[0]); img.setAttribute("y", ty * tilePx - this.o[1]);
        img.setAttribute("width", tilePx); img.setAttribute("height", tilePx);
        this.tiles.append(img);
      }
    }
  }
  _drag() {
    let start = null;
    this.svg.addEventListener("mousedown", (e) => { start = [e.clientX, e.clientY, this.vb.slice()]; });
    window.addEventListener("mouseup", () => { start = null; });
    window.addEventListener("mousemove", (e) => {
      if (!start) return; const k = start[2][2] / Math.max(1, this.el.clientWidth);
      this.setView([start[2][0] - (e.clientX - start[0]) * k, start[2][1] - (e.clientY - start[1]) * k, start[2][2], start[2][3]]);
    });
    this.svg.addEventListener("wheel", (e) => { e.preventDefault(); this.zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2); }, { passive: false });
    this.svg.addEventListener("click", (e) => {
      if (!this.opts.onClick) return; const pt = this.svg.createSVGPoint(); pt.x = e.clientX; pt.y = e.clientY;
      const p = pt.matrixTransform(this.svg.getScreenCTM().inverse());
      const [lat, lon] = this.toLatLon(p.x, p.y); this.opts.onClick(lat, lon);
    });
  }
  toLatLon(x, y) {
    const wx = x + this.o[0], wy = y + this.o[1];
    const lon = wx / this.W * 360 - 180; const n = Math.PI - 2 * Math.PI * wy / this.W;
    return [180 / Math.PI * Math.atan(Math.sinh(n)), lon];
  }
  upsert(inc) {
    let g = this.markers.get(inc.id);
    if (g) g.remove();
    g = document.createElementNS(this.NS, "g"); g.setAttribute("data-incident", inc.id);
    const [x, y] = this.px(inc.lon, inc.lat);
    const err = document.createElementNS(this.NS, "circle"); err.setAttribute("class", "err");
    err.setAttribute("cx", x); err.setAttribute("cy", y); err.setAttribute("r", Math.max(2, this.metresToPx(inc.error_radius_m, inc.lat)));
    g.append(err);
    if (inc.shots && inc.shots.length > 1) {
      const pl = document.createElementNS(this.NS, "polyline"); pl.setAttribute("class", "track");
      pl.setAttribute("points", inc.shots.map(s => this.px(s.lon, s.lat).join(",")).join(" ")); g.append(pl);
    }
    const c = document.createElementNS(this.NS, "circle"); c.setAttribute("class", "inc");
    c.setAttribute("cx", x); c.setAttribute("cy", y); c.setAttribute("r", this.metresToPx(9, inc.lat));
    c.addEventListener("click", (e) => { e.stopPropagation(); this.onSelect(inc.id); });
    const title = document.createElementNS(this.NS, "title"); title.textContent = `${inc.location}: ${inc.heard}`; c.append(title);
    g.append(c); this.incs.append(g); this.markers.set(inc.id, g);
  }
  select(id) {
    for (const [k, g] of this.markers) g.querySelector(".inc").classList.toggle("sel", k === id);
  }
}
