// The onemap viewer: one vector source with every layer, filtered by time.
'use strict';
// The one table keeps the page's language.
if (onemapI18n.lang === 'en') document.getElementById('table-link').href = '/table?lang=en';
if (onemapI18n.lang === 'en') document.getElementById('lists-link').href = '/lists?lang=en';
(() => {
  const { LEVEL_LAYER, num, pct, getJSON, nextDay, addShipIcons, liveShips, areaShading } = onemapCommon;
  const { t, code, fmtDateTime, errorText } = onemapI18n;
  const ALL = 'districts,towns,villages,grids,units,labels,events,ships,heritage,homesteads,enterprises,schools';
  const AREA_LEVELS = ['districts', 'towns', 'villages', 'grids', 'units'];
  const SWITCHES = {
    areas: AREA_LEVELS.flatMap((l) => [l + '-fill', l + '-line']),
    events: ['events-hex', 'events', 'events-overdue'],
    ships: ['live-ships', 'ship-track', 'geofence'], heritage: ['heritage'], homesteads: ['homesteads'],
    enterprises: ['enterprises-hex', 'enterprises'], schools: ['schools'], labels: ['labels'],
  };
  const $ = (id) => document.getElementById(id);
  // Every text of the page from i18n.js, in the URL's language (?lang=en).
  onemapI18n.apply();
  onemapI18n.toggle($('lang-toggle'));

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
    locale: onemapI18n.maplibreLocale,
  });
  map.addControl(new maplibregl.NavigationControl(), 'bottom-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  addShipIcons(map, { sea: '#0b6fa4', port: '#7f8c8d', outline: '#ffffff' });
  const onemap = (window.onemap = { map, state, details: null, tileStatus: [], ready: false });

  map.on('error', (e) => console.warn('map error', e.error && e.error.message));
  map.on('moveend', writeHash);
  map.on('load', async () => {
    if (view.length !== 3) {
      try {
        const cat = await getJSON('/catalog');
        // On a phone the controls are a bar across the top, and the legend
        // (not drawn yet: about 70 px) joins it: the city goes below them.
        const top = matchMedia('(max-width: 700px)').matches ? $('controls').offsetHeight + 80 : 30;
        if (cat.bounds) map.fitBounds([[cat.bounds[0], cat.bounds[1]], [cat.bounds[2], cat.bounds[3]]],
          { padding: { top, bottom: 30, left: 30, right: 30 }, duration: 0 });
      } catch (e) { showError(e); }
    }
    // The tile layer draws ships as loaded; the live layer moves them.
    if (map.getLayer('ships')) map.setLayoutProperty('ships', 'visibility', 'none');
    try { await startShips(); } catch (e) { console.warn('live ships', e); showError(e); }
    try { await startOverdue(); } catch (e) { console.warn('deadlines', e); }
    buildSwitches();
    $('from').value = state.from; $('to').value = state.to;
    document.querySelector(`input[name=shade][value=${state.shade}]`).checked = true;
    applyFilter(false);
    if (state.area) showArea(state.area, false);
    onemap.ready = true;
  });

  // --- overdue events: a ring around each event past its step's limit ------
  // The tiles carry each event's status and when it entered it; which are
  // overdue depends on the moment, so the filter is made here from the
  // server's deadlines and made again every minute.
  async function startOverdue() {
    const rules = (onemap.deadlines = await onemapCommon.deadlines());
    if (!map.getLayer('events')) return;
    map.addLayer({ id: 'events-overdue', type: 'circle', source: 'onemap', 'source-layer': 'events', minzoom: 14,
      filter: ['all', ['==', ['geometry-type'], 'Point'], rules.filter()],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 6, 18, 12], 'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': '#ff6f00', 'circle-stroke-width': 2.5 } }, 'events');
    const refilter = () => map.getLayer('events-overdue')
      && map.setFilter('events-overdue', ['all', ['==', ['geometry-type'], 'Point'], rules.filter()]);
    setInterval(refilter, 60000);
  }

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
    let s;
    try { s = await getJSON(`/api/ships/${mmsi}`); } catch (e) { showError(e); return; }
    onemap.details = null;
    openPanel(['ship.speed', 'ship.course', 'ship.state', 'ship.reported']);
    $('breadcrumb').textContent = '';
    $('panel-name').textContent = s.name;
    $('panel-sub').textContent = t('ship.sub', { mmsi: s.mmsi, port: s.home_port });
    $('panel-events').textContent = t('ship.speed_value', { v: s.speed_kn.toFixed(1) });
    $('panel-open').textContent = `${Math.round(s.course_deg)}°`;
    $('panel-rate').textContent = s.in_port ? (s.port ? t('ship.in_port_at', { port: s.port }) : t('ship.in_port')) : t('ship.at_sea');
    $('panel-leader').textContent = fmtDateTime(s.reported_at);
    $('panel-extra').textContent = t('ship.track', { n: num(s.track.geometry.coordinates.length) });
    clearChildren();
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
        if (name === 'areas') shading.draw();
      });
      const text = document.createElement('span');
      text.textContent = code('layer', name);
      label.append(cb, ' ', text);
      box.append(label);
    }
    setVisibility();
  }
  function setVisibility() {
    for (const [name, ids] of Object.entries(SWITCHES))
      for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', state.off.has(name) ? 'none' : 'visible');
  }
  // Areas are shaded by quantile classes of the values the tiles on screen
  // carry (common.js), per level, with a legend of the classes' ranges.
  const shading = areaShading(map, {
    palettes: { events: ['#fef0d9', '#fdcc8a', '#fc8d59', '#e34a33', '#b30000'],
      closure: ['#d7191c', '#fdae61', '#ffffbf', '#a6d96a', '#1a9641'] },
    noEvents: '#e0e0e0', legend: $('legend'),
    metric: () => state.shade, visible: () => !state.off.has('areas'), query: filterQuery,
  });
  onemap.shading = shading;
  for (const r of document.querySelectorAll('input[name=shade]'))
    r.addEventListener('change', () => { state.shade = r.value; shading.update(); writeHash(); });

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
    shading.refresh();
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
    let d;
    try { d = await getJSON(`/api/areas/${id}${q ? '?' + q : ''}`, panelRequest.signal); } catch (e) {
      if (e.name !== 'AbortError') showError(e);
      return null;
    }
    onemap.details = d; state.area = String(d.area.id);
    openPanel(['panel.events', 'panel.open', 'panel.rate', 'panel.leader']);
    $('panel-name').textContent = d.area.name;
    $('panel-sub').textContent = t('panel.area_sub', { level: code('level', d.area.level), id: d.area.id });
    fileLink(`area=${d.area.id}`);
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
    $('panel-extra').textContent = t('panel.features', Object.fromEntries(
      ['units', 'ships', 'heritage', 'homesteads', 'enterprises', 'schools'].map((k) => [k, num(f[k])])));
    clearChildren();
    const table = $('panel-children');
    if (d.children.length) {
      const tr = table.tHead.insertRow();
      for (const k of ['name', 'events', 'open', 'rate']) tr.appendChild(document.createElement('th')).textContent = t('panel.children.' + k);
    }
    const body = table.tBodies[0];
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

  // The panel's link to the file (一村一档) of what it shows (none: hidden).
  function fileLink(query) {
    const a = $('panel-file');
    a.hidden = !query;
    if (query) a.href = `/file?${query}${onemapI18n.lang === 'en' ? '&lang=en' : ''}`;
  }
  // The panel: its four figures' labels (keys), the drawer closed on a
  // phone and the sheet opened full.
  function openPanel(labels) {
    ['label-events', 'label-open', 'label-rate', 'label-leader'].forEach((id, i) => { $(id).textContent = t(labels[i]); });
    $('panel').hidden = false;
    if (onemap.closeWork) onemap.closeWork();
    setDrawer(false);
    setSheet(false);
  }
  function clearChildren() {
    const table = $('panel-children');
    table.tHead.textContent = ''; table.tBodies[0].textContent = '';
  }
  // A value of a tile feature's property, in words.
  function describe(layer, k, v) {
    if (v === null || v === undefined || v === '') return '–';
    if (typeof v === 'boolean') return t(v ? 'value.yes' : 'value.no');
    switch (k) {
      case 'category': return code('category', v);
      case 'status': return code(layer === 'homesteads' ? 'homestead' : 'status', v);
      case 'level': return code(layer === 'heritage' ? 'heritage_level' : 'level', v);
      case 'watch': return code('watch', v);
      case 'kind': return code('school_kind', v);
      case 'reported_at': case 'status_at': return fmtDateTime(v);
      case 'area_m2': return t('value.area_m2', { v: num(Math.round(v)) });
      case 'closure_rate': return pct(v);
      default: return typeof v === 'number' && k !== 'unit_id' && k !== 'code' ? num(v) : String(v);
    }
  }

  function showFeature(f) {
    onemap.details = null;
    const p = f.properties;
    const hex = f.layer.id.endsWith('-hex');
    const layer = f.sourceLayer;
    openPanel(hex ? ['panel.events', 'panel.open', 'panel.rate', 'panel.leader']
      : ['panel.category', 'panel.status', 'panel.rate', 'panel.leader']);
    $('breadcrumb').textContent = '';
    $('panel-name').textContent = p.name || (hex ? t('panel.hex', { h3: p.h3 })
      : p.category ? t('panel.feature', { layer: code('layer', layer), id: code('category', p.category) })
        : f.id !== undefined ? t('panel.feature', { layer: code('layer', layer), id: f.id }) : code('layer', layer));
    $('panel-sub').textContent = code('layer', layer);
    // An enterprise or a school has a file of its own.
    const site = { enterprises: 'enterprise', schools: 'school' }[layer];
    fileLink(site && f.id !== undefined ? `${site}=${f.id}` : null);
    $('panel-events').textContent = hex ? num(p.count) : describe(layer, 'category', p.category);
    $('panel-open').textContent = hex ? num(p.open) : describe(layer, 'status', p.status);
    $('panel-rate').textContent = hex && p.count ? pct((p.count - p.open) / p.count) : '–';
    $('panel-leader').textContent = '–';
    $('panel-extra').textContent = Object.entries(p)
      .map(([k, v]) => t('panel.kv', { k: code('field', k), v: describe(layer, k, v) })).join(' · ');
    clearChildren();
  }

  map.on('click', async (e) => {
    // Placing an event being reported (loop.js): the tap is its place.
    if (onemap.picking) return onemap.picking(e.lngLat);
    const layers = map.getStyle().layers.map((l) => l.id).filter((id) => /-fill$|^events|^live-ships|^heritage|^schools|^enterprises|^homesteads/.test(id));
    const hits = map.queryRenderedFeatures(e.point, { layers });
    if (!hits.length) return;
    // Points (ships, drawn as icons, or circles) first, then areas (the
    // drill-down), then hexagons and homesteads.
    const point = hits.find((f) => f.layer.id === 'live-ships' || f.layer.type === 'circle');
    const area = hits.find((f) => f.layer.id.endsWith('-fill'));
    const top = point || area || hits[0];
    if (top.layer.id === 'live-ships') return showShip(top.properties.mmsi);
    // An event's point opens its page (loop.js), with what the reader may see.
    if (top.layer.id === 'events' && onemap.openEventFeature) return onemap.openEventFeature(top);
    if (top !== area) return showFeature(top);
    // An area carries its id, exact, as the string `code` (the style
    // promotes it to the feature id). Tiles without it (an archive exported
    // before codes): ask the server which area is here.
    if (top.properties.code) return showArea(top.properties.code, false);
    let loc;
    try { loc = await getJSON(`/api/locate?lon=${e.lngLat.lng}&lat=${e.lngLat.lat}`); } catch (err) { showError(err); return; }
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
      let r;
      try { r = await getJSON(`/api/areas/search?q=${encodeURIComponent(q)}&limit=12`); } catch (e) { showError(e); return; }
      if (!r.areas.length) {
        const li = document.createElement('li');
        li.className = 'none'; li.textContent = t('search.none', { q });
        list.append(li);
      }
      for (const a of r.areas) {
        const li = document.createElement('li');
        li.append(document.createElement('span'), ' ', document.createElement('small'));
        li.firstChild.textContent = a.name;
        li.lastChild.textContent = [code('level', a.level), ...a.path.map((p) => p.name)].join(' · ');
        li.addEventListener('click', () => { list.textContent = ''; showArea(a.id); });
        list.append(li);
      }
    }, 200);
  });
  $('search').addEventListener('submit', (e) => { e.preventDefault(); const li = $('search-results').firstChild; if (li) li.click(); });

  // --- messages: what failed, in words, for a while ----------------------------
  let messageTimer = null;
  function showError(e) {
    console.warn(e);
    const box = $('message');
    box.textContent = errorText(e);
    box.hidden = false;
    clearTimeout(messageTimer);
    messageTimer = setTimeout(() => { box.hidden = true; }, 8000);
  }
  $('message').addEventListener('click', () => { $('message').hidden = true; });
  onemap.showError = showError;
  // Tiles fetched anew (the events' are revalidated by ETag): after a change.
  onemap.refreshTiles = () => { if (map.getSource('onemap')) applyFilter(false); };

  // --- on a phone: the controls a drawer, the panel a bottom sheet -------------
  // (viewer.css lays them out so below 700 px; on a desktop these classes
  // change nothing.)
  const controls = $('controls'), panel = $('panel');
  function setDrawer(open) {
    controls.classList.toggle('open', open);
    $('controls-toggle').setAttribute('aria-expanded', String(open));
    if (open && !panel.hidden) setSheet(true);
  }
  function setSheet(collapsed) {
    panel.classList.toggle('collapsed', collapsed);
    $('panel-handle').setAttribute('aria-expanded', String(!collapsed));
  }
  onemap.setDrawer = setDrawer;
  $('controls-toggle').addEventListener('click', () => setDrawer(!controls.classList.contains('open')));
  // The sheet's handle: a tap toggles it, a swipe down collapses it, up opens it.
  const handle = $('panel-handle');
  let swipeFrom = null, swiped = false;
  handle.addEventListener('pointerdown', (e) => { swipeFrom = e.clientY; swiped = false; });
  handle.addEventListener('pointerup', (e) => {
    if (swipeFrom !== null && Math.abs(e.clientY - swipeFrom) > 30) { setSheet(e.clientY > swipeFrom); swiped = true; }
    swipeFrom = null;
  });
  handle.addEventListener('pointercancel', () => { swipeFrom = null; });
  handle.addEventListener('click', () => {
    if (swiped) { swiped = false; return; }
    setSheet(!panel.classList.contains('collapsed'));
  });
  // A pick in the search list opens the panel; the drawer gives way to the map.
  $('search-results').addEventListener('click', () => setDrawer(false));
})();
