// Shared by the viewer and the wall display.
'use strict';
const onemapCommon = (() => {
  const LEVEL_LAYER = { district: 'districts', town: 'towns', village: 'villages', grid: 'grids', unit: 'units' };
  const LEVEL_NAME = { district: '区县', town: '镇街', village: '村居', grid: '网格', unit: '单元' };
  const fmt = new Intl.NumberFormat('en-US');
  const num = (n) => (n === null || n === undefined ? '–' : fmt.format(n));
  const pct = (r) => (r === null || r === undefined ? '–' : (100 * r).toFixed(2) + '%');
  async function getJSON(url, signal) {
    const res = await fetch(url, { signal });
    const body = await res.json();
    if (!res.ok) throw new Error((body.error && body.error.message) || res.statusText);
    return body;
  }
  // Date input value (YYYY-MM-DD) → the day after, for an exclusive 'to'.
  function nextDay(d) {
    const t = new Date(d + 'T00:00:00Z');
    t.setUTCDate(t.getUTCDate() + 1);
    return t.toISOString().slice(0, 10);
  }
  // Ship icons, drawn here rather than loaded (the styles have no sprite):
  // 'ship' (at sea) and 'ship-port' (in port), a pointed hull with a notched
  // stern pointing north, so that `icon-rotate: ['get', 'heading']` (degrees
  // clockwise from north, 'map' alignment) turns it to the ship's course.
  // They are added when the style first asks for either image
  // (styleimagemissing, so MapLibre never reports them missing) or at once if
  // the style is already loaded, with the page's own colours.
  const SHIP_ICON = { size: 15, ratio: 2 }; // 15 CSS px square, drawn at 2x
  function shipIcon(fill, outline) {
    const n = SHIP_ICON.size * SHIP_ICON.ratio;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = n;
    const c = canvas.getContext('2d');
    const x = (f) => f * n, cx = n / 2;
    c.beginPath();
    c.moveTo(cx, x(0.06)); // the bow
    c.quadraticCurveTo(x(0.78), x(0.3), x(0.76), x(0.62));
    c.lineTo(x(0.72), x(0.93));
    c.lineTo(cx, x(0.8)); // the notch in the stern
    c.lineTo(x(0.28), x(0.93));
    c.lineTo(x(0.24), x(0.62));
    c.quadraticCurveTo(x(0.22), x(0.3), cx, x(0.06));
    c.closePath();
    c.lineJoin = 'round';
    c.lineWidth = SHIP_ICON.ratio * 1.2;
    c.strokeStyle = outline;
    c.fillStyle = fill;
    c.fill();
    c.stroke();
    return c.getImageData(0, 0, n, n);
  }
  function addShipIcons(map, { sea, port, outline }) {
    const images = { ship: sea, 'ship-port': port };
    const add = () => {
      for (const [id, fill] of Object.entries(images))
        if (!map.hasImage(id)) map.addImage(id, shipIcon(fill, outline), { pixelRatio: SHIP_ICON.ratio });
    };
    map.on('styleimagemissing', (e) => { if (e.id in images) add(); });
    if (map.isStyleLoaded()) add(); else map.once('load', add);
  }
  // The layout of a ship symbol layer (the icon chosen by `in_port`).
  const SHIP_LAYOUT = {
    'icon-image': ['case', ['get', 'in_port'], 'ship-port', 'ship'],
    'icon-rotate': ['get', 'heading'],
    'icon-rotation-alignment': 'map',
    'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 14, 1.2],
    'icon-allow-overlap': true,
    'icon-ignore-placement': true,
  };
  // Live ships on a map: the fleet from /api/ships in a GeoJSON source
  // `live-ships`, drawn by a symbol layer of the same id, moved by the
  // `position` events of `stream` (an EventSource on /api/ships/stream),
  // each ship gliding from where it is drawn to its report over ANIM_MS. A
  // client that fell behind (`lagged`) reloads the fleet. Returns the state:
  // `ships` (mmsi -> { from, to, t0, props }) and the count of `reports`.
  const ANIM_MS = 900;
  async function liveShips(map, stream, { before } = {}) {
    const live = { ships: new Map(), reports: 0 };
    const ships = live.ships;
    const at = (s, now) => {
      const k = Math.max(0, Math.min(1, (now - s.t0) / ANIM_MS));
      return [s.from[0] + (s.to[0] - s.from[0]) * k, s.from[1] + (s.to[1] - s.from[1]) * k];
    };
    const data = (now) => {
      const features = [];
      for (const [mmsi, s] of ships)
        features.push({ type: 'Feature', id: mmsi, geometry: { type: 'Point', coordinates: at(s, now) }, properties: s.props });
      return { type: 'FeatureCollection', features };
    };
    let animating = false;
    const frame = () => {
      const src = map.getSource('live-ships');
      const now = performance.now();
      if (src) src.setData(data(now));
      if ([...ships.values()].some((s) => now - s.t0 < ANIM_MS)) requestAnimationFrame(frame);
      else animating = false;
    };
    const kick = () => { if (!animating) { animating = true; requestAnimationFrame(frame); } };
    const props = (x) => ({ mmsi: x.mmsi, name: x.name, home_port: x.home_port, heading: x.course_deg, speed_kn: x.speed_kn, in_port: x.in_port });
    const r = await getJSON('/api/ships');
    for (const x of r.ships) ships.set(x.mmsi, { from: [x.lon, x.lat], to: [x.lon, x.lat], t0: 0, props: props(x) });
    map.addSource('live-ships', { type: 'geojson', data: data(performance.now()) });
    map.addLayer({ id: 'live-ships', type: 'symbol', source: 'live-ships', layout: SHIP_LAYOUT }, before);
    const moveTo = (s, x, now) => {
      s.from = at(s, now); s.to = [x.lon, x.lat]; s.t0 = now;
      Object.assign(s.props, { heading: x.course_deg, speed_kn: x.speed_kn, in_port: x.in_port });
    };
    stream.addEventListener('position', (e) => {
      const d = JSON.parse(e.data);
      const s = ships.get(d.mmsi);
      if (!s) return;
      moveTo(s, d, performance.now());
      live.reports++;
      kick();
    });
    stream.addEventListener('lagged', async () => {
      const fleet = await getJSON('/api/ships');
      const now = performance.now();
      for (const x of fleet.ships) { const s = ships.get(x.mmsi); if (s) moveTo(s, x, now); }
      kick();
    });
    return live;
  }
  return { LEVEL_LAYER, LEVEL_NAME, num, pct, getJSON, nextDay, addShipIcons, SHIP_LAYOUT, liveShips };
})();
