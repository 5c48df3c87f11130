// Shared by the viewer and the wall display (after i18n.js).
'use strict';
const onemapCommon = (() => {
  const LEVEL_LAYER = { district: 'districts', town: 'towns', village: 'villages', grid: 'grids', unit: 'units' };
  const LAYER_LEVEL = Object.fromEntries(Object.entries(LEVEL_LAYER).map(([k, v]) => [v, k]));
  const { fmtNumber: num, fmtPct: pct } = onemapI18n;
  // A failed request throws an Error carrying the API's stable error code
  // (`code`) and the HTTP status; onemapI18n.errorText words it for people.
  async function getJSON(url, signal) {
    const res = await fetch(url, { signal });
    let body = null;
    try { body = await res.json(); } catch (e) { if (res.ok) throw e; }
    if (!res.ok) {
      const err = new Error((body && body.error && body.error.message) || res.statusText);
      err.code = body && body.error && body.error.code;
      err.status = res.status;
      throw err;
    }
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
  // --- areas shaded by classes of the values shown -------------------------
  // Fixed colour stops paint a whole city one colour when its values sit at
  // one end of the stops. Instead, each level's fill is a `step` over class
  // breaks taken from the values its features actually carry (quantiles: as
  // many areas in each class, at most `k`), recomputed as the view, the time
  // filter or the shading changes, and a legend names each class's range.

  /** Quantile classes of `values`: [{ lo, hi, count }], each range the
   * smallest and largest value in it, classes disjoint and increasing; one
   * class when every value is equal; none when there are no values. The
   * class breaks (`thresholds`) are the `lo` of every class but the first. */
  function quantileClasses(values, k = 5) {
    const v = values.filter(Number.isFinite).sort((a, b) => a - b);
    if (!v.length) return { classes: [], thresholds: [] };
    const thresholds = [];
    // A quantile tied with the break before it (many equal values, often
    // zeros) moves up to the next larger value, so ties do not swallow it.
    for (let i = 1, j = 0; i < k; i++) {
      const last = thresholds.length ? thresholds[thresholds.length - 1] : v[0];
      j = Math.max(j, Math.floor((i * v.length) / k));
      while (j < v.length && v[j] <= last) j++;
      if (j < v.length) thresholds.push(v[j]);
    }
    const classes = [];
    let j = 0;
    for (let c = 0; c <= thresholds.length; c++) {
      const upto = c < thresholds.length ? thresholds[c] : Infinity;
      const start = j;
      while (j < v.length && v[j] < upto) j++;
      classes.push({ lo: v[start], hi: v[j - 1], count: j - start });
    }
    return { classes, thresholds };
  }
  /** `n` colours of a sequential `palette`, spread over it. */
  function spread(palette, n) {
    if (n <= 1) return [palette[Math.floor(palette.length / 2)]];
    return Array.from({ length: n }, (_, i) => palette[Math.round((i * (palette.length - 1)) / (n - 1))]);
  }
  /** Percent digits enough to tell every distinct value apart (at most 4). */
  function pctDigits(values) {
    const v = [...new Set(values)].sort((a, b) => a - b);
    for (let d = 0; d < 4; d++) {
      const f = v.map((x) => pct(x, d));
      if (new Set(f).size === f.length) return d;
    }
    return 4;
  }

  /**
   * Shades the area fill layers (`${layer}-fill` for districts … units) of
   * `map` by quantile classes, and keeps `legend` (an element) describing
   * the level on screen. Districts, towns and villages are classed over the
   * whole city (/api/stats for the filter `query()` gives: all of them, so
   * that an area's colour compares it with the city's, and stays as the view
   * moves); grids and units, too many to count city-wide, over those in the
   * tiles on screen (map.querySourceFeatures), as the view moves.
   * `palettes` = { events: [5 colours], closure: [5 colours, worst first] },
   * `noEvents` the colour of areas without events when shading by closure
   * rate; `metric()` says which ('events' or 'closure'); `visible()` whether
   * areas are shown at all. Returns { refresh(), update(), draw(), current }:
   * refresh() when the filter changes (it counts the city again), update()
   * when the metric changes; the map's `idle` calls update() otherwise.
   * `current` is the legend's level, basis ('city' or 'view') and classes.
   */
  const CITY_LEVELS = ['district', 'town', 'village'];
  function areaShading(map, { source = 'onemap', palettes, noEvents, legend, metric = () => 'events', visible = () => true, query = () => '' }) {
    const { t, code } = onemapI18n;
    const applied = {}; // layer id -> the fill-color last set (JSON)
    const state = { current: null };
    // level -> [{ events, rate }] of every area of the city, for the filter.
    let city = {};
    let asked = 0, counted = false; // counted: the city's first count is in (or failed)
    async function refresh() {
      const q = query();
      const mine = ++asked;
      const answers = await Promise.all(CITY_LEVELS.map((by) =>
        getJSON(`/api/stats?by=${by}${q ? '&' + q : ''}`).catch((e) => { console.warn('stats', by, e); return null; })));
      if (mine !== asked) return; // a newer filter is being counted
      city = {}; counted = true;
      CITY_LEVELS.forEach((l, i) => {
        if (answers[i]) city[l] = answers[i].groups.map((g) => ({ events: g.total, rate: g.closure_rate }));
      });
      update();
    }
    const pick = (m, events, rate) => (m === 'events' ? events : events > 0 && Number.isFinite(rate) ? rate : null);
    // The values of a level's areas, and whether they are the city's or the view's.
    const values = (layer, m) => {
      const level = LAYER_LEVEL[layer];
      if (city[level]) return { basis: 'city', v: city[level].map((a) => pick(m, a.events, a.rate)).filter((x) => x !== null) };
      const seen = new Map();
      for (const f of map.querySourceFeatures(source, { sourceLayer: layer })) {
        const id = f.id ?? f.properties.code;
        if (!seen.has(id)) seen.set(id, pick(m, Number(f.properties.events) || 0, Number(f.properties.closure_rate)));
      }
      return { basis: 'view', v: [...seen.values()].filter((x) => x !== null) };
    };
    const expression = (m, colours, thresholds) => {
      const input = m === 'events' ? ['coalesce', ['get', 'events'], 0] : ['coalesce', ['get', 'closure_rate'], 0];
      const step = thresholds.length ? ['step', input, colours[0], ...thresholds.flatMap((x, i) => [x, colours[i + 1]])] : colours[0];
      return m === 'events' ? step : ['case', ['==', ['coalesce', ['get', 'events'], 0], 0], noEvents, step];
    };
    // The level whose fill layer is drawn at this zoom.
    const levelOnScreen = () => {
      const z = map.getZoom();
      return Object.values(LEVEL_LAYER).find((l) => {
        const layer = map.getLayer(l + '-fill');
        return layer && z >= (layer.minzoom ?? 0) && z < (layer.maxzoom ?? 24);
      });
    };
    // Sets the classes of every level counted city-wide, and of the level on
    // screen; a fill is set again only when its classes change (each change
    // makes MapLibre lay the tiles out anew).
    function update() {
      if (!map.getSource(source)) return;
      const m = metric() === 'closure' ? 'closure' : 'events';
      const shown = levelOnScreen();
      state.current = null;
      for (const layer of Object.values(LEVEL_LAYER)) {
        const id = layer + '-fill';
        if (!map.getLayer(id) || (layer !== shown && !city[LAYER_LEVEL[layer]])) continue;
        if (!counted && CITY_LEVELS.includes(LAYER_LEVEL[layer])) continue; // the city's count comes
        const { basis, v } = values(layer, m);
        const { classes, thresholds } = quantileClasses(v, palettes[m].length);
        const colours = m === 'events' && classes.length === 1 && classes[0].hi === 0
          ? [palettes.events[0]] : spread(palettes[m], classes.length);
        const paint = expression(m, colours, thresholds);
        const json = JSON.stringify(paint);
        if (applied[id] !== json) { map.setPaintProperty(id, 'fill-color', paint); applied[id] = json; }
        if (layer === shown)
          state.current = { level: LAYER_LEVEL[layer], layer, basis, metric: m, areas: v.length,
            classes: classes.map((c, i) => ({ ...c, colour: colours[i] })) };
      }
      draw();
    }
    // The legend: a title, then one row per class (data-lo, data-hi: its
    // range), rows reused so that a wall redrawing it for days keeps no garbage.
    const title = legend.appendChild(document.createElement('div'));
    title.className = 'legend-title';
    const list = legend.appendChild(document.createElement('ol'));
    list.className = 'legend-classes';
    const note = legend.appendChild(document.createElement('div'));
    note.className = 'legend-note';
    function row(i) {
      let li = list.children[i];
      if (!li) {
        li = list.appendChild(document.createElement('li'));
        li.append(document.createElement('i'), document.createElement('span'));
      }
      return li;
    }
    function draw() {
      const cur = state.current;
      legend.hidden = !cur || !visible();
      if (!cur) return;
      const level = code('level', cur.level);
      title.textContent = t(cur.metric === 'events' ? 'legend.events' : 'legend.closure', { level });
      const digits = cur.metric === 'closure' ? pctDigits(cur.classes.flatMap((c) => [c.lo, c.hi])) : 0;
      const unit = cur.metric === 'events' ? t('unit.events') : '';
      const f = (x) => (cur.metric === 'events' ? num(x) : pct(x, digits));
      const rows = cur.classes.map((c) => ({
        colour: c.colour, lo: c.lo, hi: c.hi,
        text: (c.lo === c.hi ? t('legend.one', { lo: f(c.lo) }) : t('legend.range', { lo: f(c.lo), hi: f(c.hi) })) + (unit ? ' ' + unit : ''),
      }));
      if (cur.metric === 'closure') rows.push({ colour: noEvents, text: t('legend.no_events'), none: true });
      if (!cur.classes.length) rows.unshift({ colour: 'transparent', text: t('legend.none'), none: true });
      while (list.children.length > rows.length) list.lastChild.remove();
      rows.forEach((r, i) => {
        const li = row(i);
        li.firstChild.style.background = r.colour;
        li.lastChild.textContent = r.text;
        if (r.none) { delete li.dataset.lo; delete li.dataset.hi; li.dataset.none = ''; }
        else { li.dataset.lo = String(r.lo); li.dataset.hi = String(r.hi); delete li.dataset.none; }
      });
      note.textContent = cur.classes.length
        ? t(cur.basis === 'city' ? 'legend.city' : 'legend.view', { n: num(cur.areas), areas: code('layer', cur.layer) })
          + ' · ' + (cur.classes.length > 1 ? t('legend.classes', { k: cur.classes.length }) : t('legend.equal'))
        : '';
    }
    map.on('idle', update);
    return { refresh, update, draw, get current() { return state.current; } };
  }

  // The loop's time limits (GET /api/deadlines: seconds per step, null for
  // none) and what follows from them: when an event of a status, in it
  // since `at` (Unix seconds), falls due; whether it is overdue at `now`;
  // and a MapLibre filter of the overdue event points at `now`.
  const WAITS = { reported: 'judge', discussing: 'route', routed: 'handle', handled: 'feed_back', fed_back: 'close' };
  function deadlineRules(limits) {
    const limit = (status) => (limits && WAITS[status] && limits[WAITS[status]]) || null;
    const due = (status, at) => (limit(status) && at != null ? at + limit(status) : null);
    const overdueBy = (status, at, now = Date.now() / 1000) => {
      const d = due(status, at);
      return d !== null && now > d ? now - d : 0;
    };
    const filter = (now = Date.now() / 1000) => ['any', false, ...Object.keys(WAITS).filter(limit).map((s) =>
      ['all', ['==', ['get', 'status'], s], ['<', ['to-number', ['get', 'status_at'], now], now - limit(s)]])];
    return { limits, limit, due, overdueBy, filter };
  }
  let deadlinesOnce = null;
  const deadlines = () => (deadlinesOnce ||= getJSON('/api/deadlines').then(deadlineRules, (e) => { deadlinesOnce = null; throw e; }));

  return { LEVEL_LAYER, LAYER_LEVEL, num, pct, getJSON, nextDay, addShipIcons, SHIP_LAYOUT, liveShips, quantileClasses, areaShading, deadlineRules, deadlines };
})();
