// The viewer and the wall as people read them (issue "The event loop in the
// browser, in Chinese", items 1, 5 and 8): Chinese by default and English
// with ?lang=en (a switch in the page), dates in China time, a phone-sized
// layout, and areas shaded by classes a legend names. Real Chromium driven
// by playwright-core, against a running `onemap serve` at ONEMAP_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
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

// The browser's own zone is far from China, so that a time shown in the
// browser's zone instead of China time shows.
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/New_York', locale: 'en-US', ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors, close: () => context.close() };
}

const ready = (page) => page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
// Resolves when the map has loaded every tile it needs and stopped moving.
const idle = (page, name = 'onemap') => page.evaluate((n) => new Promise((resolve, reject) => {
  const m = window[n].map;
  const done = () => m.loaded() && m.areTilesLoaded() && !m.isMoving();
  const check = () => (done() ? resolve() : m.once('idle', check));
  if (done()) resolve(); else m.once('idle', check);
  setTimeout(() => reject(new Error(`the map is not idle after 60 s: loaded ${m.loaded()}, tiles ${m.areTilesLoaded()}, moving ${m.isMoving()}`)), 60000);
}), name);

const HAN = /\p{Script=Han}/u;
// Visible text (and titles, placeholders, labels) of the page under `root`
// with a run of Latin letters: in Chinese, nothing but the product's name,
// the English half of the language switch, the tiles' attribution and
// codes (H3 cells, MMSI) may be in Latin letters.
const latinLeftovers = (page, root = 'body') => page.evaluate((sel) => {
  const out = [];
  const allowed = (s) => s.replace(/onemap|MapLibre|MMSI|H3|\b[0-9a-f]{15}\b/g, '');
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const skip = (el) => el.closest('.maplibregl-ctrl-attrib, #lang-toggle, script, style, title');
  const walker = document.createTreeWalker(document.querySelector(sel), NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    const el = n.parentElement;
    if (!el || skip(el) || !shown(el)) continue;
    if (/[A-Za-z]{2,}/.test(allowed(n.textContent))) out.push(n.textContent.trim());
  }
  for (const el of document.querySelector(sel).querySelectorAll('[title], [placeholder], [aria-label]')) {
    if (skip(el) || !shown(el)) continue;
    for (const a of ['title', 'placeholder', 'aria-label'])
      if (el.hasAttribute(a) && /[A-Za-z]{2,}/.test(allowed(el.getAttribute(a)))) out.push(`${a}="${el.getAttribute(a)}"`);
  }
  return out;
}, root);

// China time, worked out here (not by the page): YYYY-MM-DD HH:MM.
function chinaTime(unixSeconds) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(unixSeconds * 1000)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
const zhNumber = new Intl.NumberFormat('zh-CN');

// --- (a) Chinese by default ----------------------------------------------------

test('viewer: Chinese by default — controls, panel, categories and statuses, China time', async () => {
  const { page, errors, close } = await newPage();
  await page.goto(BASE + '/');
  await ready(page);
  await idle(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.title(), /一张图/);
  // Layer switches, shading, time filter, legend: all in Chinese.
  const switches = await page.$$eval('#layers label', (ls) => ls.map((l) => l.textContent.trim()));
  assert.ok(switches.length >= 8, `${switches.length} layer switches`);
  for (const s of switches) assert.match(s, HAN, `layer switch "${s}"`);
  assert.ok(switches.includes('事件') && switches.includes('船舶'), switches.join(', '));
  await page.waitForFunction(() => document.querySelectorAll('#legend li[data-lo]').length > 0, null, { timeout: 30000 });
  assert.match(await page.textContent('#legend'), /件/);
  assert.deepEqual(await latinLeftovers(page), [], 'English left in the Chinese page');

  // An area in the panel: labels and the level in Chinese, figures in zh-CN digits.
  const found = await api('/api/areas/search?q=' + encodeURIComponent('村') + '&limit=50');
  const village = found.areas.find((a) => a.level === 'village');
  await page.evaluate((id) => window.onemap.showArea(id, false), village.id);
  const d = await api(`/api/areas/${village.id}`);
  assert.equal(await page.textContent('#panel-name'), d.area.name);
  assert.equal(await page.textContent('#panel-events'), zhNumber.format(d.figures.total));
  assert.equal(await page.textContent('#label-rate'), '办结率');
  assert.doesNotMatch(await page.textContent('#panel-sub'), /village/);
  assert.match(await page.textContent('#panel-sub'), HAN);
  assert.match(await page.textContent('#panel-children thead'), HAN);
  assert.deepEqual(await latinLeftovers(page), [], 'English left in the area panel');

  // Search results name the level in Chinese.
  await page.fill('#search-q', '村');
  await page.waitForSelector('#search-results li small', { timeout: 20000 });
  const levels = await page.$$eval('#search-results li small', (s) => s.map((x) => x.textContent.split(' · ')[0]));
  for (const l of levels) assert.match(l, HAN, `level "${l}" in the search results`);
  await page.fill('#search-q', '');

  // An event point (z ≥ 14) clicked: its category and status in Chinese and
  // when it was reported in China time (the browser is in New York).
  const ev = (await api(`/api/features/events?area=${village.id}&limit=1`)).features[0];
  const [lon, lat] = ev.geometry.coordinates;
  await page.evaluate(([x, y]) => window.onemap.map.jumpTo({ center: [x, y], zoom: 17 }), [lon, lat]);
  await idle(page);
  const px = await page.evaluate(([x, y]) => { const p = window.onemap.map.project([x, y]); return [p.x, p.y]; }, [lon, lat]);
  const under = await page.evaluate(([x, y]) => window.onemap.map.queryRenderedFeatures([[x - 3, y - 3], [x + 3, y + 3]], { layers: ['events'] })
    .map((f) => f.properties), px);
  assert.ok(under.length > 0, 'the event is drawn where the API puts it');
  await page.mouse.click(px[0], px[1]);
  // (an event's point opens its page, loop.js: category in the title)
  await page.waitForFunction(() => document.getElementById('work').dataset.screen === 'event' && document.getElementById('event-status'), null, { timeout: 10000 });
  const category = (await page.textContent('#work-title')).split(' · ')[0];
  const status = await page.textContent('#event-status');
  const extra = await page.textContent('#event-facts');
  assert.match(category, HAN, `category "${category}"`);
  assert.match(status, HAN, `status "${status}"`);
  const shownEvent = under.find((p) => extra.includes(chinaTime(p.reported_at)));
  assert.ok(shownEvent, `"${extra}" gives the report time in China time: one of ${under.map((p) => chinaTime(p.reported_at))}`);
  assert.ok(!extra.includes(shownEvent.category) && !extra.includes(shownEvent.status), `codes shown as they are: ${extra}`);
  assert.deepEqual(await latinLeftovers(page), [], 'English left in the event page');
  // Two categories never share a name (every code has its own words).
  const names = await page.evaluate(() => ['drainage', 'sanitation', 'dispute', 'road', 'safety_hazard', 'illegal_building', 'public_order', 'other']
    .map((c) => onemapI18n.code('category', c)));
  assert.equal(new Set(names).size, names.length, names.join(', '));
  for (const n of names) assert.match(n, HAN);
  // A failed request is told in Chinese (the API's message is English).
  const districts = new Set((await api('/api/wall')).districts.map((x) => String(x.id)));
  const unknown = '999999';
  assert.ok(!districts.has(unknown));
  await page.evaluate((id) => window.onemap.showArea(id), unknown);
  await page.waitForSelector('#message', { state: 'visible', timeout: 10000 });
  const message = await page.textContent('#message');
  assert.match(message, HAN);
  assert.doesNotMatch(message, /unknown|[A-Za-z]{3,}/, message);
  // An unknown code is shown as itself, never blank.
  assert.equal(await page.evaluate(() => onemapI18n.code('category', 'flooding')), 'flooding');
  await page.screenshot({ path: ARTIFACTS + 'viewer-zh-event.png' });
  assert.deepEqual(errors, []);
  await close();
});

// --- (b) English with ?lang=en, and the switch ---------------------------------

test('viewer: ?lang=en is English; the switch changes the URL and the strings, keeping the view', async () => {
  const { page, errors, close } = await newPage();
  await page.goto(BASE + '/?lang=en#map=9.50/25.40000/119.00000&shade=closure&off=enterprises');
  await ready(page);
  await idle(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  const switches = await page.$$eval('#layers label', (ls) => ls.map((l) => l.textContent.trim()));
  for (const s of switches) assert.doesNotMatch(s, HAN, `layer switch "${s}"`);
  assert.ok(switches.includes('events') && switches.includes('ships'), switches.join(', '));
  assert.equal(await page.textContent('#label-rate'), 'Closure rate');
  assert.equal(await page.textContent('#apply-time'), 'Apply');
  await page.waitForFunction(() => document.querySelectorAll('#legend li[data-lo]').length > 0, null, { timeout: 30000 });
  assert.match(await page.textContent('#legend .legend-title'), /^Closure rate/);
  const controls = await page.evaluate(() => {
    const c = document.getElementById('controls').cloneNode(true);
    c.querySelector('#lang-toggle').remove();
    return c.textContent;
  });
  assert.doesNotMatch(controls, HAN, 'Chinese left in the English controls');
  // Moving the map rewrites the hash; the language stays in the query.
  await page.evaluate(() => window.onemap.map.jumpTo({ center: [119.05, 25.45], zoom: 10.25 }));
  await page.waitForFunction(() => location.hash.includes('map=10.25/'), null, { timeout: 10000 });
  assert.equal(new URL(page.url()).searchParams.get('lang'), 'en');
  const hashBefore = new URL(page.url()).hash;

  // The switch: to Chinese (no lang, or lang=zh), the same hash.
  await Promise.all([page.waitForURL((u) => u.searchParams.get('lang') !== 'en', { timeout: 20000 }), page.click('#lang-toggle')]);
  await ready(page);
  assert.equal(new URL(page.url()).hash, hashBefore, 'the view is kept across the switch');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await page.textContent('#label-rate'), '办结率');
  assert.match(await page.textContent('#apply-time'), HAN);
  await page.waitForFunction(() => document.querySelectorAll('#legend li[data-lo]').length > 0, null, { timeout: 30000 });
  assert.match(await page.textContent('#legend .legend-title'), /办结率/);
  assert.equal(await page.evaluate(() => document.querySelector('input[name=shade]:checked').value), 'closure', 'the shading is kept');
  const z = await page.evaluate(() => window.onemap.map.getZoom());
  assert.ok(Math.abs(z - 10.25) < 0.01, `zoom ${z}`);
  // And back to English.
  await Promise.all([page.waitForURL((u) => u.searchParams.get('lang') === 'en', { timeout: 20000 }), page.click('#lang-toggle')]);
  await ready(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#label-rate'), 'Closure rate');
  assert.deepEqual(errors, []);
  await close();
});

// --- (d) the legend: quantile classes the map is coloured by ------------------

// The area level drawn now, its features (value and the colour the map
// gives each) and the legend's classes (range and swatch colour).
const mapAndLegend = (page, name = 'onemap') => page.evaluate((n) => {
  const m = window[n].map;
  const fills = ['districts', 'towns', 'villages', 'grids', 'units'].map((l) => l + '-fill').filter((id) => m.getLayer(id));
  const rgb = (c) => [c.r, c.g, c.b].map((x) => Math.round((255 * x) / (c.a || 1)));
  const areas = new Map();
  for (const f of m.queryRenderedFeatures({ layers: fills }))
    areas.set(`${f.layer.id}/${f.id}`, { layer: f.layer.id, events: f.properties.events ?? 0, rate: f.properties.closure_rate,
      colour: rgb(f.layer.paint['fill-color']) });
  const classes = [...document.querySelectorAll('#legend .legend-classes li')].map((li) => ({
    lo: li.dataset.lo === undefined ? null : Number(li.dataset.lo), hi: li.dataset.hi === undefined ? null : Number(li.dataset.hi),
    none: 'none' in li.dataset, text: li.textContent,
    colour: (getComputedStyle(li.querySelector('i')).backgroundColor.match(/\d+/g) || []).slice(0, 3).map(Number),
  }));
  return { areas: [...areas.values()], classes, title: document.querySelector('#legend .legend-title').textContent,
    legendShown: !document.getElementById('legend').hidden };
}, name);

// Checks that the legend describes the map: ≥ 2 classes, ranges increasing
// and disjoint, every area drawn in exactly one class and in its colour,
// and (`spread`, for a view of the whole city) the areas spread over the
// classes. Returns the classes.
function checkLegend(s, { metric = 'events', label = '', spread = false } = {}) {
  const where = `${label}: ${JSON.stringify(s.classes)}`;
  assert.ok(s.legendShown, `the legend is shown (${label})`);
  const layers = new Set(s.areas.map((a) => a.layer));
  assert.equal(layers.size, 1, `one area level drawn: ${[...layers]}`);
  const classes = s.classes.filter((c) => !c.none);
  assert.ok(classes.length >= 2, `at least 2 classes: ${where}`);
  for (const c of classes) assert.ok(c.lo <= c.hi, `a class from ${c.lo} to ${c.hi}: ${where}`);
  for (let i = 1; i < classes.length; i++) assert.ok(classes[i - 1].hi < classes[i].lo, `classes increase and do not overlap: ${where}`);
  const counts = classes.map(() => 0);
  for (const a of s.areas) {
    const v = metric === 'events' ? a.events : a.rate;
    if (metric === 'closure' && !a.events) {
      const none = s.classes.find((c) => c.none);
      assert.ok(none, 'a legend row for areas without events');
      assert.deepEqual(a.colour, none.colour, 'an area without events has the no-events colour');
      continue;
    }
    const i = classes.findIndex((c) => c.lo <= v && v <= c.hi);
    assert.ok(i >= 0, `value ${v} of a ${a.layer} area is in a class: ${where}`);
    counts[i]++;
    for (let k = 0; k < 3; k++)
      assert.ok(Math.abs(a.colour[k] - classes[i].colour[k]) <= 1, `${a.layer} with ${v}: drawn ${a.colour}, legend ${classes[i].colour}`);
  }
  const n = counts.reduce((x, y) => x + y, 0);
  assert.ok(n >= 2, `${n} areas drawn`);
  assert.ok(new Set(s.areas.map((a) => a.colour.join())).size >= 2, 'the areas are not all one colour');
  if (spread && n >= 5) assert.ok(Math.max(...counts) <= 0.6 * n, `classes spread the areas: ${counts} of ${n}`);
  return classes;
}
// Waits until the legend and the map agree (the classes are set when the
// map is idle, and drawn at the next frame), then checks them.
async function legendOf(page, opts = {}, name = 'onemap') {
  if (process.env.DEBUG_TESTS) console.error('legendOf', opts.label);
  await idle(page, name);
  for (let tries = 0; tries < 40; tries++) {
    const s = await mapAndLegend(page, name);
    try { return { classes: checkLegend(s, opts), title: s.title }; } catch (e) {
      if (tries === 39) throw e;
      await page.waitForTimeout(250);
    }
  }
}

test('viewer: whole city shaded by quantile classes, the legend follows zoom, time filter and shading', async () => {
  const { page, errors, close } = await newPage();
  await page.goto(BASE + '/');
  await ready(page);
  const city = await legendOf(page, { label: 'whole city', spread: true });
  const cityZoom = await page.evaluate(() => window.onemap.map.getZoom());
  assert.match(city.title, /事件/);
  for (const c of city.classes) assert.ok(/件/.test(c.text) && c.text.includes(zhNumber.format(c.lo)), `legend row "${c.text}"`);
  await page.screenshot({ path: ARTIFACTS + 'viewer-legend.png' });

  // The last 60 days: fewer events per area, the classes follow.
  const to = (await api('/api/wall')).today.date;
  const fromDate = new Date(to + 'T00:00:00Z'); fromDate.setUTCDate(fromDate.getUTCDate() - 59);
  const from = fromDate.toISOString().slice(0, 10);
  await page.fill('#from', from);
  await page.fill('#to', to);
  await page.click('#apply-time');
  await page.waitForFunction(() => window.onemap.map.getSource('onemap').tiles[0].includes('from='), null, { timeout: 10000 });
  const top = city.classes[city.classes.length - 1].hi;
  await page.waitForFunction((t) => {
    const rows = [...document.querySelectorAll('#legend li[data-hi]')];
    return rows.length && Number(rows[rows.length - 1].dataset.hi) < t;
  }, top, { timeout: 30000 });
  const windowed = await legendOf(page, { label: '60 days', spread: true });
  assert.ok(windowed.classes[windowed.classes.length - 1].hi < top, 'the classes follow the time filter');

  // Zoomed in two levels: the next area level, its own classes.
  await page.evaluate(() => { const m = window.onemap.map; m.jumpTo({ zoom: m.getZoom() + 2 }); });
  const closer = await legendOf(page, { label: 'zoomed in' });
  assert.notEqual(closer.title, city.title, 'the legend names the level drawn');
  // Grids (classed over those in view).
  await page.evaluate(() => window.onemap.map.jumpTo({ zoom: 12.5 }));
  const grids = await legendOf(page, { label: 'grids' });
  assert.notEqual(grids.title, closer.title, 'the legend names the level drawn');

  // Shaded by closure rate: percentage ranges, a row for areas without events.
  await page.click('#clear-time');
  await page.evaluate((z) => window.onemap.map.jumpTo({ zoom: z }), cityZoom);
  await page.check('input[name=shade][value=closure]');
  const closure = await legendOf(page, { metric: 'closure', label: 'closure rate', spread: true });
  assert.match(closure.title, /办结率/);
  for (const c of closure.classes) assert.match(c.text, /%/);
  assert.deepEqual(errors, []);
  await close();
});

// --- (c) a phone ---------------------------------------------------------------

test('viewer on a phone (390×844): the map fills the screen, controls in a drawer, the panel a bottom sheet', async () => {
  const W = 390, H = 844;
  const { page, errors, close } = await newPage({ viewport: { width: W, height: H }, isMobile: true, hasTouch: true });
  await page.goto(BASE + '/');
  await ready(page);
  await idle(page);
  const overflow = () => page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  assert.ok(await overflow() <= W, `no horizontal scrolling: ${await overflow()}`);
  // The map: the whole screen, and most of it not covered by anything.
  const cover = await page.evaluate(() => {
    const canvas = window.onemap.map.getCanvas();
    const r = canvas.getBoundingClientRect();
    let map = 0, all = 0;
    for (let x = 5; x < innerWidth; x += 20)
      for (let y = 5; y < innerHeight; y += 20) { all++; if (document.elementFromPoint(x, y) === canvas) map++; }
    return { w: r.width, h: r.height, free: map / all };
  });
  assert.ok(cover.w >= W - 1 && cover.h >= H - 1, `the map is ${cover.w}×${cover.h}`);
  assert.ok(cover.free >= 0.75, `the map is most of the screen: ${Math.round(100 * cover.free)}% uncovered`);
  const tall = (sel) => page.$$eval(sel, (els) => els.filter((e) => e.getClientRects().length)
    .map((e) => ({ id: e.id || e.textContent.trim(), h: e.getBoundingClientRect().height, w: e.getBoundingClientRect().width })));
  const fontSizes = (sel) => page.$$eval(sel, (els) => els.filter((e) => e.getClientRects().length && e.textContent.trim())
    .map((e) => parseFloat(getComputedStyle(e).fontSize)));

  // The drawer: closed, opened by a tap, every control a finger's size.
  assert.equal(await page.isVisible('#search-q'), false, 'the drawer starts closed');
  await page.tap('#controls-toggle');
  await page.waitForSelector('#search-q', { state: 'visible', timeout: 5000 });
  // (a checkbox or radio button is tapped through its label, the row)
  const targets = await tall('#controls button, #controls input:not([type=checkbox]):not([type=radio]), #controls fieldset label');
  assert.ok(targets.length >= 14, `${targets.length} controls`);
  for (const b of targets) assert.ok(b.h >= 44, `${b.id} is ${b.h} px tall`);
  const drawer = await page.evaluate(() => document.getElementById('controls').getBoundingClientRect().toJSON());
  assert.ok(drawer.left >= 0 && drawer.right <= W, `the drawer fits: ${JSON.stringify(drawer)}`);
  assert.ok(await overflow() <= W, 'no horizontal scrolling with the drawer open');
  for (const s of await fontSizes('#controls label, #controls legend, #controls button')) assert.ok(s >= 14, `text of ${s} px`);
  await page.screenshot({ path: ARTIFACTS + 'phone-drawer.png' });
  // A layer switched off by a tap.
  await page.tap('#layers label:has(input[data-layer=events])');
  assert.equal(await page.isChecked('input[data-layer=events]'), false);
  await page.tap('#layers label:has(input[data-layer=events])');
  await page.tap('#controls-toggle');
  await page.waitForSelector('#search-q', { state: 'hidden', timeout: 5000 });

  // An area tapped on the map: the panel comes up from the bottom.
  const spot = await page.evaluate(() => {
    const m = window.onemap.map, canvas = m.getCanvas();
    const fills = ['districts-fill', 'towns-fill', 'villages-fill'].filter((l) => m.getLayer(l));
    for (let y = innerHeight / 2; y < innerHeight - 60; y += 15)
      for (let x = 60; x < innerWidth - 60; x += 15) {
        if (document.elementFromPoint(x, y) !== canvas) continue;
        // An area, and no point (a ship, a school …) near: a tap there opens the area.
        const area = m.queryRenderedFeatures([x, y], { layers: fills });
        const points = m.queryRenderedFeatures([[x - 12, y - 12], [x + 12, y + 12]])
          .filter((f) => f.layer.id === 'live-ships' || f.layer.type === 'circle');
        if (area.length && !points.length) return { x, y, code: area[0].properties.code };
      }
    return null;
  });
  assert.ok(spot, 'an area on screen to tap');
  await page.tap('#map canvas', { position: { x: spot.x, y: spot.y } });
  await page.waitForFunction((c) => window.onemap.details && String(window.onemap.details.area.id) === c, spot.code, { timeout: 20000 });
  const area = await api(`/api/areas/${spot.code}`);
  assert.equal(await page.textContent('#panel-name'), area.area.name);
  const sheet = await page.evaluate(() => document.getElementById('panel').getBoundingClientRect().toJSON());
  assert.ok(sheet.left >= 0 && sheet.right <= W && Math.abs(sheet.bottom - H) <= 1, `a bottom sheet: ${JSON.stringify(sheet)}`);
  assert.ok(sheet.top >= H * 0.3, `the sheet leaves the map in sight: top ${sheet.top}`);
  assert.ok(await overflow() <= W, 'no horizontal scrolling with the panel open');
  for (const b of await tall('#panel button')) assert.ok(b.h >= 44 && b.w >= 44, `${b.id} is ${b.w}×${b.h} px`);
  for (const r of await tall('#panel-children tbody tr')) assert.ok(r.h >= 44, `a row of ${r.h} px`);
  for (const s of await fontSizes('#panel dt, #panel dd, #panel td, #panel-sub, #legend li')) assert.ok(s >= 12, `text of ${s} px`);
  await page.screenshot({ path: ARTIFACTS + 'phone-panel.png' });
  // A tap on the handle lowers the sheet to its title; another raises it.
  await page.tap('#panel-handle');
  const low = await page.evaluate(() => document.getElementById('panel').getBoundingClientRect().toJSON());
  assert.ok(low.height < sheet.height && low.height <= 160, `lowered: ${low.height} px`);
  assert.ok(await page.isVisible('#panel-name'), 'the lowered sheet still names the area');
  await page.tap('#panel-handle');
  const raised = await page.evaluate(() => document.getElementById('panel').getBoundingClientRect().height);
  assert.ok(Math.abs(raised - sheet.height) <= 1, `raised again: ${raised} px`);
  // A row of the children table drills down, by touch.
  if (area.children.length) {
    await page.tap('#panel-children tbody tr');
    await page.waitForFunction((c) => String(window.onemap.details.area.id) === c, String(area.children[0].area.id), { timeout: 20000 });
  }
  await page.tap('#panel-close');
  assert.equal(await page.isVisible('#panel'), false);
  assert.deepEqual(errors, []);
  await close();
});

// --- (e) the wall, in Chinese ---------------------------------------------------

test('wall: Chinese by default (figures, places, categories, dates), legend of its classes; English with ?lang=en', async () => {
  const { page, errors, close } = await newPage({ viewport: { width: 1600, height: 900 } });
  await page.goto(BASE + '/wall?refresh=2&tour=600');
  await page.waitForFunction(() => window.onemapWall && window.onemapWall.refreshes >= 1 && window.onemapWall.tours >= 1, null, { timeout: 30000 });
  const summary = await api('/api/wall');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.title(), HAN);
  const [y, m, d] = summary.today.date.split('-').map(Number);
  assert.equal(await page.textContent('#today'), `${y}年${m}月${d}日`);
  assert.equal(await page.textContent('#open-events'), zhNumber.format(summary.open_events));
  assert.match(await page.textContent('#status'), HAN);
  assert.match(await page.textContent('#tour-figures'), HAN);
  const places = await page.$$eval('#hotspots li', (ls) => ls.map((l) => l.textContent));
  assert.ok(places.length > 0);
  for (const [i, p] of places.entries()) {
    const code = summary.hotspots.places[i].category;
    assert.ok(!p.includes(code) && !p.includes(code.replace('_', ' ')), `category code shown as is: ${p}`);
  }
  assert.deepEqual(await latinLeftovers(page), [], 'English left on the wall');
  const legend = await legendOf(page, { label: 'wall' }, 'onemapWall');
  assert.match(legend.title, /事件/);
  await page.screenshot({ path: ARTIFACTS + 'wall-zh.png' });

  await page.goto(BASE + '/wall?refresh=2&tour=600&lang=en');
  await page.waitForFunction(() => window.onemapWall && window.onemapWall.refreshes >= 1, null, { timeout: 30000 });
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('#side'), /open events/);
  assert.match(await page.textContent('#status'), /^updated /);
  assert.deepEqual(errors, []);
  await close();
});

// --- (e) the coordination page -------------------------------------------------

test('coord: Chinese by default — plans, reasons, calendar and a file, no English left', async () => {
  const { page, errors, close } = await newPage();
  const first = (await api('/api/coord/plans?limit=1')).rows[0];
  const month = Number(first.planned.slice(5, 7));
  await page.goto(`${BASE}/coord#town=${first.target.town.id}&month=${month}`);
  await page.waitForFunction(() => window.coord && window.coord.ready, null, { timeout: 120000 });
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.title(), HAN);
  assert.ok(await page.$$eval('.plan', (p) => p.length) > 0);
  assert.match(await page.textContent('.plan .reason'), HAN);
  assert.deepEqual(await latinLeftovers(page), [], 'English left in the plans');
  await page.click('#tab-calendar');
  assert.deepEqual(await latinLeftovers(page), [], 'English left in the calendar');
  await page.click('.visit');
  await page.waitForSelector('#coord-file-name', { timeout: 20000 });
  await page.waitForFunction(() => window.coord.fileLoads >= 1, null, { timeout: 20000 });
  assert.deepEqual(await latinLeftovers(page), [], 'English left in the file');
  // Every code the page names has words of its own in both languages.
  const missing = await page.evaluate(() => {
    const out = [];
    for (const kind of ['coord_action', 'coord_reason', 'coord_mode', 'coord_subject', 'coord_dept', 'coord_self_check', 'coord_risk'])
      for (const c of Object.keys(onemapI18n.codes.zh[kind])) if (!(c in onemapI18n.codes.en[kind])) out.push(`${kind}.${c}`);
    return out;
  });
  assert.deepEqual(missing, []);
  assert.deepEqual(errors, []);
  await close();
});
