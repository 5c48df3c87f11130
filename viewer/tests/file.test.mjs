// Area files in the browser (issue "The one table", item 4), in real
// Chromium (playwright-core) against a running `onemap serve` at
// ONEMAP_URL whose city has its ledgers; needs ONEMAP_BIN and ONEMAP_DATA
// (the test makes its own accounts, like table.test.mjs).
//
// A town office signs in on a village's file in Chinese: every figure on
// the page (the month bars, the month table, the ledgers' counts, the
// homesteads' sums by status, the leaders) equals /api/files' answer to the
// same session; the Chinese page shows no English words; the print style
// sheet hides the header and keeps the chart; the open-problems section is
// absent while /api/lists answers 404. An auditor reads a town's file in
// English on a phone: nothing wider than the screen, phones masked; it
// links down to a village's file. Screenshots go to artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = process.env.ONEMAP_URL;
const BIN = process.env.ONEMAP_BIN;
const DATA = process.env.ONEMAP_DATA;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
if (!BASE) throw new Error('ONEMAP_URL is not set: start `onemap serve` and export ONEMAP_URL=http://host:port');
if (!BIN) throw new Error('ONEMAP_BIN is not set (CI: target/release/onemap): the test creates accounts with it');
if (!DATA) throw new Error('ONEMAP_DATA is not set: the city directory the server serves');

const run = randomBytes(4).toString('hex');
const PASSWORD = 'file-' + randomBytes(9).toString('hex');
const users = {
  office: { name: `f-office-${run}`, display: `林晓${run.slice(0, 3)}`, role: 'town_office' },
  auditor: { name: `f-audit-${run}`, display: `审计${run.slice(0, 3)}`, role: 'viewer', scope: 'city' },
};
let browser, loc;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  loc = await (await fetch(`${BASE}/api/locate?lon=119.0&lat=25.45`)).json();
  users.office.scope = `area:${loc.town.id}`;
  for (const u of Object.values(users))
    execFileSync(BIN, ['user', 'create', '--name', u.name, '--display-name', u.display, '--role', u.role, '--scope', u.scope, '--data', DATA],
      { env: { ...process.env, ONEMAP_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'inherit'] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
});
after(async () => { await browser?.close(); });

async function open(who, query, { lang = 'zh', viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/file?${query}${lang === 'en' ? '&lang=en' : ''}`);
  await page.waitForSelector('#sign-in:not([hidden])');
  await page.fill('#si-name', users[who].name);
  await page.fill('#si-pass', PASSWORD);
  await page.click('#sign-in button[type=submit]');
  await page.waitForFunction(() => window.filePage && window.filePage.ready && window.filePage.file, null, { timeout: 60000 });
  return { page, errors, close: () => context.close() };
}

// What the page shows, read off the page.
const shown = (page) => page.evaluate(() => {
  const val = (sel) => [...document.querySelectorAll(sel)].map((e) => Number(e.dataset.value));
  return {
    name: document.getElementById('f-name').textContent,
    bars: [...document.querySelectorAll('#f-chart rect')].map((r) => [r.dataset.month, r.dataset.series, Number(r.dataset.value), Number(r.getAttribute('height'))]),
    months: [...document.querySelectorAll('#f-months tbody tr')].map((tr) => [tr.dataset.month, ...[...tr.querySelectorAll('.n')].map((n) => Number(n.dataset.value))]),
    counts: Object.fromEntries([...document.querySelectorAll('#f-counts [data-k]')].map((d) => [d.dataset.k, Number(d.querySelector('.n').dataset.value)])),
    now: Object.fromEntries([...document.querySelectorAll('#f-now [data-k]')].map((d) => [d.dataset.k, d.querySelector('.n').dataset.value])),
    homesteads: [...document.querySelectorAll('#f-homestead-sums tbody tr')].map((tr) => [tr.dataset.status, Number(tr.dataset.count), Number(tr.dataset.area)]),
    leaders: [...document.querySelectorAll('#f-leader-table tbody tr')].map((tr) => [tr.dataset.post, tr.cells[1].textContent, tr.cells[2].textContent]),
    children: [...document.querySelectorAll('#f-child-table tbody tr')].map((tr) => tr.dataset.id),
    lists: !!document.getElementById('f-lists'),
    heritage: val('#f-heritage .sum .n'),
  };
});

test('a village file in Chinese shows the API\'s figures and prints', async () => {
  const { page, errors, close } = await open('office', `area=${loc.village.id}`);
  try {
    const s = await shown(page);
    const api = await page.evaluate(async (id) => (await fetch(`/api/files/area/${id}`)).json(), loc.village.id);
    assert.equal(s.name, api.area.name);
    assert.equal(s.name, loc.village.name);
    // The chart: a bar per month and series, its value the API's, taller for more.
    assert.equal(s.bars.length, 24);
    for (const m of api.events.months) {
      for (const k of ['reported', 'closed']) {
        const bar = s.bars.find((b) => b[0] === m.month && b[1] === k);
        assert.ok(bar, `${m.month} ${k}`);
        assert.equal(bar[2], m[k], `${m.month} ${k}`);
      }
    }
    const rep = s.bars.filter((b) => b[1] === 'reported');
    for (const a of rep) for (const b of rep) if (a[2] > b[2]) assert.ok(a[3] > b[3], 'more events, a taller bar');
    assert.deepEqual(s.months, api.events.months.map((m) => [m.month, m.reported, m.closed]));
    for (const k of ['people', 'care', 'houses', 'dangerous_houses', 'cadres', 'projects']) assert.equal(s.counts[k], api.ledgers[k], k);
    assert.equal(s.counts.enterprises, api.enterprises.total);
    assert.equal(s.counts.schools, api.schools.total);
    assert.equal(Number(s.now.total), api.events.now.total);
    assert.equal(Number(s.now.open), api.events.now.open);
    assert.deepEqual(s.homesteads, api.homesteads.by_status.map((x) => [x.status, x.count, x.area_m2]));
    assert.deepEqual(s.heritage, [api.heritage.total]);
    assert.deepEqual(s.leaders, api.leaders.map((l) => [l.post, l.name, l.phone]));
    assert.ok(s.leaders.length >= 2, 'a secretary and a director at least');
    for (const l of s.leaders) assert.match(l[2], /^1\d{10}$/, 'a town office reads its own phones in the clear');
    assert.deepEqual(s.children, api.children.map((c) => String(c.area.id)));
    // The lists are not on this server yet: the section is absent, not broken.
    const lists = await page.evaluate(async (id) => (await fetch(`/api/lists?area=${id}&kind=problem&status=open,in_progress`)).status, loc.village.id);
    assert.equal(s.lists, lists !== 404, `/api/lists answers ${lists}`);
    // Chinese only (the product's name and the switch's "English" are names).
    const words = await page.evaluate(() => document.body.innerText.match(/[A-Za-z]{3,}/g) || []);
    const english = words.filter((w) => !['onemap', 'English'].includes(w));
    assert.deepEqual(english, [], `English on the Chinese page: ${english}`);
    // Links up: the town's file.
    assert.ok(await page.$(`#f-crumbs a[href="/file?area=${loc.town.id}"]`), 'a link to the town\'s file');
    await page.screenshot({ path: `${ARTIFACTS}file-village-zh.png`, fullPage: true });
    // Printing: no header, the chart kept, a page per part.
    await page.emulateMedia({ media: 'print' });
    const print = await page.evaluate(() => ({
      top: getComputedStyle(document.getElementById('top')).display,
      chart: getComputedStyle(document.getElementById('f-chart')).display,
      chartHeight: document.getElementById('f-chart').getBoundingClientRect().height,
      events: getComputedStyle(document.getElementById('f-events')).breakBefore,
      ledgers: getComputedStyle(document.getElementById('f-ledgers')).breakBefore,
    }));
    assert.equal(print.top, 'none');
    assert.notEqual(print.chart, 'none');
    assert.ok(print.chartHeight > 50, `the chart prints (${print.chartHeight}px)`);
    assert.equal(print.events, 'page');
    assert.equal(print.ledgers, 'page');
    await page.setViewportSize({ width: 794, height: 1123 }); // A4 at 96 dpi
    await page.screenshot({ path: `${ARTIFACTS}file-village-print.png`, fullPage: true });
    await page.pdf({ path: `${ARTIFACTS}file-village.pdf`, format: 'A4' });
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(errors, []);
  } finally { await close(); }
});

test('a town file in English on a phone, masked, linking down', async () => {
  const { page, errors, close } = await open('auditor', `area=${loc.town.id}`, { lang: 'en', viewport: { width: 390, height: 844 } });
  try {
    const s = await shown(page);
    const api = await page.evaluate(async (id) => (await fetch(`/api/files/area/${id}`)).json(), loc.town.id);
    assert.equal(s.name, loc.town.name);
    assert.equal(api.access.personal, false);
    for (const l of s.leaders) assert.match(l[2], /^\d{3}\*{4}\d{4}$/, 'phones masked for an auditor');
    assert.ok(await page.$('#f-masked'), 'the masking is said');
    assert.match(await page.textContent('#f-events h3'), /Events/);
    assert.deepEqual(s.months, api.events.months.map((m) => [m.month, m.reported, m.closed]));
    assert.ok(s.children.includes(String(loc.village.id)), 'the town lists the village');
    const overflow = await page.evaluate(() => [...document.querySelectorAll('header, .sec, .tiles, figure')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.id || e.className));
    assert.deepEqual(overflow, [], 'nothing wider than the phone but scrolling tables');
    await page.screenshot({ path: `${ARTIFACTS}file-town-phone-en.png`, fullPage: true });
    // Down to the village's file, still in English.
    await Promise.all([page.waitForNavigation(), page.click(`#f-child-table a[href^="/file?area=${loc.village.id}"]`)]);
    await page.waitForFunction(() => window.filePage && window.filePage.ready && window.filePage.file, null, { timeout: 60000 });
    assert.equal(await page.textContent('#f-name'), loc.village.name);
    assert.match(page.url(), /lang=en/);
    assert.deepEqual(errors, []);
  } finally { await close(); }
});

test('the map\'s area panel and the coordination page link to the files', async () => {
  const { page, errors, close } = await open('office', `area=${loc.village.id}`);
  try {
    // The map: an area's panel has 档案, to its file.
    await page.goto(`${BASE}/`);
    await page.waitForFunction(() => window.onemap && typeof window.onemap.showArea === 'function', null, { timeout: 60000 });
    await page.evaluate((id) => window.onemap.showArea(id, false), String(loc.village.id));
    await page.waitForSelector('#panel-file:not([hidden])');
    assert.equal(await page.textContent('#panel-file'), '档案');
    assert.equal(await page.getAttribute('#panel-file', 'href'), `/file?area=${loc.village.id}`);
    await Promise.all([page.waitForNavigation(), page.click('#panel-file')]);
    await page.waitForFunction(() => window.filePage && window.filePage.ready && window.filePage.file, null, { timeout: 60000 });
    assert.equal(await page.textContent('#f-name'), loc.village.name);
    // An enterprise of the village: its file, linked from the coordination page.
    const ent = await page.evaluate(() => window.filePage.file.enterprises.rows[0]);
    assert.ok(ent, 'the village has an enterprise');
    await page.goto(`${BASE}/coord#town=${loc.town.id}&file=enterprise:${ent.id}`);
    await page.waitForSelector('#coord-file-link', { timeout: 60000 });
    assert.equal(await page.getAttribute('#coord-file-link', 'href'), `/file?enterprise=${ent.id}`);
    await Promise.all([page.waitForNavigation(), page.click('#coord-file-link')]);
    await page.waitForFunction(() => window.filePage && window.filePage.ready && window.filePage.file, null, { timeout: 60000 });
    const api = await page.evaluate(async (id) => (await fetch(`/api/files/enterprise/${id}`)).json(), ent.id);
    assert.equal(await page.textContent('#f-name'), ent.name);
    assert.equal(api.name, ent.name);
    const insp = await page.$$eval('#f-insp-rows tbody tr', (rows) => rows.length);
    assert.equal(insp, api.coord.inspections.length);
    const near = await page.$$eval('#f-nearby-rows tbody tr', (rows) => rows.map((r) => r.dataset.id));
    assert.deepEqual(near, api.nearby.map((e) => String(e.id)));
    await page.screenshot({ path: `${ARTIFACTS}file-enterprise-zh.png`, fullPage: true });
    assert.deepEqual(errors, []);
  } finally { await close(); }
});
