// The one table (基层一张表): pick a ledger, filter it, tick fields, see the
// first rows and the count at once, download CSV / XLSX / GeoPackage.
// Everything comes from /api/ledgers, /api/table and /api/table/templates;
// the session cookie signs the requests (changes send the session's CSRF
// token). A template fills the form with its ledger, fields and filter.
'use strict';
(() => {
  const { t, lang } = onemapI18n;
  const $ = (id) => document.getElementById(id);
  const num = (n) => onemapI18n.fmtNumber(n);
  onemapI18n.apply();
  onemapI18n.toggle($('lang-toggle'));
  if (lang === 'en') $('back').href = '/?lang=en';

  let doc = null; // /api/ledgers
  let user = null;
  let csrf = null;
  let templates = []; // /api/table/templates

  async function api(method, path, body) {
    const opt = { method, headers: {} };
    if (method !== 'GET' && csrf) opt.headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    const res = await fetch(path, opt);
    let j = null;
    try { j = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const err = new Error((j && j.error && j.error.message) || res.statusText);
      err.code = j && j.error && j.error.code;
      err.status = res.status;
      throw err;
    }
    return j;
  }

  const label = (x) => (lang === 'en' ? x.en : x.zh);
  const ledger = () => doc.ledgers.find((l) => l.key === $('ledger').value);
  // The time fields a table can be narrowed to a range of days of.
  const WINDOWS = ['updated', 'reported'];

  function showSignIn() {
    $('sign-in').hidden = false;
    $('ask').hidden = true;
    $('si-name').focus();
  }
  $('sign-in').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('si-msg').hidden = true;
    try {
      await api('POST', '/api/session', { name: $('si-name').value.trim(), password: $('si-pass').value });
      $('si-pass').value = '';
      await start();
    } catch (e) {
      $('si-msg').textContent = t('account.failed', { reason: onemapI18n.errorReason(e) });
      $('si-msg').hidden = false;
    }
  });

  function buildFilters() {
    const box = $('filters');
    for (const el of [...box.children]) if (el.tagName !== 'LEGEND') el.remove();
    for (const f of ledger().fields) {
      const kind = f.kind.type;
      if (!['choice', 'tags', 'bool'].includes(kind)) continue;
      const sel = document.createElement('select');
      sel.name = f.key;
      sel.dataset.filter = f.key;
      const opt = (v, text) => { const o = document.createElement('option'); o.value = v; o.textContent = text; sel.append(o); };
      opt('', t('table.any'));
      if (kind === 'tags') opt('care', t('table.care'));
      if (kind === 'bool') { opt('true', t('table.yes')); opt('false', t('table.no')); }
      for (const c of f.kind.choices || []) opt(c.key, label(c));
      const l = document.createElement('label');
      l.append(`${label(f)} `, sel);
      box.append(l);
    }
    // A day range per time the ledger can be filtered by (last update;
    // an event's report time), labelled as the field is.
    for (const key of WINDOWS) {
      const f = ledger().fields.find((x) => x.key === key);
      if (!f) continue;
      const time = document.createElement('label');
      time.append(`${label(f)} ${t('table.from')} `);
      const from = Object.assign(document.createElement('input'), { type: 'date', id: `${key}-from` });
      const to = Object.assign(document.createElement('input'), { type: 'date', id: `${key}-to` });
      time.append(from, ` ${t('table.to')} `, to);
      box.append(time);
    }
    if (ledger().fields.some((f) => f.key === 'age')) {
      const age = document.createElement('label');
      const lo = Object.assign(document.createElement('input'), { type: 'number', min: 0, max: 150, id: 'age-min', size: 4 });
      const hi = Object.assign(document.createElement('input'), { type: 'number', min: 0, max: 150, id: 'age-max', size: 4 });
      age.append(`${t('table.age')} `, lo, ' – ', hi);
      box.append(age);
    }
  }

  function buildFields() {
    const list = $('field-list');
    list.textContent = '';
    const l = ledger();
    for (const f of l.fields) {
      const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: f.key, checked: l.default_fields.includes(f.key) });
      box.dataset.field = f.key;
      const lab = document.createElement('label');
      lab.append(box, ` ${label(f)}`);
      if (f.sensitivity === 'personal') {
        const tag = document.createElement('span');
        tag.className = 'tag-personal';
        tag.textContent = t('table.personal');
        lab.append(' ', tag);
      }
      list.append(lab);
    }
    $('dl-gpkg').setAttribute('aria-disabled', l.has_position ? 'false' : 'true');
    $('dl-gpkg').title = l.has_position ? '' : t('table.gpkg_only');
  }

  function params(forTemplate) {
    const p = new URLSearchParams();
    if (!forTemplate) p.set('ledger', $('ledger').value);
    const area = $('area').value.trim();
    if (area && !forTemplate) p.set('area', area);
    const fields = [...document.querySelectorAll('#field-list input:checked')].map((b) => b.value);
    if (fields.length) p.set('fields', fields.join(','));
    for (const sel of document.querySelectorAll('#filters select')) if (sel.value) p.set(sel.name, sel.value);
    const day = (id, next) => {
      const v = $(id) && $(id).value;
      if (!v) return null;
      if (!next) return v;
      const d = new Date(`${v}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1);
      return d.toISOString().slice(0, 10);
    };
    for (const key of WINDOWS) {
      if (day(`${key}-from`)) p.set(`${key}_from`, day(`${key}-from`));
      if (day(`${key}-to`)) p.set(`${key}_to`, day(`${key}-to`, true));
    }
    for (const [id, k] of [['age-min', 'age_min'], ['age-max', 'age_max']]) if ($(id) && $(id).value !== '') p.set(k, $(id).value);
    if (lang === 'en' && !forTemplate) p.set('lang', 'en');
    return p;
  }

  // Templates: the standard ones and those shared in the account's area.
  // Choosing one fills the form with its ledger, fields and filter.
  const tplMsg = (text) => { $('tpl-msg').textContent = text; $('tpl-msg').hidden = !text; };
  const chosen = () => templates.find((x) => x.id === $('template').value);
  async function loadTemplates(select) {
    const r = await api('GET', '/api/table/templates');
    templates = r.templates;
    const sel = $('template');
    sel.textContent = '';
    const none = document.createElement('option');
    none.value = ''; none.textContent = t('table.no_template');
    sel.append(none);
    const group = (title, list, text) => {
      if (!list.length) return;
      const g = document.createElement('optgroup');
      g.label = title;
      for (const x of list) {
        const o = document.createElement('option');
        o.value = x.id; o.textContent = text(x);
        g.append(o);
      }
      sel.append(g);
    };
    const ledgerName = (key) => { const l = doc.ledgers.find((x) => x.key === key); return l ? label(l) : key; };
    group(t('table.std_templates'), templates.filter((x) => x.standard), (x) => (lang === 'en' ? x.en : x.name));
    group(t('table.saved_templates'), templates.filter((x) => !x.standard),
      (x) => `${x.name} · ${ledgerName(x.ledger)} · ${x.area_name || t('table.city_wide')} · ${x.author}`);
    sel.value = select || '';
    $('tpl-delete').hidden = !(chosen() && chosen().deletable);
  }

  function applyTemplate(x) {
    $('ledger').value = x.ledger;
    buildFilters();
    buildFields();
    const p = new URLSearchParams(x.params);
    if (p.has('fields')) {
      const keys = p.get('fields').split(',');
      for (const b of document.querySelectorAll('#field-list input')) b.checked = keys.includes(b.value);
      // The template's columns in its order: its fields first, as listed.
      const list = $('field-list');
      for (const k of [...keys].reverse()) {
        const b = list.querySelector(`input[data-field="${k}"]`);
        if (b) list.prepend(b.closest('label'));
      }
    }
    for (const sel of document.querySelectorAll('#filters select')) {
      if (!p.has(sel.name)) continue;
      const v = p.get(sel.name);
      if (![...sel.options].some((o) => o.value === v)) {
        // Several values (safety=c|d): one more choice that stands for them.
        const f = ledger().fields.find((y) => y.key === sel.name);
        const names = v.split('|').map((k) => {
          const c = ((f && f.kind.choices) || []).find((y) => y.key === k);
          return c ? label(c) : (k === 'care' ? t('table.care') : k);
        });
        const o = document.createElement('option');
        o.value = v; o.textContent = names.join(lang === 'en' ? ', ' : '、');
        sel.append(o);
      }
      sel.value = v;
    }
    const dayBefore = (v) => { const d = new Date(`${v}T00:00:00Z`); d.setUTCDate(d.getUTCDate() - 1); return d.toISOString().slice(0, 10); };
    for (const key of WINDOWS) {
      if (p.has(`${key}_from`) && $(`${key}-from`)) $(`${key}-from`).value = p.get(`${key}_from`).slice(0, 10);
      if (p.has(`${key}_to`) && $(`${key}-to`)) $(`${key}-to`).value = dayBefore(p.get(`${key}_to`).slice(0, 10));
    }
    if (p.has('age_min') && $('age-min')) $('age-min').value = p.get('age_min');
    if (p.has('age_max') && $('age-max')) $('age-max').value = p.get('age_max');
  }

  $('template').addEventListener('change', () => {
    tplMsg('');
    const x = chosen();
    $('tpl-delete').hidden = !(x && x.deletable);
    if (!x) return;
    applyTemplate(x);
    runQuery();
  });
  $('tpl-save').addEventListener('click', () => {
    $('tpl-form').hidden = false;
    $('tpl-area').value = (doc.access && doc.access.area) || '';
    $('tpl-name').focus();
  });
  $('tpl-cancel').addEventListener('click', () => { $('tpl-form').hidden = true; });
  $('tpl-ok').addEventListener('click', async () => {
    const body = { name: $('tpl-name').value, ledger: $('ledger').value, params: params(true).toString() };
    const area = $('tpl-area').value.trim();
    if (area) body.area = area;
    try {
      const x = await api('POST', '/api/table/templates', body);
      $('tpl-form').hidden = true;
      $('tpl-name').value = '';
      await loadTemplates(x.id);
      tplMsg(t('table.template_saved', { name: x.name, area: x.area_name || t('table.city_wide') }));
    } catch (e) {
      tplMsg(t('table.template_failed', { reason: onemapI18n.errorReason(e) }));
    }
  });
  $('tpl-delete').addEventListener('click', async () => {
    const x = chosen();
    if (!x || !window.confirm(t('table.confirm_delete', { name: x.name }))) return;
    try {
      await api('DELETE', `/api/table/templates/${encodeURIComponent(x.id)}`);
      await loadTemplates('');
      tplMsg(t('table.template_deleted', { name: x.name }));
    } catch (e) {
      tplMsg(t('table.template_failed', { reason: onemapI18n.errorReason(e) }));
    }
  });

  function links() {
    const p = params();
    for (const f of ['csv', 'xlsx', 'gpkg']) {
      const q = new URLSearchParams(p); q.set('format', f);
      $(`dl-${f}`).href = `/api/table/download?${q}`;
    }
  }

  async function runQuery() {
    links();
    $('status').textContent = t('table.loading');
    const thead = $('rows').tHead; const tbody = $('rows').tBodies[0];
    try {
      const r = await api('GET', `/api/table?${params()}`);
      thead.textContent = ''; tbody.textContent = '';
      const hr = thead.insertRow();
      for (const f of r.fields) { const th = document.createElement('th'); th.textContent = f.label; th.dataset.key = f.key; hr.append(th); }
      for (const row of r.rows) {
        const tr = tbody.insertRow();
        row.forEach((v, i) => {
          const td = tr.insertCell();
          const kind = r.fields[i].type;
          if (v === null) td.textContent = '';
          else if (kind === 'bool') td.textContent = v ? t('table.yes') : t('table.no');
          else if (typeof v === 'number' && kind !== 'int') td.textContent = num(v);
          else td.textContent = String(v);
          if (typeof v === 'number') td.className = 'num';
        });
      }
      $('status').textContent = r.total ? t('table.count', { n: num(r.total), shown: num(r.shown), ms: num(Math.round(r.took_ms)) }) : t('table.empty');
      $('status').dataset.total = r.total;
      const masked = r.fields.filter((f) => f.masked).map((f) => f.label);
      $('masked').hidden = !masked.length;
      $('masked').textContent = masked.length ? t('table.masked', { fields: masked.join(lang === 'en' ? ', ' : '、') }) : '';
    } catch (e) {
      $('status').textContent = t('table.error', { reason: onemapI18n.errorReason(e) });
      if (e.status === 401) showSignIn();
    }
  }

  $('ledger').addEventListener('change', () => { $('template').value = ''; $('tpl-delete').hidden = true; buildFilters(); buildFields(); runQuery(); });
  $('ask').addEventListener('submit', (ev) => { ev.preventDefault(); runQuery(); });
  $('ask').addEventListener('change', () => links());
  $('fields-all').addEventListener('click', () => { for (const b of document.querySelectorAll('#field-list input')) b.checked = true; links(); });
  $('fields-none').addEventListener('click', () => { for (const b of document.querySelectorAll('#field-list input')) b.checked = false; links(); });

  async function start() {
    try {
      const s = await api('GET', '/api/session');
      user = s.user;
      csrf = s.csrf;
    } catch (e) {
      if (e.status === 401) { showSignIn(); return; }
      $('status').textContent = t('table.error', { reason: onemapI18n.errorReason(e) });
      return;
    }
    $('who').textContent = t('table.signed_in', { name: user.display_name || user.name, role: onemapI18n.code('role', user.role) });
    try {
      doc = await api('GET', '/api/ledgers');
    } catch (e) {
      $('status').textContent = t('table.error', { reason: onemapI18n.errorReason(e) });
      return;
    }
    $('sign-in').hidden = true;
    $('ask').hidden = false;
    const sel = $('ledger');
    sel.textContent = '';
    for (const l of doc.ledgers) {
      const o = document.createElement('option');
      o.value = l.key; o.textContent = lang === 'en' ? `${label(l)} (${num(l.rows)})` : `${label(l)}（${num(l.rows)}）`;
      sel.append(o);
    }
    const wanted = new URLSearchParams(location.search).get('ledger');
    if (wanted && doc.ledgers.some((l) => l.key === wanted)) sel.value = wanted;
    if (doc.access.area) $('area').value = doc.access.area;
    buildFilters();
    buildFields();
    try {
      await loadTemplates(new URLSearchParams(location.search).get('template') || '');
      if (chosen()) applyTemplate(chosen());
    } catch (e) {
      tplMsg(t('table.template_failed', { reason: onemapI18n.errorReason(e) }));
    }
    await runQuery();
  }
  start();
})();
