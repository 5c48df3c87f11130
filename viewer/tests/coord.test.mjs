// Coordination of inspections in the browser (issue 17): a department
// signs in on /coord, sees its plan's suggestion with the reason, accepts
// it, and the month's calendar changes as the API says; an enterprise's
// file opens from the calendar; a phone-sized page does not break. Real
// Chromium (playwright-core) against a running `onemap serve` at ONEMAP_URL.
//
// Besides ONEMAP_URL it needs ONEMAP_BIN and ONEMAP_DATA (as loop.test.mjs)
// to create the department's account. Each run accepts one suggestion the
// demo's department had refused; a later run finds another.
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
if (!BIN || !DATA) throw new Error('ONEMAP_BIN and ONEMAP_DATA are needed to create the department account (see loop.test.mjs)');

const HAN = /\p{Script=Han}/u;
const run = randomBytes(4).toString('hex');
const PASSWORD = 'coord-' + randomBytes(9).toString('hex');
const api = async (path) => {
  const res = await fetch(BASE + path);
  assert.equal(res.status, 200, `${path} → ${res.status}`);
  return res.json();
};

let browser, plan, user;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // A suggestion the demo's department refused: the plan has a visit of its own.
  const r = await api('/api/coord/plans?decision=refused&limit=1');
  assert.ok(r.rows.length, 'the demo year has refused suggestions');
  plan = r.rows[0];
  // Digits only after the name: the reading test finds no Latin letters on the page.
  user = { name: `dept-${run}`, display: `赵敏${parseInt(run.slice(0, 4), 16) % 1000}`, scope: `department:${plan.department.name}` };
  execFileSync(BIN, ['user', 'create', '--name', user.name, '--display-name', user.display, '--role', 'department', '--scope', user.scope, '--data', DATA],
    { env: { ...process.env, ONEMAP_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'inherit'] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
});
after(async () => { await browser?.close(); });

async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/New_York', locale: 'en-US', ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors, close: () => context.close() };
}
const ready = (page) => page.waitForFunction(() => window.coord && window.coord.ready, null, { timeout: 120000 });
// The visits of each day of the page's calendar: day → [plan lists].
const calendarOnPage = (page) => page.$$eval('#coord-cal .day', (days) => Object.fromEntries(days.map((d) =>
  [d.dataset.day, { count: Number(d.dataset.visits), shown: [...d.querySelectorAll('.visit')].map((v) => `${v.dataset.plans}|${v.dataset.mode}`) }])));
// The API's calendar of the month, the same way.
async function calendarOfApi(town, month) {
  const r = await api(`/api/coord/calendar?area=${town}&month=${month}&limit=10000`);
  const days = {};
  for (const v of r.rows) {
    const d = String(Number(v.date.slice(8, 10)));
    (days[d] ||= []).push(`${v.plans.join(',')}|${v.mode}`);
  }
  return days;
}
function sameCalendar(onPage, fromApi) {
  for (const [d, x] of Object.entries(onPage)) {
    const want = fromApi[d] || [];
    assert.equal(x.count, want.length, `day ${d}: ${x.count} visits on the page, ${want.length} in the API`);
    assert.deepEqual(x.shown, want.slice(0, 4), `day ${d}`);
  }
}

test('coord: a department accepts a suggestion and the calendar changes', async () => {
  const town = plan.target.town.id;
  const month = Number(plan.planned.slice(5, 7));
  const day = String(Number(plan.planned.slice(8, 10)));
  const { page, errors, close } = await newPage();
  await page.goto(`${BASE}/coord#town=${town}&month=${month}&tab=calendar`);
  await ready(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  // The calendar is the API's, and the refused plan has its own visit on its day.
  const before = await calendarOnPage(page);
  const apiBefore = await calendarOfApi(town, month);
  sameCalendar(before, apiBefore);
  assert.ok(apiBefore[day].includes(`${plan.id}|on_site`), `plan ${plan.id} alone on site on day ${day}: ${apiBefore[day]}`);
  // Signed out: no buttons to decide.
  await page.click('#tab-plans');
  const row = `.plan[data-plan="${plan.id}"]`;
  await page.waitForSelector(row);
  assert.equal(await page.$$eval(`${row} [data-decide]`, (b) => b.length), 0);
  assert.match(await page.textContent(`${row} .reason`), HAN);
  assert.match(await page.textContent(`${row} .decision`), /未采纳/);

  // The department signs in on the page.
  await page.click('#coord-account');
  await page.fill('#signin-name', user.name);
  await page.fill('#signin-password', PASSWORD);
  await page.click('#signin-submit');
  await page.waitForFunction((d) => document.getElementById('coord-who').textContent.includes(d), user.display, { timeout: 20000 });
  await ready(page);
  // Only its own plans carry the buttons.
  const deciding = await page.$$eval('.plan', (rows) => rows.filter((r) => r.querySelector('[data-decide]')).map((r) => r.dataset.plan));
  assert.ok(deciding.includes(String(plan.id)), `${deciding}`);
  const plans = (await api(`/api/coord/plans?area=${town}&month=${month}&limit=10000`)).rows;
  for (const id of deciding) {
    const p = plans.find((x) => String(x.id) === id);
    assert.equal(p.department.name, plan.department.name);
    assert.notEqual(p.suggestion.action, 'keep');
  }
  await page.click(`${row} [data-decide="accept"]`);
  await page.waitForFunction((sel) => {
    const d = document.querySelector(`${sel} .decision`);
    return d && d.dataset.accept === 'true' && d.dataset.source === 'department';
  }, row, { timeout: 60000 });
  await ready(page);
  assert.match(await page.textContent(`${row} .decision`), /已采纳/);
  const now = await api(`/api/coord/plans/${plan.id}`);
  assert.equal(now.decision.accept, true);
  assert.equal(now.decision.by, user.display);

  // The calendar changed, as the API says.
  await page.click('#tab-calendar');
  const after = await calendarOnPage(page);
  const apiAfter = await calendarOfApi(town, month);
  sameCalendar(after, apiAfter);
  assert.notDeepEqual(apiAfter, apiBefore, 'the month changed');
  assert.ok(!(apiAfter[day] || []).includes(`${plan.id}|on_site`), `plan ${plan.id} no longer alone on site on day ${day}: ${apiAfter[day]}`);

  // A visit in the calendar opens its enterprise's or school's file.
  const first = await page.$('#coord-cal .visit');
  const name = await first.textContent();
  await first.click();
  await page.waitForFunction((n) => document.getElementById('coord-file-name')?.textContent === n, name, { timeout: 20000 });
  assert.match(await page.textContent('#coord-file-calendar h3'), HAN);
  assert.ok(await page.$$eval('#coord-file-calendar li', (l) => l.length) > 0);
  await page.screenshot({ path: ARTIFACTS + 'coord.png' });
  assert.deepEqual(errors, []);
  await close();
});

test('coord on a phone (390×844) and in English', async () => {
  const { page, errors, close } = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const town = plan.target.town.id;
  await page.goto(`${BASE}/coord?lang=en#town=${town}&month=${Number(plan.planned.slice(5, 7))}`);
  await ready(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#tab-plans'), 'Plans');
  const ui = await page.evaluate(() => ['#coord-head h1', '#coord-tabs', '#coord-controls label span', '#coord-legend']
    .map((s) => document.querySelector(s).textContent).join(' '));
  assert.doesNotMatch(ui, HAN, ui);
  // Nothing wider than the screen; the map on top, the side under it.
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= 390, `page is ${w}px wide`);
  const [map, side] = await page.evaluate(() => ['coord-map', 'coord-side'].map((id) => document.getElementById(id).getBoundingClientRect().toJSON()));
  assert.ok(map.height > 200 && side.top >= map.bottom - 1, JSON.stringify({ map, side }));
  for (const sel of ['#tab-plans', '#tab-calendar', '#coord-town', '#coord-month']) {
    const h = await page.$eval(sel, (e) => e.getBoundingClientRect().height);
    assert.ok(h >= 44, `${sel} is ${h}px tall`);
  }
  await page.tap(`.plan-target`);
  await page.waitForFunction(() => document.getElementById('coord-file-name'), null, { timeout: 20000 });
  const file = await page.$eval('#coord-file', (e) => e.getBoundingClientRect().toJSON());
  assert.ok(file.width <= 390 && file.left >= 0, JSON.stringify(file));
  await page.screenshot({ path: ARTIFACTS + 'coord-phone.png' });
  assert.deepEqual(errors, []);
  await close();
});

test('wall: this month\'s coordination figures, from the API', async () => {
  const { page, errors, close } = await newPage({ viewport: { width: 1600, height: 900 } });
  await page.goto(BASE + '/wall?refresh=30&tour=600');
  await page.waitForFunction(() => window.onemapWall && window.onemapWall.coord, null, { timeout: 120000 });
  const f = await api('/api/coord/figures?area=city');
  const month = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', month: 'numeric' }).format(new Date()));
  const m = f.months[month - 1];
  const zh = new Intl.NumberFormat('zh-CN');
  assert.equal(await page.textContent('#coord-onsite'), `现场检查 ${zh.format(m.onsite.before)} → ${zh.format(m.onsite.after)}`);
  assert.equal(await page.textContent('#coord-accompanied'), `陪同检查 ${zh.format(m.accompanied.before)} → ${zh.format(m.accompanied.after)}`);
  const per = (n) => (n / f.schools).toFixed(2);
  assert.equal(await page.textContent('#coord-schools'), `每校每月进校 ${per(m.school_visits.before)} → ${per(m.school_visits.after)}`);
  assert.match(await page.textContent('#coord-title'), new RegExp(`${month}月`));
  assert.deepEqual(errors, []);
  await close();
});
