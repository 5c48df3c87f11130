// The wall display: polls /api/wall and tours the districts, forever.
// One timer chain per task, DOM nodes reused, each request bounded by a
// timeout: nothing accumulates over days.
'use strict';
(() => {
  const { num, pct, getJSON, addShipIcons, liveShips, areaShading } = onemapCommon;
  const { t, code, fmtDate, fmtTime, errorReason } = onemapI18n;
  const $ = (id) => document.getElementById(id);
  // Every text of the page from i18n.js, in the URL's language (?lang=en).
  onemapI18n.apply();
  onemapI18n.toggle($('lang-toggle'));
  const opts = new URLSearchParams(location.search);
  const REFRESH_MS = 1000 * Number(opts.get('refresh') || 30);
  const TOUR_MS = 1000 * Number(opts.get('tour') || 20);

  const map = new maplibregl.Map({
    container: 'map', style: '/styles/wall.json', center: [119.0, 25.4], zoom: 8.6,
    interactive: false, attributionControl: false,
    localIdeographFontFamily: '"WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif',
    locale: onemapI18n.maplibreLocale,
  });
  // The live fleet draws these icons, turned to each ship's heading.
  addShipIcons(map, { sea: '#00b8d4', port: '#90a4ae', outline: '#0b1020' });
  const wall = (window.onemapWall = { map, refreshes: 0, tours: 0, summary: null, lastError: null });
  // Districts (and, as the tour zooms in, towns …) shaded by quantile
  // classes of their events, with a legend of the classes' ranges.
  wall.shading = areaShading(map, {
    palettes: { events: ['#1d3461', '#3d3f86', '#86347f', '#d2415c', '#ff7a45'] },
    legend: $('legend'),
  });
  // The city counted again every few minutes (the districts' figures above
  // come every REFRESH_MS; class breaks need not move as often).
  const CLASSES_MS = 1000 * Number(opts.get('classes') || 300);
  (function classes() { wall.shading.refresh().finally(() => setTimeout(classes, CLASSES_MS)); })();

  async function refresh() {
    try {
      const s = await getJSON('/api/wall', AbortSignal.timeout(10000));
      wall.summary = s; wall.refreshes++;
      $('events-today').textContent = num(s.events_today);
      $('today').textContent = fmtDate(s.today.date);
      $('open-events').textContent = num(s.open_events);
      $('closure-rate').textContent = pct(s.closure_rate);
      $('events-7d').textContent = num(s.events_7d);
      $('overdue').textContent = s.overdue == null ? '–' : num(s.overdue);
      $('ships-at-sea').textContent = num(s.ships.at_sea);
      $('ships-in-port').textContent = num(s.ships.in_port);
      $('lists-open-problems').textContent = s.lists ? num(s.lists.open_problems) : '–';
      $('lists-overdue-tasks').textContent = s.lists ? num(s.lists.overdue_tasks) : '–';
      const ports = $('ports');
      const pr = s.ships.ports || [];
      while (ports.children.length > pr.length) ports.lastChild.remove();
      pr.forEach((p, i) => {
        const li = ports.children[i] || ports.appendChild(document.createElement('li'));
        li.textContent = t('wall.port_line', { port: p.port, at_sea: num(p.at_sea), in_port: num(p.in_port) });
      });
      $('hot-days').textContent = t('wall.hot_days', { days: num(s.hotspots.days) });
      const list = $('hotspots');
      const rows = s.hotspots.places.slice(0, 6);
      while (list.children.length > rows.length) list.lastChild.remove();
      rows.forEach((h, i) => {
        const li = list.children[i] || list.appendChild(document.createElement('li'));
        const where = h.unit ? h.unit.name : `${h.lat.toFixed(3)}, ${h.lon.toFixed(3)}`;
        const em = document.createElement('em'); em.textContent = t('wall.hot_count', { count: num(h.count), open: num(h.open) });
        li.textContent = '';
        li.append(em, t('wall.hot_place', { where, category: code('category', h.category) }));
      });
      const st = $('status');
      st.textContent = t('wall.updated', { time: fmtTime(new Date()), n: num(wall.refreshes) });
      st.className = '';
    } catch (e) {
      wall.lastError = String(e);
      $('status').textContent = t('error.stale', { reason: errorReason(e) });
      $('status').className = 'stale';
    } finally {
      schedule(REFRESH_MS);
    }
  }
  // One timer: a live change asks for the summary sooner (once, however
  // many changes come together).
  let refreshTimer = null;
  function schedule(ms) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, ms);
  }

  let stop = 0;
  // The district on tour is outlined (feature-state `tour`, keyed by its
  // code: the style promotes it to the feature id).
  const touring = (id, on) => map.setFeatureState({ source: 'onemap', sourceLayer: 'districts', id: String(id) }, { tour: on });
  function tour() {
    const ds = wall.summary && wall.summary.districts;
    if (ds && ds.length) {
      if (wall.touring !== undefined) touring(wall.touring, false);
      const d = ds[stop++ % ds.length];
      touring(d.id, true);
      wall.touring = d.id;
      wall.tours++;
      $('tour-name').textContent = d.name;
      $('tour-figures').textContent = t('wall.tour_figures', { today: num(d.events_today), open: num(d.open), overdue: num(d.overdue || 0), rate: pct(d.closure_rate) });
      if (d.bbox) map.fitBounds([[d.bbox.min_lon, d.bbox.min_lat], [d.bbox.max_lon, d.bbox.max_lat]], { padding: 40, duration: Math.min(4000, TOUR_MS / 2) });
    }
    setTimeout(tour, TOUR_MS);
  }
  // Alerts and crossings as they happen (EventSource reconnects by itself);
  // the latest eight are shown.
  wall.alerts = [];
  const stream = new EventSource('/api/ships/stream');
  for (const kind of ['alert', 'departure', 'arrival']) {
    stream.addEventListener(kind, (e) => {
      const d = JSON.parse(e.data);
      const what = t('wall.' + kind, { mmsi: d.mmsi, zone: d.zone, port: d.port });
      wall.alerts.unshift({ kind, text: what, time: d.time });
      wall.alerts.length = Math.min(wall.alerts.length, 8);
      const list = $('alerts');
      while (list.children.length > wall.alerts.length) list.lastChild.remove();
      wall.alerts.forEach((a, i) => {
        const li = list.children[i] || list.appendChild(document.createElement('li'));
        li.textContent = `${fmtTime(a.time)} ${a.text}`;
        li.className = a.kind === 'alert' ? 'alert' : '';
      });
    });
  }
  // Events reported or moved along the loop, as they happen (the same
  // stream): the latest five listed, new reports drawn on the map for a
  // while, and the figures asked for again at once.
  wall.live = [];
  const districtOf = (unit) => {
    const d = wall.summary && wall.summary.districts.find((x) => String(unit).startsWith(String(x.id)));
    return d ? d.name : '';
  };
  stream.addEventListener('event', (msg) => {
    const e = JSON.parse(msg.data);
    wall.live.unshift(e);
    wall.live.length = Math.min(wall.live.length, 5);
    const list = $('live-events');
    while (list.children.length > wall.live.length) list.lastChild.remove();
    wall.live.forEach((x, i) => {
      const li = list.children[i] || list.appendChild(document.createElement('li'));
      li.textContent = t('wall.live_line', { time: fmtTime(x.status_at), district: districtOf(x.unit), category: code('category', x.category), status: code('status', x.status) });
      li.dataset.id = x.id; li.dataset.status = x.status;
    });
    const src = map.getSource('live-events');
    if (src && e.status === 'reported') {
      wall.newReports = [{ type: 'Feature', geometry: { type: 'Point', coordinates: [e.lon, e.lat] }, properties: { id: e.id, at: Date.now() } },
        ...(wall.newReports || []).filter((f) => Date.now() - f.properties.at < 10 * 60000)].slice(0, 50);
      src.setData({ type: 'FeatureCollection', features: wall.newReports });
    }
    schedule(300);
  });
  // Coordinated inspections (/api/coord/figures, the demo year): this
  // month's on-site and accompanied inspections before → after, and visits
  // per school a month; asked again every five minutes.
  async function coordFigures() {
    try {
      const f = await getJSON('/api/coord/figures?area=city', AbortSignal.timeout(60000));
      const m = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', month: 'numeric' }).format(new Date()));
      const x = f.months[m - 1];
      wall.coord = { month: m, figures: x };
      $('coord-title').textContent = t('wall.coord', { month: t('coord.year_month', { y: f.year, m }) });
      $('coord-onsite').textContent = t('wall.coord_onsite', { before: num(x.onsite.before), after: num(x.onsite.after) });
      $('coord-accompanied').textContent = t('wall.coord_accompanied', { before: num(x.accompanied.before), after: num(x.accompanied.after) });
      const per = (n) => (f.schools ? (n / f.schools).toFixed(2) : '–');
      $('coord-schools').textContent = t('wall.coord_schools', { before: per(x.school_visits.before), after: per(x.school_visits.after) });
    } catch (e) {
      wall.lastError = `coordination: ${e}`;
    } finally {
      setTimeout(coordFigures, 300000);
    }
  }
  coordFigures();
  refresh();
  map.on('load', () => {
    map.addSource('live-events', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'live-events', type: 'circle', source: 'live-events',
      paint: { 'circle-radius': 9, 'circle-color': '#ffd54f', 'circle-opacity': 0.9, 'circle-stroke-color': '#ff6f00', 'circle-stroke-width': 3 } });
    setTimeout(tour, 1000);
    // The fleet moves on the wall as reports come (the same stream).
    liveShips(map, stream)
      .then((live) => { wall.ships = live; })
      .catch((e) => { wall.lastError = `live ships: ${e}`; });
  });
})();
