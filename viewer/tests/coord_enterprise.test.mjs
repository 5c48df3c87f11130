// Enterprises act on the coordination in the browser (issue 17): an
// enterprise signs in on /coord (Chinese) and sees its own file only, asks
// to postpone a visit (a reason, the wished day, a note) and records its
// self-check of a problem pushed to it; its town office signs in and sees
// both (the request with its note, the push's self-check counts as the API
// gives them); on a 390×844 phone in English the enterprise takes the next
// self-check step. Real Chromium (playwright-core) against a running
// `onemap serve` at ONEMAP_URL; ONEMAP_BIN and ONEMAP_DATA create the
// accounts. Each run picks a plan not postponed yet and a self-check still
// pending, so runs can follow each other on one city.
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
if (!BIN || !DATA) throw new Error('ONEMAP_BIN and ONEMAP_DATA are needed to create the accounts (see loop.test.mjs)');

const HAN = /\p{Script=Han}/u;
const run = randomBytes(4).toString('hex');
const PASSWORD = 'qiye-' + randomBytes(9).toString('hex');
async function api(path, token) {
  const res = await fetch(BASE + path, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  assert.equal(res.status, 200, `${path} → ${res.status}`);
  return res.json();
}
function account(name, display, role, scope) {
  execFileSync(BIN, ['user', 'create', '--name', name, '--display-name', display, '--role', role, '--scope', scope, '--data', DATA],
    { env: { ...process.env, ONEMAP_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'inherit'] });
  return { name, display };
}
const addDays = (d, n) => new Date(Date.parse(d) + n * 86400000).toISOString().slice(0, 10);

let browser, ent, visit, push, firm, office, town;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // An enterprise with a self-check still pending and an on-site visit to
  // postpone (a plan of it not postponed before), before November.
  const pushes = (await api('/api/coord/pushes?limit=10000')).rows.filter((p) => p.pending > 0);
  search: for (const p of pushes) {
    const d = await api(`/api/coord/pushes/${encodeURIComponent(p.key)}`);
    for (const c of d.checks.filter((x) => x.status === 'pending')) {
      const f = await api(`/api/coord/enterprises/${c.enterprise.id}`);
      for (const v of f.calendar) {
        if (v.mode !== 'on_site' || v.purpose !== 'inspection' || !v.plans.length || v.urgent || v.date >= `${f.year}-11-01`) continue;
        const plan = f.plans.find((x) => x.id === v.plans[0]);
        if (!plan || plan.urgent || /申请#/.test(plan.suggestion.reason.text)) continue;
        ent = f; visit = v; push = p;
        break search;
      }
    }
  }
  assert.ok(ent, 'an enterprise with a pending self-check and a visit to postpone');
  town = ent.site.town.id;
  // Digits only after the names: no Latin letters on the Chinese page.
  firm = account(`qiye-${run}`, `${ent.site.name.slice(0, 6)}办公室${parseInt(run.slice(0, 4), 16) % 1000}`, 'enterprise', `enterprise:${ent.site.id}`);
  office = account(`zhen-${run}`, `镇街统筹${parseInt(run.slice(4), 16) % 1000}`, 'town_office', `area:${town}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
});
after(async () => { await browser?.close(); });

async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'Asia/Shanghai', locale: 'zh-CN', ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors, close: () => context.close() };
}
const ready = (page) => page.waitForFunction(() => window.coord && window.coord.ready, null, { timeout: 120000 });
async function signIn(page, who) {
  await page.click('#coord-account');
  await page.fill('#signin-name', who.name);
  await page.fill('#signin-password', PASSWORD);
  await page.click('#signin-submit');
  await page.waitForFunction((d) => document.getElementById('coord-who').textContent.includes(d), who.display, { timeout: 20000 });
  await ready(page);
}
// Submits a form of the file and waits until the page has loaded again.
async function submit(page, form) {
  const acts = await page.evaluate(() => window.coord.acts || 0);
  await page.click(`${form} button[type="submit"]`);
  await page.waitForFunction((n) => (window.coord.acts || 0) > n && window.coord.ready, acts, { timeout: 60000 });
}
const pushRow = (key) => `#coord-file-received [data-push="${key}"]`;

test('coord: an enterprise postpones a visit and records a self-check; its town office sees both', async () => {
  const { page, errors, close } = await newPage();
  await page.goto(`${BASE}/coord`);
  await ready(page);
  await signIn(page, firm);
  // Its own file, nothing else.
  await page.waitForFunction((n) => document.getElementById('coord-file-name')?.textContent === n, ent.site.name, { timeout: 20000 });
  assert.equal(await page.evaluate(() => document.body.classList.contains('own-file')), true);
  assert.equal(await page.isVisible('#coord-plans'), false);
  assert.equal(await page.isVisible('#coord-tabs'), false);

  // Asks to postpone the visit: relocation, a month later.
  const planId = visit.plans[0];
  const until = addDays(visit.date, 30);
  await page.click(`[data-postpone="${planId}"]`);
  const form = `#postpone-${planId}`;
  await page.selectOption(`${form} select[name="reason"]`, 'relocation');
  await page.fill(`${form} input[name="until"]`, until);
  await page.fill(`${form} textarea[name="note"]`, '厂区搬迁，新址装修中');
  await submit(page, form);
  const plan = await api(`/api/coord/plans/${planId}`);
  const request = plan.suggestion.reason.text.match(/申请#(\d+)/);
  assert.ok(request, `the plan's reason names the request: ${plan.suggestion.reason.text}`);
  assert.ok(['reschedule', 'merge'].includes(plan.suggestion.action), plan.suggestion.action);
  assert.ok(plan.suggestion.date >= until, `${plan.suggestion.date} before ${until}`);
  const shown = `#coord-file-requests [data-request="${request[1]}"]`;
  await page.waitForSelector(shown);
  assert.match(await page.textContent(shown), /搬迁/);

  // Records its self-check of the pushed problem.
  const sc = `${pushRow(push.key)} form`;
  await page.selectOption(`${sc} select[name="status"]`, 'self_checked');
  await page.fill(`${sc} textarea[name="note"]`, '已对照自查，正在整改');
  await submit(page, sc);
  assert.equal(await page.getAttribute(`${pushRow(push.key)} .status`, 'data-status'), 'self_checked');
  const d = await api(`/api/coord/pushes/${encodeURIComponent(push.key)}`);
  assert.equal(d.checks.find((c) => c.enterprise.id === ent.site.id).status, 'self_checked');
  assert.equal(d.self_checked, push.self_checked + 1);
  assert.equal(d.pending, push.pending - 1);
  // Chinese only (what people wrote in their notes aside).
  const text = await page.evaluate(() => {
    const body = document.getElementById('coord-file-body').cloneNode(true);
    for (const n of body.querySelectorAll('.my-note, .req-note')) n.textContent = '';
    return body.textContent;
  });
  assert.doesNotMatch(text, /[A-Za-z]{2,}/, text);
  await page.screenshot({ path: ARTIFACTS + 'coord-enterprise.png' });
  assert.deepEqual(errors, []);
  await close();

  // The town office: the request with its note, the push's self-checks.
  const o = await newPage();
  await o.page.goto(`${BASE}/coord#town=${town}`);
  await ready(o.page);
  await signIn(o.page, office);
  await o.page.click('#tab-requests');
  const row = `#coord-requests [data-request="${request[1]}"]`;
  await o.page.waitForSelector(row);
  assert.match(await o.page.textContent(row), /厂区搬迁，新址装修中/);
  assert.match(await o.page.textContent(row), new RegExp(`计划#${planId}`));
  await o.page.click('#tab-pushes');
  const p = `#coord-pushes [data-push="${push.key}"]`;
  await o.page.waitForSelector(p);
  const counts = await o.page.$eval(p, (e) => [e.dataset.pending, e.dataset.selfChecked, e.dataset.rectified].map(Number));
  assert.deepEqual(counts, [d.pending, d.self_checked, d.rectified]);
  assert.equal(counts[0] + counts[1] + counts[2], d.reached);
  await o.page.click(`${p} button`);
  const mine = `${p} li[data-enterprise="${ent.site.id}"]`;
  await o.page.waitForSelector(mine);
  assert.match(await o.page.textContent(mine), /已对照自查，正在整改/);
  // No English in what the page says (what people wrote in their notes aside).
  const ui = await o.page.evaluate(() => {
    const side = document.getElementById('coord-side').cloneNode(true);
    for (const n of side.querySelectorAll('.push-checks li, .req-note')) n.textContent = '';
    return side.textContent;
  });
  assert.doesNotMatch(ui, /[A-Za-z]{2,}/, ui);
  await o.page.screenshot({ path: ARTIFACTS + 'coord-office.png' });
  assert.deepEqual(o.errors, []);
  await o.close();
});

test('coord: the enterprise on a phone (390×844) in English takes the next step', async () => {
  const { page, errors, close } = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' });
  await page.goto(`${BASE}/coord?lang=en`);
  await ready(page);
  await signIn(page, firm);
  await page.waitForFunction((n) => document.getElementById('coord-file-name')?.textContent === n, ent.site.name, { timeout: 20000 });
  const sc = `${pushRow(push.key)} form`;
  await page.waitForSelector(sc);
  assert.equal(await page.textContent(`${sc} button[type="submit"]`), 'Send');
  assert.equal(await page.textContent(`${pushRow(push.key)} .status`), 'in progress');
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= 390, `page is ${w}px wide`);
  const h = await page.$eval(`${sc} button[type="submit"]`, (e) => e.getBoundingClientRect().height);
  assert.ok(h >= 44, `the button is ${h}px tall`);
  await page.selectOption(`${sc} select[name="status"]`, 'rectified');
  await page.fill(`${sc} textarea[name="note"]`, 'Exits cleared, extinguishers replaced');
  await submit(page, sc);
  assert.equal(await page.textContent(`${pushRow(push.key)} .status`), 'done');
  const d = await api(`/api/coord/pushes/${encodeURIComponent(push.key)}`);
  assert.equal(d.checks.find((c) => c.enterprise.id === ent.site.id).status, 'rectified');
  const ui = await page.evaluate(() => ['#coord-head h1', '#coord-file-received h3', '#coord-who'].map((s) => document.querySelector(s).textContent).join(' '));
  assert.doesNotMatch(ui.replace(ent.site.name, '').replace(firm.display, ''), HAN, ui);
  await page.screenshot({ path: ARTIFACTS + 'coord-enterprise-phone.png' });
  assert.deepEqual(errors, []);
  await close();
});
