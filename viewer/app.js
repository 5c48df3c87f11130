// The onemap viewer: one vector source with every layer, filtered by time.
'use strict';
(() => {
  const { LEVEL_LAYER, LEVEL_NAME, num, pct, getJSON, nextDay, addShipIcons, liveShips } = onemapCommon;
  const ALL = 'districts,towns,villages,grids,units,labels,events,ships,heritage,homesteads,enterprises,schools';
  const AREA_LEVELS = ['districts', 'towns', 'villages', 'grids', 'units'];
  const SWITCHES = {
    areas: AREA_LEVELS.flatMap((l) => [l + '-fill', l + '-line']),
    events: ['events-hex', 'events'],
    ships: ['live-ships', 'ship-track', 'geofence'], heritage: ['heritage'], homesteads: ['homesteads'],
    enterprises: ['enterprises-hex', 'enterprises'], schools: ['schools'], labels: ['labels'],
  };
  const $ = (id) => document.getElementById(id);

  // --- state, kept in the URL hash -----------------------------------------
  const hash = new URLSearchParams(location.hash.slice(1));
  const state = {
    from: hash.get('from') || '', to: hash.get('to') || '',
    shade: hash.get('shade') === 'closure' ? 'closure' : 'events',
    off: new Set((hash.get('off') || 'enterprises').split(',').filter(Boolean)),
    area: hash.get('area') || null,
  };
  const view = (hash.get('map') || '').split('/').map(Number);
  function writeHash() {
    const c = map.getCenter();
    const h = new URLSearchParams();
    h.set('map', [map.getZoom().toFixed(2), c.lat.toFixed(5), c.lng.toFixed(5)].join('/'));
    if (state.from) h.set('from', state.from);
    if (state.to) h.set('to', state.to);
    if (state.shade !== 'events') h.set('shade', state.shade);
    h.set('off', [...state.off].join(','));
    if (state.area) h.set('area', state.area);
    history.replaceState(null, '', '#' + h.toString().replace(/%2C/g, ',').replace(/%2F/g, '/'));
  }
  // The filter as a query string: 'to' is inclusive in the form, exclusive in the API.
  function filterQuery() {
    const q = new URLSearchParams();
    if (state.from) q.set('from', state.from);
    if (state.to) q.set('to', nextDay(state.to));
    return q.toString();
  }

  const map = new maplibregl.Map({
    container: 'map',
    style: '/styles/day.json',
    center: view.length === 3 && view.every(Number.isFinite) ? [view[2], view[1]] : [119.0, 25.4],
    zoom: view.length === 3 && view.every(Number.isFinite) ? view[0] : 8.5,
    localIdeographFontFamily: '"WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif',
    attributionControl: { compact: true },
  });
  map.addControl(new maplibregl.NavigationControl(), 'bottom-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  addShipIcons(map, { sea: '#0b6fa4', port: '#7f8c8d', outline: '#ffffff' });
  const onemap = (window.onemap = { map, state, details: null, tileStatus: [], ready: false });

  map.on('error', (e) => console.warn('map error', e.error && e.error.message));
  map.on('moveend', writeHash);
  map.on('load', async () => {
    if (view.length !== 3) {
      const cat = await getJSON('/catalog');
      if (cat.bounds) map.fitBounds([[cat.bounds[0], cat.bounds[1]], [cat.bounds[2], cat.bounds[3]]], { padding: 30, duration: 0 });
    }
    // The tile layer draws ships as loaded; the live layer moves them.
    if (map.getLayer('ships')) map.setLayoutProperty('ships', 'visibility', 'none');
    try { await startShips(); } catch (e) { console.warn('live ships', e); }
    buildSwitches();
    $('from').value = state.from; $('to').value = state.to;
    document.querySelector(`input[name=shade][value=${state.shade}]`).checked = true;
    applyFilter(false);
    if (state.area) showArea(state.area, false);
    onemap.ready = true;
  });

  // --- live ships: /api/ships, then its SSE stream, animated (common.js) ----
  async function startShips() {
    map.addSource('ship-track', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addSource('geofence', { type: 'geojson', data: await getJSON('/api/ships/geofence') });
    map.addLayer({ id: 'geofence', type: 'fill', source: 'geofence',
      paint: { 'fill-color': ['match', ['get', 'kind'], 'zone', '#d7301f', '#0b6fa4'], 'fill-opacity': 0.2,
        'fill-outline-color': ['match', ['get', 'kind'], 'zone', '#d7301f', '#0b6fa4'] } });
    map.addLayer({ id: 'ship-track', type: 'line', source: 'ship-track',
      paint: { 'line-color': '#0b6fa4', 'line-width': 2, 'line-dasharray': [2, 1] } });
    // Boat icons turned to each ship's heading (common.js draws them).
    const es = (onemap.shipStream = new EventSource('/api/ships/stream'));
    const live = await liveShips(map, es);
    onemap.ships = live.ships;
    Object.defineProperty(onemap, 'shipReports', { get: () => live.reports });
  }
  async function showShip(mmsi) {
    const s = await getJSON(`/api/ships/${mmsi}`);
    onemap.details = null;
    $('panel').hidden = false;
    $('breadcrumb').textContent = '';
    $('panel-name').textContent = s.name;
    $('panel-sub').textContent = `ship ${s.mmsi} · ${s.home_port}`;
    $('panel-events').textContent = `${s.speed_kn.toFixed(1)} kn`;
    $('panel-open').textContent = `${Math.round(s.course_deg)}°`;
    $('panel-rate').textContent = s.in_port ? `in port${s.port ? ' ' + s.port : ''}` : 'at sea';
    $('panel-leader').textContent = new Date(s.reported_at * 1000).toLocaleString();
    $('panel-extra').textContent = `track: ${s.track.geometry.coordinates.length} positions in the 24 h up to the last report`;
    $('panel-children').tHead.innerHTML = ''; $('panel-children').tBodies[0].textContent = '';
    map.getSource('ship-track').setData(s.track);
    onemap.shipDetails = s;
  }
  onemap.showShip = showShip;

  // --- layers and shading ----------------------------------------------------
  function buildSwitches() {
    const box = $('layers');
    for (const name of Object.keys(SWITCHES)) {
      const label = document.createElement('label');
      const cb = document.createElement('input');
      cb.type = 'checkbox'; cb.dataset.layer = name; cb.checked = !state.off.has(name);
      cb.addEventListener('change', () => {
        cb.checked ? state.off.delete(name) : state.off.add(name);
        setVisibility(); writeHash();
      });
      label.append(cb, ' ' + name);
      box.append(label);
    }
    setVisibility();
  }
  function setVisibility() {
    for (const [name, ids] of Object.entries(SWITCHES))
      for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', state.off.has(name) ? 'none' : 'visible');
  }
  let stops = {};
  async function updateStops() {
    // Events per area differ by orders of magnitude between levels: take each
    // level's own largest count (grids and units scaled down from villages).
    const q = filterQuery();
    const [health, ...levels] = await Promise.all([getJSON('/healthz'),
      ...['district', 'town', 'village'].map((by) => getJSON(`/api/stats?by=${by}&${q}`))]);
    const max = levels.map((r) => Math.max(1, ...r.groups.map((g) => g.total)));
    const perVillage = max[2];
    stops = {
      districts: max[0], towns: max[1], villages: perVillage,
      grids: Math.max(1, perVillage * health.layers.villages / health.layers.grids),
      units: Math.max(1, perVillage * health.layers.villages / health.layers.units),
    };
    shade();
  }
  function shade() {
    for (const l of AREA_LEVELS) {
      const color = state.shade === 'closure'
        ? ['case', ['==', ['coalesce', ['get', 'events'], 0], 0], '#e0e0e0',
            ['interpolate', ['linear'], ['get', 'closure_rate'], 0.9, '#d7301f', 0.97, '#fee08b', 1, '#1a9850']]
        : ['interpolate', ['linear'], ['coalesce', ['get', 'events'], 0], 0, '#fff7ec', (stops[l] || 100) / 2, '#fdbb84', stops[l] || 100, '#d7301f'];
      if (map.getLayer(l + '-fill')) map.setPaintProperty(l + '-fill', 'fill-color', color);
    }
    $('legend').innerHTML = state.shade === 'closure'
      ? '<i style="background:linear-gradient(90deg,#d7301f,#fee08b,#1a9850)"></i>closure rate 90% → 100%'
      : '<i style="background:linear-gradient(90deg,#fff7ec,#fdbb84,#d7301f)"></i>events, per level (0 → most)';
  }
  for (const r of document.querySelectorAll('input[name=shade]'))
    r.addEventListener('change', () => { state.shade = r.value; shade(); writeHash(); });

  // --- time filter: tiles and panel change together -------------------------
  function applyFilter(refreshPanel = true) {
    const q = filterQuery();
    const url = `${location.origin}/tiles/${ALL}/{z}/{x}/{y}.mvt${q ? '?' + q : ''}`;
    const source = map.getSource('onemap');
    // MapLibre re-parses (does not refetch) a tile that was still loading when
    // its URL changed, so such a tile would keep the old filter's data. Set the
    // URL once more when the map is idle: every tile is loaded then, and all of
    // them are fetched with the new URL (from the HTTP cache if already fetched).
    source.setTiles([url]);
    map.once('idle', () => { if (source.tiles[0] === url) source.setTiles([url]); });
    updateStops().catch((e) => console.warn(e));
    if (refreshPanel && onemap.details) showArea(onemap.details.area.id, false);
    writeHash();
  }
  $('apply-time').addEventListener('click', () => {
    state.from = $('from').value; state.to = $('to').value; applyFilter();
  });
  $('clear-time').addEventListener('click', () => {
    state.from = state.to = ''; $('from').value = $('to').value = ''; applyFilter();
  });

  // --- the side panel --------------------------------------------------------
  let panelRequest = null;
  async function showArea(id, fit = true) {
    if (panelRequest) panelRequest.abort();
    panelRequest = new AbortController();
    const q = filterQuery();
    const d = await getJSON(`/api/areas/${id}${q ? '?' + q : ''}`, panelRequest.signal);
    onemap.details = d; state.area = String(d.area.id);
    $('panel').hidden = false;
    $('panel-name').textContent = d.area.name;
    $('panel-sub').textContent = `${LEVEL_NAME[d.area.level]} · ${d.area.level} · ${d.area.id}`;
    $('panel-events').textContent = num(d.figures.total);
    $('panel-open').textContent = num(d.figures.open);
    $('panel-rate').textContent = pct(d.figures.closure_rate);
    $('panel-leader').textContent = d.leader || '–';
    const bc = $('breadcrumb'); bc.textContent = '';
    for (const a of d.breadcrumb) {
      const link = document.createElement('a');
      link.textContent = a.name; link.addEventListener('click', () => showArea(a.id));
      bc.append(link);
    }
    const f = d.features;
    $('panel-extra').textContent = `units ${num(f.units)} · ships ${num(f.ships)} · heritage ${num(f.heritage)} · homesteads ${num(f.homesteads)} · enterprises ${num(f.enterprises)} · schools ${num(f.schools)}`;
    const table = $('panel-children');
    table.tHead.innerHTML = d.children.length ? '<tr><th>child</th><th>events</th><th>open</th><th>closed</th></tr>' : '';
    const body = table.tBodies[0]; body.textContent = '';
    for (const c of d.children) {
      const tr = body.insertRow();
      tr.dataset.id = c.area.id;
      for (const v of [c.area.name, num(c.figures.total), num(c.figures.open), pct(c.figures.closure_rate)]) tr.insertCell().textContent = v;
      tr.addEventListener('click', () => showArea(c.area.id));
    }
    if (fit) map.fitBounds([[d.bbox.min_lon, d.bbox.min_lat], [d.bbox.max_lon, d.bbox.max_lat]], { padding: 60, maxZoom: 17 });
    writeHash();
    return d;
  }
  onemap.showArea = showArea;
  $('panel-close').addEventListener('click', () => { $('panel').hidden = true; onemap.details = null; state.area = null; writeHash(); });

  function showFeature(f) {
    onemap.details = null;
    $('panel').hidden = false;
    $('breadcrumb').textContent = '';
    const p = f.properties;
    const hex = f.layer.id.endsWith('-hex');
    $('panel-name').textContent = p.name || (hex ? 'H3 cell ' + p.h3 : `${f.sourceLayer} ${f.id ?? ''}`);
    $('panel-sub').textContent = f.sourceLayer;
    $('panel-events').textContent = hex ? num(p.count) : (p.category || '–');
    $('panel-open').textContent = hex ? num(p.open) : (p.status || '–');
    $('panel-rate').textContent = hex && p.count ? pct((p.count - p.open) / p.count) : '–';
    $('panel-leader').textContent = '–';
    $('panel-extra').textContent = Object.entries(p).map(([k, v]) => `${k}: ${v}`).join(' · ');
    $('panel-children').tHead.innerHTML = ''; $('panel-children').tBodies[0].textContent = '';
  }

  map.on('click', async (e) => {
    const layers = map.getStyle().layers.map((l) => l.id).filter((id) => /-fill$|^events|^live-ships|^heritage|^schools|^enterprises|^homesteads/.test(id));
    const hits = map.queryRenderedFeatures(e.point, { layers });
    if (!hits.length) return;
    // Points (ships, drawn as icons, or circles) first, then areas (the
    // drill-down), then hexagons and homesteads.
    const point = hits.find((f) => f.layer.id === 'live-ships' || f.layer.type === 'circle');
    const area = hits.find((f) => f.layer.id.endsWith('-fill'));
    const top = point || area || hits[0];
    if (top.layer.id === 'live-ships') return showShip(top.properties.mmsi);
    if (top !== area) return showFeature(top);
    // An area carries its id, exact, as the string `code` (the style
    // promotes it to the feature id). Tiles without it (an archive exported
    // before codes): ask the server which area is here.
    if (top.properties.code) return showArea(top.properties.code, false);
    const loc = await getJSON(`/api/locate?lon=${e.lngLat.lng}&lat=${e.lngLat.lat}`);
    const level = Object.keys(LEVEL_LAYER).find((k) => LEVEL_LAYER[k] === top.sourceLayer);
    if (loc && level) showArea(loc[level].id, false);
  });
  // The area under the pointer is outlined (feature-state `hover`, keyed by
  // its code): one per level, each cleared when the pointer moves on.
  const hovered = {};
  const setHover = (l, id) => {
    if (hovered[l] === id) return;
    if (hovered[l] !== undefined) map.setFeatureState({ source: 'onemap', sourceLayer: l, id: hovered[l] }, { hover: false });
    if (id !== undefined) map.setFeatureState({ source: 'onemap', sourceLayer: l, id }, { hover: true });
    hovered[l] = id;
  };
  onemap.hovered = hovered;
  for (const l of AREA_LEVELS) {
    map.on('mouseenter', l + '-fill', () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mousemove', l + '-fill', (e) => setHover(l, e.features[0] && e.features[0].id));
    map.on('mouseleave', l + '-fill', () => { map.getCanvas().style.cursor = ''; setHover(l, undefined); });
  }

  // --- search ----------------------------------------------------------------
  let searchTimer = null;
  $('search-q').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = $('search-q').value.trim();
      const list = $('search-results'); list.textContent = '';
      if (!q) return;
      const r = await getJSON(`/api/areas/search?q=${encodeURIComponent(q)}&limit=12`);
      for (const a of r.areas) {
        const li = document.createElement('li');
        li.innerHTML = `<span></span> <small></small>`;
        li.firstChild.textContent = a.name;
        li.lastChild.textContent = [LEVEL_NAME[a.level], ...a.path.map((p) => p.name)].join(' · ');
        li.addEventListener('click', () => { list.textContent = ''; showArea(a.id); });
        list.append(li);
      }
    }, 200);
  });
  $('search').addEventListener('submit', (e) => { e.preventDefault(); const li = $('search-results').firstChild; if (li) li.click(); });
})();
