// An archive written by `onemap tiles export --format pmtiles` opens in a
// plain MapLibre page through the `pmtiles` npm package (the way a static
// site would publish it), served by a small HTTP server with Range requests.
// The archive's path is in PMTILES_FILE (scripts/test.sh exports one).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, statSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ARCHIVE = process.env.PMTILES_FILE;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
if (!ARCHIVE) throw new Error('PMTILES_FILE is not set: export one with `onemap tiles export --format pmtiles OUT`');
const pkg = (p) => fileURLToPath(new URL('../node_modules/' + p, import.meta.url));

const PAGE = `<!doctype html><meta charset="utf-8">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/maplibre-gl.css">
<script src="/maplibre-gl.js"></script><script src="/pmtiles.js"></script>
<style>html,body,#map{margin:0;width:100%;height:100%}</style><div id="map"></div>
<script>
const protocol = new pmtiles.Protocol();
maplibregl.addProtocol('pmtiles', protocol.tile);
const archive = new pmtiles.PMTiles(location.origin + '/city.pmtiles');
protocol.add(archive);
archive.getHeader().then((h) => {
  window.header = h;
  window.map = new maplibregl.Map({
    container: 'map', center: [(h.minLon + h.maxLon) / 2, (h.minLat + h.maxLat) / 2], zoom: 8,
    style: { version: 8, sources: { city: { type: 'vector', url: 'pmtiles://' + location.origin + '/city.pmtiles' } },
      layers: [
        { id: 'bg', type: 'background', paint: { 'background-color': '#f4f1ea' } },
        { id: 'districts', type: 'fill', source: 'city', 'source-layer': 'districts', paint: { 'fill-color': '#d9c7a7', 'fill-outline-color': '#555' } },
        { id: 'towns', type: 'line', source: 'city', 'source-layer': 'towns', paint: { 'line-color': '#555' } },
        { id: 'events', type: 'fill', source: 'city', 'source-layer': 'events', filter: ['==', ['geometry-type'], 'Polygon'],
          paint: { 'fill-color': '#d7301f', 'fill-opacity': 0.5 } },
      ] },
  });
});
</script>`;

let server;
let base;
let browser;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const files = {
    '/maplibre-gl.js': [pkg('maplibre-gl/dist/maplibre-gl.js'), 'text/javascript'],
    '/maplibre-gl.css': [pkg('maplibre-gl/dist/maplibre-gl.css'), 'text/css'],
    '/pmtiles.js': [pkg('pmtiles/dist/pmtiles.js'), 'text/javascript'],
  };
  const size = statSync(ARCHIVE).size;
  const data = readFileSync(ARCHIVE);
  server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); return; }
    if (files[path]) {
      res.writeHead(200, { 'content-type': files[path][1] });
      res.end(readFileSync(files[path][0]));
      return;
    }
    if (path !== '/city.pmtiles') { res.writeHead(404); res.end(); return; }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (!m) { res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' }); res.end(data); return; }
    const start = Number(m[1]);
    const end = Math.min(m[2] ? Number(m[2]) : size - 1, size - 1);
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
    res.end(data.subarray(start, end + 1));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
});
after(async () => { await browser?.close(); server?.close(); });

test('pmtiles: the exported archive opens in a MapLibre page', async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const ranges = [];
  page.on('request', (r) => { if (r.url().endsWith('/city.pmtiles')) ranges.push(r.headers().range); });
  await page.goto(base + '/');
  await page.waitForFunction(() => window.map, null, { timeout: 30000 });
  const header = await page.evaluate(() => window.header);
  assert.equal(header.tileType, 1, 'tiles are MVT');
  assert.equal(header.minZoom, 0);
  assert.equal(header.maxZoom, Number(process.env.PMTILES_MAXZOOM || 14));
  await page.evaluate(() => new Promise((resolve) => {
    const m = window.map;
    const check = () => (m.loaded() && m.areTilesLoaded() ? resolve() : m.once('idle', check));
    check();
  }));
  const counts = await page.evaluate(() => Object.fromEntries(['districts', 'towns', 'events'].map(
    (l) => [l, window.map.queryRenderedFeatures({ layers: [l] }).length])));
  assert.ok(counts.districts > 0, 'districts drawn from the archive');
  assert.ok(counts.towns > 0, 'towns drawn from the archive');
  assert.ok(counts.events > 0, 'event hexagons drawn from the archive');
  assert.ok(ranges.length > 0 && ranges.every((r) => /^bytes=\d+-\d+$/.test(r || '')), 'read by range requests');
  await page.screenshot({ path: ARTIFACTS + 'pmtiles.png' });
  assert.deepEqual(errors, []);
  await page.close();
});
