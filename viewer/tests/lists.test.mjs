// The problem, development and task lists in the browser (issue 16 item
// 5), in real Chromium (playwright-core) against a running `onemap serve`
// at ONEMAP_URL whose city has its demo lists (lists.json from `onemap
// synth`). Needs ONEMAP_BIN and ONEMAP_DATA like loop.test.mjs (the test
// makes its own accounts).
//
// A town office signs in on /lists: its town's open problems are on
// screen (as many as /api/lists says), it makes a hot spot a problem item
// with one click (or, without a hot spot, one by the form), moves it to
// in progress with a note, and the API agrees (status and history). The
// Chinese page shows no English words. A unit leader on a phone, in
// English, reads its village's tasks, opens one, creates a development
// item by the form, and the API has it; the page fits the phone's width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.ONEMAP_URL;
const BIN = process.env.ONEMAP_BIN;
const DATA = process.env.ONEMAP_DATA;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE) throw new Error('ONEMAP_URL is not set: start `onemap serve` and export ONEMAP_URL=http://host:port');
if (!BIN) throw new Error('ONEMAP_BIN is not set (CI: target/release/onemap): the test creates accounts with it');
if (!DATA) throw new Error('ONEMAP_DATA is not set: the city directory the server serves');

const run = randomBytes(4).toString('hex');
const PASSWORD = 'lists-' + randomBytes(9).toString('hex');
const users = {
  office: { name: `l-office-${run}`, display: `林芳${parseInt(run, 16) % 1000}`, role: 'town_office' },
  leader: { name: `l-leader-${run}`, display: `Lin ${run.slice(0, 3)}`, role: 'unit_leader' },
};
let browser, town, village;

before(async () => {
  // A village with demo items, and its town.
  const demo = JSON.parse(readFileSync(`${DATA}/lists.json`, 'utf8'));
  assert.ok(demo.length > 0, 'the city has demo lists');
  village = String(demo[0].area);
  town = village.slice(0, 9);
  users.office.scope = `area:${town}`;
  users.leader.scope = `area:${village}`;
  for (const u of Object.values(users))
    execFileSync(BIN, ['user', 'create', '--name', u.name, '--display-name', u.display, '--role', u.role, '--scope', u.scope, '--data', DATA],
      { env: { ...process.env, ONEMAP_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'inherit'] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => { await browser?.close(); });

async function open(who, { lang = 'zh', viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/lists${lang === 'en' ? '?lang=en' : ''}`);
  await page.waitForSelector('#sign-in:not([hidden])');
  await page.fill('#si-name', users[who].name);
  await page.fill('#si-pass', PASSWORD);
  await page.click('#sign-in button[type=submit]');
  await page.waitForFunction(() => document.getElementById('msg').dataset.total !== undefined, null, { timeout: 30000 });
  return { page, errors, close: () => context.close() };
}

// The API as the page's session sees it.
const apiGet = (page, path) => page.evaluate(async (p) => (await fetch(p, { credentials: 'same-origin' })).json(), path);
const total = (page) => page.evaluate(() => Number(document.getElementById('msg').dataset.total));
async function waitTotalChange(page, before) {
  await page.waitForFunction((b) => {
    const m = document.getElementById('msg');
    return m.dataset.total !== undefined && Number(m.dataset.total) !== b;
  }, before, { timeout: 30000 });
}

test('a town office makes a hot spot a problem item and moves it along', async () => {
  const { page, errors, close } = await open('office');
  try {
    assert.equal(await page.inputValue('#area'), town, 'the account\'s own area by default');
    const api = await apiGet(page, `/api/lists?area=${town}&kind=problem&status=open,in_progress&limit=1`);
    assert.equal(await total(page), api.total, 'the open problems on screen are the API\'s');
    const shown = await page.locator('#items li.item').count();
    assert.equal(shown, Math.min(api.total, 50));

    // A hot spot of the town, as /api/hotspots has it.
    const spots = await apiGet(page, `/api/hotspots?area=${town}&min_count=2&limit=20`);
    const unitSpots = spots.hotspots.filter((h) => h.place.type === 'unit');
    let id;
    const before = await total(page);
    if (unitSpots.length) {
      await page.click('#spots-box summary');
      await page.fill('#h-min', '2');
      await page.click('#h-load');
      await page.waitForSelector('#spots li button.to-problem');
      await page.locator('#spots li button.to-problem').first().click();
      await page.waitForFunction(() => /\d/.test(document.getElementById('h-msg').textContent), null, { timeout: 30000 });
      id = Number((await page.textContent('#h-msg')).match(/\d+/)[0]);
      const item = await apiGet(page, `/api/lists/${id}`);
      assert.equal(item.kind, 'problem');
      assert.equal(item.category, unitSpots[0].category);
      assert.equal(item.events.length, unitSpots[0].count, 'every event of the hot spot is linked');
      assert.equal(item.hotspot, `unit:${unitSpots[0].place.id}:${unitSpots[0].category}`);
      // A second click on the same hot spot is refused while it is open.
      const again = await page.evaluate(async (h) => {
        const s = await (await fetch('/api/session')).json();
        const r = await fetch('/api/lists', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
          body: JSON.stringify({ from_hotspot: { category: h.category, unit: String(h.place.id), min_count: 2 } }) });
        return r.status;
      }, unitSpots[0]);
      assert.equal(again, 409);
    } else {
      await page.click('#new-box summary');
      await page.selectOption('#n-kind', 'problem');
      await page.fill('#n-area', village);
      await page.fill('#n-title', '村口积水反复出现');
      await page.selectOption('#n-category', 'drainage');
      await page.fill('#n-owner', '水利局');
      await page.fill('#n-due', '2030-06-30');
      await page.click('#new-item button[type=submit]');
      await page.waitForFunction(() => /\d/.test(document.getElementById('n-msg').textContent), null, { timeout: 30000 });
      id = Number((await page.textContent('#n-msg')).match(/\d+/)[0]);
    }
    await waitTotalChange(page, before);
    assert.equal(await total(page), before + 1, 'the new item is in the list');
    // Its detail is open: move it to in progress with a note.
    await page.waitForSelector('#detail:not([hidden])');
    await page.selectOption('#m-to', 'in_progress');
    await page.fill('#m-note', '已安排排查');
    await page.click('#move button[type=submit]');
    await page.waitForFunction(() => document.getElementById('m-msg').textContent === '已保存', null, { timeout: 30000 });
    const item = await apiGet(page, `/api/lists/${id}`);
    assert.equal(item.status, 'in_progress');
    const last = item.history[item.history.length - 1];
    assert.deepEqual([last.change, last.from, last.to, last.note, last.by], ['status', 'open', 'in_progress', '已安排排查', users.office.display]);
    assert.match(await page.textContent('#d-history'), /已安排排查/);
    // The Chinese page shows no English words (onemap is the product's
    // name, English the language switch's).
    const text = await page.evaluate(() => document.body.innerText);
    const words = (text.match(/[A-Za-z]{2,}/g) || []).filter((w) => !['onemap', 'English'].includes(w));
    assert.deepEqual(words, [], `English on the Chinese page: ${words}`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a unit leader reads and adds to its village\'s lists on a phone, in English', async () => {
  const { page, errors, close } = await open('leader', { lang: 'en', viewport: { width: 390, height: 844 } });
  try {
    assert.equal(await page.inputValue('#area'), village);
    const api = await apiGet(page, `/api/lists?area=${village}&kind=task&limit=1`);
    assert.ok(api.total > 0, 'the demo village has tasks');
    await page.click('#tabs button[data-kind=task]');
    await page.selectOption('#status', '');
    await page.waitForFunction((n) => document.getElementById('msg').textContent.startsWith('Tasks')
      && Number(document.getElementById('msg').dataset.total) === n, api.total, { timeout: 30000 });
    assert.equal(await page.locator('#items li.item').count(), Math.min(api.total, 50));
    await page.locator('#items li.item button.title').first().click();
    await page.waitForSelector('#detail:not([hidden])');
    assert.match(await page.textContent('#d-history'), /created/);
    // A development item by the form (no due date needed).
    await page.click('#tabs button[data-kind=development]');
    await page.waitForFunction(() => document.getElementById('msg').textContent.startsWith('Development') || document.getElementById('msg').textContent === 'No items match', null, { timeout: 30000 });
    const before = await total(page);
    await page.click('#new-box summary');
    await page.fill('#n-title', '建设村级图书室');
    await page.selectOption('#n-category', 'culture');
    await page.selectOption('#n-owner-kind', 'person');
    await page.fill('#n-owner', '林一');
    await page.click('#new-item button[type=submit]');
    await page.waitForFunction(() => /Item \d+ created/.test(document.getElementById('n-msg').textContent), null, { timeout: 30000 });
    await waitTotalChange(page, before);
    const rows = await apiGet(page, `/api/lists?area=${village}&kind=development&status=open&limit=5`);
    assert.equal(rows.rows[0].title, '建设村级图书室');
    assert.equal(rows.rows[0].owner.name, '林一');
    assert.equal(rows.rows[0].due, null);
    // Nothing wider than the phone.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide on a 390px phone`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
