// The one table in the browser (issue "The one table", items 3 and 6), in
// real Chromium (playwright-core) against a running `onemap serve` at
// ONEMAP_URL whose city has its ledgers. Needs ONEMAP_BIN and ONEMAP_DATA
// like loop.test.mjs (the test makes its own accounts).
//
// A town office signs in on the page, picks the care group (关爱人群) of
// its town, ticks the ID number and the phone, and sees the count and the
// first rows (equal to /api/table), then downloads the CSV: its rows are
// the count, its first rows the table's, in the clear. A city-wide auditor
// in English sees the same rows masked, with the notice. The Chinese page
// shows no English words. Times from the click to the rows on screen are
// written to artifacts/table.json. The office then takes a standard
// template (the form fills, the table is the template's), saves its own,
// finds it again after a reload and deletes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
// Display names end in digits: hex could spell a Latin word on the Chinese page.
const digits = String(randomBytes(2).readUInt16BE(0) % 1000).padStart(3, '0');
const PASSWORD = 'table-' + randomBytes(9).toString('hex');
const users = {
  office: { name: `t-office-${run}`, display: `陈静${digits}`, role: 'town_office' },
  auditor: { name: `t-audit-${run}`, display: `审计${digits}`, role: 'viewer', scope: 'city' },
};
let browser, town;
const figures = {};

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const loc = await (await fetch(`${BASE}/api/locate?lon=119.0&lat=25.45`)).json();
  town = loc.town;
  users.office.scope = `area:${town.id}`;
  for (const u of Object.values(users))
    execFileSync(BIN, ['user', 'create', '--name', u.name, '--display-name', u.display, '--role', u.role, '--scope', u.scope, '--data', DATA],
      { env: { ...process.env, ONEMAP_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'inherit'] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  writeFileSync(`${ARTIFACTS}table.json`, JSON.stringify(figures, null, 2));
});

async function open(who, { lang = 'zh', viewport = { width: 1400, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/table${lang === 'en' ? '?lang=en' : ''}`);
  await page.waitForSelector('#sign-in:not([hidden])');
  await page.fill('#si-name', users[who].name);
  await page.fill('#si-pass', PASSWORD);
  await page.click('#sign-in button[type=submit]');
  // The first table (the ledger's default fields) is on screen.
  await page.waitForFunction(() => document.getElementById('status').dataset.total !== undefined, null, { timeout: 30000 });
  return { page, errors, close: () => context.close() };
}

// Care group, with the ID number and the phone ticked; the time from the
// click to the new rows on screen.
async function careTable(page) {
  await page.selectOption('#filters select[name=tags]', 'care');
  for (const k of ['id_number', 'phone']) await page.check(`#field-list input[data-field=${k}]`);
  const before = await page.evaluate(() => document.getElementById('status').textContent);
  const t0 = Date.now();
  await page.click('#run');
  await page.waitForFunction((b) => {
    const s = document.getElementById('status');
    return s.textContent !== b && s.dataset.total !== undefined && !/…/.test(s.textContent);
  }, before, { timeout: 30000 });
  const ms = Date.now() - t0;
  const shown = await page.evaluate(() => ({
    total: Number(document.getElementById('status').dataset.total),
    head: [...document.querySelectorAll('#rows th')].map((th) => th.dataset.key),
    labels: [...document.querySelectorAll('#rows th')].map((th) => th.textContent),
    rows: [...document.querySelectorAll('#rows tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
    masked: !document.getElementById('masked').hidden,
    maskedText: document.getElementById('masked').textContent,
    csv: document.getElementById('dl-csv').href,
  }));
  return { ms, ...shown };
}

// The answer the page's own session gets from the API for the same question.
const apiAnswer = (page, href) => page.evaluate(async (h) => {
  const u = new URL(h); u.pathname = '/api/table'; u.searchParams.delete('format'); u.searchParams.set('limit', '500');
  return (await fetch(u)).json();
}, href);

test('a town office makes the care-group table of its town and downloads it', async () => {
  const { page, errors, close } = await open('office');
  try {
    const r = await careTable(page);
    figures.office_care_table_ms = r.ms;
    assert.ok(r.total > 0, 'the care group of the town has people');
    for (const k of ['name', 'id_number', 'phone', 'tags']) assert.ok(r.head.includes(k), `${k} is a column: ${r.head}`);
    assert.ok(r.labels.includes('身份证号（合成）') && r.labels.includes('联系电话'), r.labels.join(','));
    assert.equal(r.masked, false, 'a town office reads its town in the clear');
    const api = await apiAnswer(page, r.csv);
    assert.equal(api.total, r.total);
    assert.equal(r.rows.length, Math.min(50, r.total));
    const idCol = r.head.indexOf('id_number');
    const apiId = api.fields.findIndex((f) => f.key === 'id_number');
    for (let i = 0; i < r.rows.length; i++) {
      assert.match(r.rows[i][idCol], /^\d{17}[\dX]$/);
      assert.equal(r.rows[i][idCol], api.rows[i][apiId]);
    }
    const townCol = r.head.indexOf('town');
    for (const row of r.rows) assert.equal(row[townCol], town.name);
    // The page in Chinese shows no English words (CSV, XLSX, GeoPackage,
    // the product's name and the language switch's "English" are names).
    const words = await page.evaluate(() => document.body.innerText.match(/[A-Za-z]{3,}/g) || []);
    const english = words.filter((w) => !['CSV', 'XLSX', 'GeoPackage', 'onemap', 'English'].includes(w));
    assert.deepEqual(english, [], `English on the Chinese page: ${english}`);
    // The download: a UTF-8 CSV with a BOM, every row, the same first rows.
    const t0 = Date.now();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
    const path = await download.path();
    figures.office_csv_download_ms = Date.now() - t0;
    const text = readFileSync(path, 'utf8');
    assert.equal(text.charCodeAt(0), 0xfeff, 'BOM');
    const lines = text.slice(1).trim().split(/\r?\n/);
    assert.equal(lines.length, r.total + 1, 'a header and every row');
    assert.deepEqual(lines[0].split(','), r.labels);
    for (let i = 0; i < Math.min(5, r.rows.length); i++)
      assert.equal(lines[i + 1].split(',')[idCol], r.rows[i][idCol]);
    assert.match(download.suggestedFilename(), new RegExp(`^people-${town.id}-\\d{8}\\.csv$`));
    assert.deepEqual(errors, []);
  } finally { await close(); }
});

test('an auditor sees the same rows masked, in English, on a phone', async () => {
  const { page, errors, close } = await open('auditor', { lang: 'en', viewport: { width: 390, height: 844 } });
  try {
    await page.fill('#area', String(town.id));
    const r = await careTable(page);
    figures.auditor_care_table_ms = r.ms;
    assert.ok(r.total > 0);
    assert.equal(r.masked, true);
    assert.match(r.maskedText, /ID number/);
    assert.ok(r.labels.includes('ID number (synthetic)'), r.labels.join(','));
    const idCol = r.head.indexOf('id_number');
    for (const row of r.rows) assert.match(row[idCol], /^\d{6}\*{8}\d{3}[\dX]$/);
    const phoneCol = r.head.indexOf('phone');
    for (const row of r.rows) if (row[phoneCol]) assert.match(row[phoneCol], /^\d{3}\*{4}\d{4}$/);
    // Nothing wider than the phone's screen but the table, which scrolls.
    const overflow = await page.evaluate(() => [...document.querySelectorAll('header, form')].filter((e) => e.scrollWidth > window.innerWidth + 1).map((e) => e.id));
    assert.deepEqual(overflow, []);
    await page.screenshot({ path: `${ARTIFACTS}table-phone-en.png` });
    assert.deepEqual(errors, []);
  } finally { await close(); }
});

// The table the page shows now: its count and header keys.
const shownTable = (page) => page.evaluate(() => ({
  total: Number(document.getElementById('status').dataset.total),
  head: [...document.querySelectorAll('#rows th')].map((th) => th.dataset.key),
  status: document.getElementById('status').textContent,
}));
const waitNewTable = (page, before) => page.waitForFunction((b) => {
  const s = document.getElementById('status');
  return s.textContent !== b && s.dataset.total !== undefined && !/…/.test(s.textContent);
}, before, { timeout: 30000 });

test('a town office takes a standard template, saves its own, finds it again and deletes it', async () => {
  const { page, errors, close } = await open('office');
  try {
    const api = (path, init) => page.evaluate(async ([p, i]) => {
      const r = await fetch(p, i); return { status: r.status, body: await r.json() };
    }, [path, init]);
    // The standard unsafe-houses template: the form turns to the houses
    // ledger with grades C and D, and the table is the template's.
    let before = (await shownTable(page)).status;
    await page.selectOption('#template', 'std:unsafe_houses');
    await waitNewTable(page, before);
    assert.equal(await page.inputValue('#ledger'), 'houses');
    assert.equal(await page.inputValue('#filters select[name=safety]'), 'c|d');
    const want = await api('/api/table?template=std%3Aunsafe_houses');
    assert.equal(want.status, 200);
    let shown = await shownTable(page);
    assert.equal(shown.total, want.body.total);
    assert.ok(shown.total > 0, 'the town has unsafe houses');
    assert.deepEqual(shown.head, want.body.fields.map((f) => f.key));

    // Narrow it to grade D, drop a field, save it under a name.
    before = shown.status;
    await page.selectOption('#filters select[name=safety]', 'd');
    await page.uncheck('#field-list input[data-field=owner]');
    await page.click('#run');
    await waitNewTable(page, before);
    const mine = await shownTable(page);
    const name = `D级危房${digits}`;
    await page.click('#tpl-save');
    assert.equal(await page.inputValue('#tpl-area'), String(town.id), 'shared in the town of the office by default');
    await page.fill('#tpl-name', name);
    await page.click('#tpl-ok');
    await page.waitForFunction(() => !document.getElementById('tpl-msg').hidden);
    const msg = await page.textContent('#tpl-msg');
    assert.ok(msg.includes(name) && msg.includes(town.name), msg);
    const list = await api('/api/table/templates?ledger=houses');
    const saved = list.body.templates.find((x) => x.name === name);
    assert.ok(saved, 'the API lists it');
    assert.equal(saved.area, String(town.id));
    assert.equal(await page.inputValue('#template'), saved.id);

    // After a reload the template is there; taking it gives the same table.
    await page.goto(`${BASE}/table?template=${saved.id}`);
    await page.waitForFunction(() => document.getElementById('status').dataset.total !== undefined, null, { timeout: 30000 });
    shown = await shownTable(page);
    assert.equal(shown.total, mine.total);
    assert.deepEqual(shown.head, mine.head);
    assert.ok(!shown.head.includes('owner'));
    const again = await api(`/api/table?template=${saved.id}`);
    assert.equal(again.body.total, mine.total);

    // Deleting it (the page asks first).
    page.once('dialog', (d) => d.accept());
    await page.click('#tpl-delete');
    await page.waitForFunction((n) => !document.getElementById('tpl-msg').hidden && document.getElementById('tpl-msg').textContent.includes(n), name);
    const after = await api('/api/table/templates');
    assert.ok(!after.body.templates.some((x) => x.id === saved.id));
    assert.equal(await page.inputValue('#template'), '');
    assert.deepEqual(errors, []);
  } finally { await close(); }
});

test('a town office lists its town\'s closed events of a quarter from the events ledger', async () => {
  const { page, errors, close } = await open('office');
  try {
    // A ledger without times offers no time range.
    await page.selectOption('#ledger', 'enterprises');
    assert.equal(await page.locator('#filters input[type=date]').count(), 0, 'no time range for enterprises');
    await page.selectOption('#ledger', 'events');
    // Its coded fields to filter by, and two time ranges named as the fields are.
    for (const k of ['category', 'status', 'overdue']) assert.equal(await page.locator(`#filters select[name=${k}]`).count(), 1, k);
    const ranges = await page.evaluate(() => [...document.querySelectorAll('#filters label')]
      .filter((l) => l.querySelector('input[type=date]')).map((l) => l.firstChild.textContent.trim()));
    assert.deepEqual(ranges.map((r) => r.split(' ')[0]), ['状态更新时间', '上报时间']);
    await page.selectOption('#filters select[name=status]', 'closed');
    await page.fill('#reported-from', '2025-01-01');
    await page.fill('#reported-to', '2025-03-31');
    const before = await page.evaluate(() => document.getElementById('status').textContent);
    await page.click('#run');
    await page.waitForFunction((b) => {
      const s = document.getElementById('status');
      return s.textContent !== b && s.dataset.total !== undefined && !/…/.test(s.textContent);
    }, before, { timeout: 30000 });
    const shown = await page.evaluate(() => ({
      total: Number(document.getElementById('status').dataset.total),
      head: [...document.querySelectorAll('#rows th')].map((th) => th.dataset.key),
      rows: [...document.querySelectorAll('#rows tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
      csv: document.getElementById('dl-csv').href,
    }));
    const link = new URL(shown.csv);
    assert.equal(link.searchParams.get('status'), 'closed');
    // The last day is included: the range ends before the next day.
    assert.equal(link.searchParams.get('reported_from'), '2025-01-01');
    assert.equal(link.searchParams.get('reported_to'), '2025-04-01');
    // The map's own features of the town in that quarter, closed.
    const features = await page.evaluate(async (id) => {
      const out = [];
      let cursor = '';
      for (;;) {
        const r = await (await fetch(`/api/features/events?area=${id}&from=2025-01-01&to=2025-04-01&limit=1000${cursor}`)).json();
        out.push(...r.features.filter((f) => f.properties.status === 'closed').map((f) => f.id));
        if (!r.next_cursor) return out;
        cursor = `&cursor=${r.next_cursor}`;
      }
    }, town.id);
    assert.ok(features.length > 0, 'the town closed events that quarter');
    assert.equal(shown.total, features.length);
    const idCol = shown.head.indexOf('event_id');
    const statusCol = shown.head.indexOf('status');
    assert.ok(idCol >= 0 && statusCol >= 0, shown.head.join(','));
    for (const row of shown.rows) {
      assert.ok(features.includes(Number(row[idCol])), `event ${row[idCol]} is one of the map's`);
      assert.equal(row[statusCol], '已办结');
    }
    assert.deepEqual(errors, []);
  } finally { await close(); }
});
