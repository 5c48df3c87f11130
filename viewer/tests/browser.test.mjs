// Real-browser tests of the viewer and the wall display: headless Debian
// Chromium driven by playwright-core, against a running `onemap serve`
// whose address is in ONEMAP_URL (scripts/test.sh starts one).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = process.env.ONEMAP_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
if (!BASE) throw new Error('ONEMAP_URL is not set: start `onemap serve` and export ONEMAP_URL=http://host:port');

let browser;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
});
after(async () => { await browser?.close(); });

const api = async (path) => {
  const res = await fetch(BASE + path);
  assert.equal(res.status, 200, `${path} → ${res.status}`);
  return res.json();
};
// The pages speak Chinese by default: numbers grouped as zh-CN does.
const fmt = new Intl.NumberFormat('zh-CN');

async function newPage() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const tiles = [];
  page.on('response', (r) => { if (r.url().includes('.mvt')) tiles.push({ url: r.url(), status: r.status() }); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // MapLibre warns (console, not an exception) of an image a layer names that
  // nobody added: the ship icons are drawn by the pages themselves.
  const missingImages = [];
  page.on('console', (m) => { if (/could not be loaded/.test(m.text())) missingImages.push(m.text()); });
  return { page, tiles, errors, missingImages };
}

// Resolves when the map has loaded every tile it needs and stopped moving.
const idle = (page) => page.evaluate(() => new Promise((resolve) => {
  const m = window.onemap.map;
  const check = () => (m.loaded() && m.areTilesLoaded() && !m.isMoving() ? resolve() : m.once('idle', check));
  if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) resolve(); else m.once('idle', check);
}));

const rendered = (page, layers) => page.evaluate((ls) => {
  const m = window.onemap.map;
  return m.queryRenderedFeatures({ layers: ls.filter((l) => m.getLayer(l)) })
    .map((f) => ({ layer: f.layer.id, props: f.properties }));
}, layers);

test('viewer: whole city loads, tiles 200, areas and events rendered', async () => {
  const { page, tiles, errors } = await newPage();
  const t0 = Date.now();
  await page.goto(BASE + '/');
  await page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
  await idle(page);
  const firstIdleMs = Date.now() - t0;
  writeFileSync(ARTIFACTS + 'viewer-timing.json', JSON.stringify({ first_idle_ms: firstIdleMs }, null, 1));
  console.log(`viewer: whole city idle after ${firstIdleMs} ms`);
  assert.ok(tiles.length > 0, 'tiles were requested');
  assert.ok(tiles.some((t) => t.status === 200), 'some tile came back 200');
  assert.deepEqual(tiles.filter((t) => t.status !== 200 && t.status !== 204), [], 'no tile failed');
  const areas = await rendered(page, ['districts-fill', 'towns-fill', 'villages-fill']);
  const events = await rendered(page, ['events-hex', 'events']);
  assert.ok(areas.length > 0, 'areas rendered');
  assert.ok(events.length > 0, 'events rendered');
  await page.screenshot({ path: ARTIFACTS + 'viewer-city.png' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('viewer: click a village → panel shows /api figures; time filter changes figures and tiles', async () => {
  const { page, tiles } = await newPage();
  const found = await api('/api/areas/search?q=' + encodeURIComponent('村') + '&limit=50');
  const village = found.areas.find((a) => a.level === 'village');
  assert.ok(village, 'a village to click');
  const inside = await api(`/api/features/villages?area=${village.id}&limit=1`);
  const [lon, lat] = inside.features[0].geometry.type === 'Point'
    ? inside.features[0].geometry.coordinates
    : [(village.bbox.min_lon + village.bbox.max_lon) / 2, (village.bbox.min_lat + village.bbox.max_lat) / 2];
  // The API's point inside the village (GeoJSON has its polygon: use the locate answer for the point).
  const fpoint = await api(`/api/features/villages/${village.id}`);
  const ring = fpoint.geometry.coordinates[0][0];
  const probe = await pointInside(ring, village.id, lon, lat);
  await page.goto(`${BASE}/#map=11/${probe[1]}/${probe[0]}`);
  await page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
  await idle(page);
  const px = await page.evaluate(([x, y]) => { const p = window.onemap.map.project([x, y]); return [p.x, p.y]; }, probe);
  // Under the pointer, the village is outlined: feature-state keyed by its
  // code, the exact id the style promotes (an 18-digit unit id would be too).
  await page.mouse.move(px[0], px[1]);
  await page.waitForFunction((id) => window.onemap.hovered.villages === id
    && window.onemap.map.getFeatureState({ source: 'onemap', sourceLayer: 'villages', id }).hover === true,
  String(village.id), { timeout: 20000 });
  const under = await page.evaluate(([x, y]) => window.onemap.map.queryRenderedFeatures([x, y], { layers: ['villages-fill'] })
    .map((f) => ({ id: f.id, code: f.properties.code })), px);
  assert.deepEqual(under, [{ id: String(village.id), code: String(village.id) }]);
  await page.mouse.click(px[0], px[1]);
  await page.waitForFunction((id) => window.onemap.details && String(window.onemap.details.area.id) === String(id), village.id, { timeout: 20000 });
  const all = await api(`/api/areas/${village.id}`);
  assert.equal(await page.textContent('#panel-name'), all.area.name);
  assert.equal(await page.textContent('#panel-events'), fmt.format(all.figures.total));
  assert.equal(await page.textContent('#panel-open'), fmt.format(all.figures.open));
  await idle(page); // the map has flown to the village and loaded its tiles
  const beforeTiles = tiles.length;
  await page.screenshot({ path: ARTIFACTS + 'viewer-village.png' });

  // A window of the last 60 days of data: fewer events than all time.
  const wall = await api('/api/wall');
  const to = wall.today.date;
  const fromDate = new Date(to + 'T00:00:00Z'); fromDate.setUTCDate(fromDate.getUTCDate() - 59);
  const from = fromDate.toISOString().slice(0, 10);
  await page.fill('#from', from);
  await page.fill('#to', to);
  // Registered before the click, so a fast reload cannot slip past the wait.
  const filteredTile = page.waitForResponse((r) => r.url().includes('/tiles/') && r.url().includes('from=' + from),
    { timeout: 20000 });
  await page.click('#apply-time');
  const toExcl = new Date(to + 'T00:00:00Z'); toExcl.setUTCDate(toExcl.getUTCDate() + 1);
  const windowed = await api(`/api/areas/${village.id}?from=${from}&to=${toExcl.toISOString().slice(0, 10)}`);
  assert.ok(windowed.figures.total < all.figures.total, 'the window holds fewer events');
  await page.waitForFunction((n) => document.getElementById('panel-events').textContent === n,
    fmt.format(windowed.figures.total), { timeout: 20000 });
  await filteredTile.catch(() => {}); // a missing reload is reported by the assertion below
  await idle(page);
  const after = tiles.slice(beforeTiles);
  assert.ok(after.length > 0, 'tiles were fetched again');
  assert.ok(after.every((t) => t.url.includes('from=' + from)), 'new tiles carry the filter');
  assert.ok(after.every((t) => t.status === 200 || t.status === 204), 'filtered tiles load');
  const shaded = (await rendered(page, ['villages-fill'])).map((f) => f.props.events);
  assert.ok(shaded.length > 0 && Math.max(...shaded) <= windowed.figures.total * 50, 'villages rendered with windowed counts');
  assert.ok(page.url().includes('from=' + from), 'the filter is kept in the URL');
  await page.screenshot({ path: ARTIFACTS + 'viewer-filtered.png' });
  await page.close();
});

// A point inside the village's outer ring near (lon, lat), checked with /api/locate.
async function pointInside(ring, id, lon, lat) {
  const candidates = [[lon, lat]];
  const cx = ring.reduce((s, p) => s + p[0], 0) / ring.length;
  const cy = ring.reduce((s, p) => s + p[1], 0) / ring.length;
  candidates.push([cx, cy]);
  for (const p of ring.slice(0, 40)) candidates.push([(p[0] * 1 + cx * 3) / 4, (p[1] * 1 + cy * 3) / 4]);
  for (const [x, y] of candidates) {
    const loc = await api(`/api/locate?lon=${x}&lat=${y}`);
    if (loc && String(loc.village.id) === String(id)) return [x, y];
  }
  throw new Error('no point inside village ' + id);
}

test('wall: figures appear and keep updating, districts tour', async () => {
  const { page, errors, missingImages } = await newPage();
  await page.setViewportSize({ width: 1600, height: 900 });
  await page.goto(BASE + '/wall?refresh=1&tour=2');
  await page.waitForFunction(() => window.onemapWall && window.onemapWall.refreshes >= 1, null, { timeout: 30000 });
  const summary = await api('/api/wall');
  assert.equal(await page.textContent('#open-events'), fmt.format(summary.open_events));
  assert.equal(await page.textContent('#ships-at-sea'), fmt.format(summary.ships.at_sea));
  const status1 = await page.textContent('#status');
  await page.waitForFunction(() => window.onemapWall.refreshes >= 3 && window.onemapWall.tours >= 2, null, { timeout: 30000 });
  assert.notEqual(await page.textContent('#status'), status1, 'the wall updated itself');
  assert.notEqual(await page.textContent('#tour-name'), '–');
  // The district on tour is outlined through feature-state keyed by its
  // code: the tiles' features with that id are the district named.
  const toured = () => page.evaluate(() => {
    const m = window.onemapWall.map, id = String(window.onemapWall.touring);
    return { id, state: m.getFeatureState({ source: 'onemap', sourceLayer: 'districts', id }),
      name: document.getElementById('tour-name').textContent,
      drawn: m.querySourceFeatures('onemap', { sourceLayer: 'districts' }).filter((f) => f.id === id).map((f) => f.properties.name) };
  });
  await page.waitForFunction(() => {
    const m = window.onemapWall.map, id = String(window.onemapWall.touring);
    return m.querySourceFeatures('onemap', { sourceLayer: 'districts' }).some((f) => f.id === id);
  }, null, { timeout: 30000 }).catch(() => {}); // reported by the assertions below
  const t = await toured();
  assert.equal(t.state.tour, true, `district ${t.id}`);
  assert.ok(t.drawn.length > 0 && t.drawn.every((n) => n === t.name), JSON.stringify(t));
  assert.ok((await page.$$('#hotspots li')).length > 0, 'problem places listed');
  // The live fleet: boat icons turned to their heading, moved by the stream
  // (the style no longer draws ships from the tiles).
  await page.waitForFunction(() => window.onemapWall.ships, null, { timeout: 30000 });
  const shipLayer = await page.evaluate(() => {
    const m = window.onemapWall.map;
    return { tiles: Boolean(m.getLayer('ships')), type: m.getLayer('live-ships').type,
      rotate: m.getLayoutProperty('live-ships', 'icon-rotate'),
      images: ['ship', 'ship-port'].map((id) => m.hasImage(id)) };
  });
  assert.deepEqual(shipLayer, { tiles: false, type: 'symbol', rotate: ['get', 'heading'], images: [true, true] });
  const token = process.env.ONEMAP_SHIP_TOKEN;
  assert.ok(token, 'ONEMAP_SHIP_TOKEN (a ship_feed token for the served city) is not set');
  const ship = (await api('/api/ships?state=at_sea')).ships[1];
  assert.ok(ship, 'a second ship at sea');
  const shipCount = (await api('/api/ships')).ships.length;
  assert.equal(await page.evaluate(() => window.onemapWall.ships.ships.size), shipCount);
  // 0.004° north a minute later (about 15 knots), heading north-east.
  const lat = ship.lat + 0.004;
  const res = await fetch(BASE + '/api/ships/positions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify([{ mmsi: ship.mmsi, time: ship.reported_at + 60, lon: ship.lon, lat, speed_kn: 15, course_deg: 45 }]),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).applied, 1);
  await page.waitForFunction(({ m, lat }) => {
    const s = window.onemapWall.ships.ships.get(m);
    return s && Math.abs(s.to[1] - lat) < 1e-9 && s.props.heading === 45;
  }, { m: ship.mmsi, lat }, { timeout: 30000 });
  assert.ok(await page.evaluate(() => window.onemapWall.ships.reports >= 1));
  await page.screenshot({ path: ARTIFACTS + 'wall.png' });
  assert.deepEqual(errors, []);
  assert.deepEqual(missingImages, []);
  await page.close();
});

// Hours on a wall, compressed: refresh every 0.2 s and tour every second
// (instead of 30 s and 20 s) for SOAK_SECONDS (default 60), so the tour goes
// round the districts again and again. After
// a first full round (MapLibre's tile cache is filled then), the JS heap after
// garbage collection, DOM nodes and event listeners must stay flat.
test('wall: runs unattended without growing (heap, DOM, listeners)', async () => {
  const soakMs = 1000 * Number(process.env.SOAK_SECONDS || 60);
  const { page, errors } = await newPage();
  await page.setViewportSize({ width: 1600, height: 900 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  // Chromium's node count includes nodes dropped but not yet swept (each
  // textContent replaced leaves its old text node): one sample swings by
  // 50 between two refreshes. A node something still holds survives every
  // sweep, so the least of five samples, each after a collection, is what
  // the page keeps; the document's own tree is counted apart.
  const sample = async () => {
    const rounds = [];
    for (let i = 0; i < 5; i++) {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      rounds.push(Object.fromEntries(metrics.map((x) => [x.name, x.value])));
      await page.waitForTimeout(150);
    }
    const least = (k) => Math.min(...rounds.map((m) => m[k]));
    const w = await page.evaluate(() => {
      const count = (n) => { let c = 1; for (const x of n.childNodes) c += count(x); return c; };
      return { refreshes: window.onemapWall.refreshes, tours: window.onemapWall.tours, tree: count(document) };
    });
    return { heap: least('JSHeapUsedSize'), nodes: least('Nodes'), listeners: least('JSEventListeners'), ...w };
  };
  await page.goto(BASE + '/wall?refresh=0.2&tour=1');
  const districts = (await api('/api/wall')).districts.length;
  await page.waitForFunction((n) => window.onemapWall && window.onemapWall.tours >= 2 * n, districts, { timeout: 120000 });
  const first = await sample();
  await page.waitForTimeout(soakMs);
  const last = await sample();
  writeFileSync(ARTIFACTS + 'wall-soak.json', JSON.stringify({ soak_ms: soakMs, first, last }, null, 1));
  console.log(`wall soak: ${last.refreshes - first.refreshes} refreshes, ${last.tours - first.tours} tours; `
    + `heap ${(first.heap / 1e6).toFixed(1)} → ${(last.heap / 1e6).toFixed(1)} MB, nodes ${first.nodes} → ${last.nodes} `
    + `(document ${first.tree} → ${last.tree}), `
    + `listeners ${first.listeners} → ${last.listeners}`);
  // Progress, not pace: how fast timers fire depends on the machine's load.
  assert.ok(last.refreshes - first.refreshes >= 10, 'the wall kept refreshing');
  assert.ok(last.tours - first.tours >= districts, 'the tour kept going round');
  assert.ok(last.heap <= first.heap * 1.2 + 4e6, `JS heap grew: ${first.heap} → ${last.heap} bytes`);
  assert.ok(last.nodes <= first.nodes + 50, `DOM nodes grew: ${first.nodes} → ${last.nodes}`);
  assert.ok(last.tree <= first.tree + 50, `the document grew: ${first.tree} → ${last.tree} nodes`);
  assert.ok(last.listeners <= first.listeners + 20, `event listeners grew: ${first.listeners} → ${last.listeners}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('viewer: a ship moves after positions are posted', async () => {
  const token = process.env.ONEMAP_SHIP_TOKEN;
  assert.ok(token, 'ONEMAP_SHIP_TOKEN (a ship_feed token for the served city) is not set');
  const { page, errors, missingImages } = await newPage();
  await page.goto(BASE + '/');
  await page.waitForFunction(() => window.onemap && window.onemap.ready && window.onemap.ships, null, { timeout: 60000 });
  const ship = (await api('/api/ships?state=at_sea')).ships[0];
  assert.ok(ship, 'a ship at sea');
  // Ships are drawn as icons rotated by their heading (map-aligned).
  const layer = await page.evaluate(() => {
    const m = window.onemap.map;
    return { type: m.getLayer('live-ships').type, rotate: m.getLayoutProperty('live-ships', 'icon-rotate'),
      alignment: m.getLayoutProperty('live-ships', 'icon-rotation-alignment'),
      images: ['ship', 'ship-port'].map((id) => m.hasImage(id)) };
  });
  assert.deepEqual(layer, { type: 'symbol', rotate: ['get', 'heading'], alignment: 'map', images: [true, true] });
  // The ship's icon as rendered (centred on it, so it is on screen): its heading.
  await page.evaluate(([lon, lat]) => window.onemap.map.jumpTo({ center: [lon, lat], zoom: 11 }), [ship.lon, ship.lat]);
  const drawnHeading = (m) => page.evaluate((mmsi) => {
    const f = window.onemap.map.queryRenderedFeatures({ layers: ['live-ships'] }).find((x) => x.properties.mmsi === mmsi);
    return f ? f.properties.heading : null;
  }, m);
  await page.waitForFunction((m) => window.onemap.map.queryRenderedFeatures({ layers: ['live-ships'] })
    .some((x) => x.properties.mmsi === m), ship.mmsi, { timeout: 30000 });
  assert.equal(await drawnHeading(ship.mmsi), ship.course_deg);
  const shown = (m) => page.evaluate((mmsi) => {
    const f = window.onemap.map.querySourceFeatures('live-ships').find((x) => x.properties.mmsi === mmsi);
    return f && f.geometry.coordinates;
  }, m);
  await page.waitForFunction((m) => window.onemap.map.querySourceFeatures('live-ships').some((x) => x.properties.mmsi === m),
    ship.mmsi, { timeout: 30000 });
  const before = await shown(ship.mmsi);
  // Source features come back quantized to the map's tiles: within 2e-4°
  // (about 20 m), far less than the 550 m move below.
  const TOL = 2e-4;
  assert.ok(Math.abs(before[0] - ship.lon) < TOL && Math.abs(before[1] - ship.lat) < TOL, `${before} vs ${ship.lon},${ship.lat}`);
  // 0.005° north (about 550 m) a minute later: 18 knots, a plausible move,
  // heading due north (10° if it already heads about north, so it changes).
  const lat = ship.lat + 0.005;
  const course = ship.course_deg < 1 || ship.course_deg > 359 ? 10 : 0;
  const res = await fetch(BASE + '/api/ships/positions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify([{ mmsi: ship.mmsi, time: ship.reported_at + 60, lon: ship.lon, lat, speed_kn: 18, course_deg: course }]),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).applied, 1);
  // The stream brings the report; the dot glides there and stops on it.
  await page.waitForFunction(({ m, lat, tol }) => {
    const f = window.onemap.map.querySourceFeatures('live-ships').find((x) => x.properties.mmsi === m);
    return f && Math.abs(f.geometry.coordinates[1] - lat) < tol;
  }, { m: ship.mmsi, lat, tol: TOL }, { timeout: 30000 });
  const after = await shown(ship.mmsi);
  assert.ok(Math.abs(after[0] - ship.lon) < TOL && after[1] - before[1] > 0.004, `${before} → ${after}`);
  assert.ok(await page.evaluate(() => window.onemap.shipReports >= 1));
  // The report turned the icon: the rendered feature carries the new heading.
  await page.waitForFunction(({ m, course }) => window.onemap.map.queryRenderedFeatures({ layers: ['live-ships'] })
    .some((x) => x.properties.mmsi === m && x.properties.heading === course), { m: ship.mmsi, course }, { timeout: 10000 })
    .catch(() => {}); // a wrong heading is reported by the assertion below
  assert.equal(await drawnHeading(ship.mmsi), course);
  assert.equal(await page.evaluate((m) => window.onemap.ships.get(m).props.heading, ship.mmsi), course);
  // A click on the ship shows its details and track.
  await page.evaluate((m) => window.onemap.showShip(m), ship.mmsi);
  await page.waitForFunction(() => window.onemap.shipDetails, null, { timeout: 10000 });
  assert.equal(await page.textContent('#panel-name'), ship.name);
  const track = await page.evaluate(() => window.onemap.shipDetails.track.geometry.coordinates.length);
  assert.ok(track >= 1);
  assert.deepEqual(errors, []);
  assert.deepEqual(missingImages, []);
  await page.close();
});
