// The coordination page (/coord): a town's enterprises and schools on the
// map, coloured by the coordinator's main suggestion for their plans; the
// month's plans with each suggestion and its reason, or the month as a
// calendar of visits; an enterprise's or school's file (its plans, visits,
// inspections and findings, problems pushed to it and from it); and, for a
// signed-in department, accepting or refusing the suggestions for its own
// plans. An enterprise or a school signed in sees its own file only, and
// acts on it: asks to postpone a visit, for guidance or an inspection (an
// enterprise), for a department at its event (a school), and reports its
// self-check of a problem pushed to it. A town office also sees its town's
// requests and the pushes' self-check progress. Every text from i18n.js.
// State in the URL hash: town, month, file.
'use strict';
(() => {
  const { t, code, fmtNumber: num, fmtPct: pct } = onemapI18n;
  const $ = (id) => document.getElementById(id);
  onemapI18n.apply();
  onemapI18n.toggle($('lang-toggle'));

  const ACTION_COLOURS = { merge: '#2962ff', online: '#00897b', reschedule: '#ef6c00', cancel: '#c62828', keep: '#7f8c8d' };
  const NO_PLANS = '#c5ccd6';
  const hash = new URLSearchParams(location.hash.slice(1));
  const chinaMonth = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', month: 'numeric' }).format(new Date()));
  const TABS = ['plans', 'calendar', 'requests', 'pushes'];
  const state = { town: hash.get('town') || null, month: Number(hash.get('month')) || chinaMonth, tab: TABS.includes(hash.get('tab')) ? hash.get('tab') : 'plans',
    file: hash.get('file') || null, year: null, session: { user: null, csrf: null } };
  const page = (window.coord = { state, ready: false, loads: 0 });

  function writeHash() {
    const h = new URLSearchParams();
    if (state.town) h.set('town', state.town);
    h.set('month', String(state.month));
    if (state.tab !== 'plans') h.set('tab', state.tab);
    if (state.file) h.set('file', state.file);
    history.replaceState(null, '', '#' + h.toString().replace(/%3A/g, ':'));
  }
  // A small element builder: el('div', { className, onclick, dataset }, ...children).
  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k in e) e[k] = v; else e.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  function showError(e) {
    const m = $('message');
    m.textContent = onemapI18n.errorText(e);
    m.hidden = false;
    m.onclick = () => { m.hidden = true; };
  }
  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.session.csrf) headers['X-CSRF-Token'] = state.session.csrf;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    let data = null;
    try { data = await res.json(); } catch (e) { if (res.ok) throw e; }
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || res.statusText);
      err.code = data && data.error && data.error.code;
      err.status = res.status;
      throw err;
    }
    return data;
  }
  const get = (path) => api('GET', path);

  // --- names ------------------------------------------------------------------
  const deptName = (d) => (onemapI18n.lang === 'zh' ? d.name : `${code('coord_dept', d.kind)} (${d.name})`);
  const subjects = (list) => list.map((s) => code('coord_subject', s.code) + (s.mandatory ? `（${t('coord.mandatory')}）` : '')).join('、');
  const day = (d) => onemapI18n.fmtDate(d);
  const monthLabel = (m) => t('coord.month_name', { m });

  // --- signing in (the same session cookie as the viewer) ------------------------
  function showWho() {
    const u = state.session.user;
    $('coord-account').textContent = u ? t('account.sign_out') : t('account.sign_in');
    $('coord-who').textContent = u ? t('coord.signed_in_as', { name: u.display_name, scope: scopeName(u) }) : t('coord.sign_in_hint');
  }
  const scopeName = (u) => (u.scope.startsWith('department:') ? u.scope.slice('department:'.length) : code('role', u.role));
  // The enterprise or school a signed-in account acts for (`enterprise:12`), if any.
  function ownKey() {
    const u = state.session.user;
    return u && (u.role === 'enterprise' || u.role === 'school') ? u.scope : null;
  }
  // A town office, or a viewer: reads its area's requests and pushes.
  const readsTown = () => { const u = state.session.user; return !!u && (u.role === 'town_office' || u.role === 'viewer'); };
  function showRole() {
    const own = ownKey();
    document.body.classList.toggle('own-file', !!own);
    for (const tab of ['requests', 'pushes']) $('tab-' + tab).hidden = !readsTown();
    if (!readsTown() && (state.tab === 'requests' || state.tab === 'pushes')) state.tab = 'plans';
    if (own) { state.file = own; $('coord-file').hidden = false; }
    showTab();
  }
  async function loadSession() {
    try {
      const s = await get('/api/session');
      state.session = { user: s.user, csrf: s.csrf };
    } catch (e) {
      state.session = { user: null, csrf: null };
    }
    showWho();
    showRole();
  }
  $('coord-account').addEventListener('click', async () => {
    if (state.session.user) {
      try { await api('DELETE', '/api/session'); } catch (e) { if (e.status !== 401) { showError(e); return; } }
      const wasOwn = ownKey();
      state.session = { user: null, csrf: null };
      if (wasOwn) { state.file = null; $('coord-file').hidden = true; }
      showWho();
      showRole();
      await refresh();
      return;
    }
    $('coord-signin').hidden = !$('coord-signin').hidden;
    if (!$('coord-signin').hidden) $('signin-name').focus();
  });
  $('coord-signin').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const msg = $('signin-error');
    msg.hidden = true;
    $('signin-submit').disabled = true;
    try {
      const s = await api('POST', '/api/session', { name: $('signin-name').value.trim(), password: $('signin-password').value });
      state.session = { user: s.user, csrf: s.csrf };
      $('coord-signin').hidden = true;
      $('signin-password').value = '';
      showWho();
      showRole();
      writeHash();
      await refresh();
    } catch (e) {
      msg.textContent = t('account.failed', { reason: onemapI18n.errorReason(e) });
      msg.hidden = false;
    } finally {
      $('signin-submit').disabled = false;
    }
  });
  // Whether the signed-in account answers for this plan's department.
  function mayDecide(plan) {
    const u = state.session.user;
    if (!u || u.role !== 'department' || !plan.suggestion || plan.suggestion.action === 'keep') return false;
    const d = u.scope.startsWith('department:') ? u.scope.slice('department:'.length) : null;
    return d === plan.department.name || d === plan.department.code;
  }

  // --- the map --------------------------------------------------------------------
  const map = new maplibregl.Map({
    container: 'coord-map',
    style: '/styles/day.json',
    center: [119.0, 25.4],
    zoom: 9,
    localIdeographFontFamily: '"WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif',
    attributionControl: { compact: true },
    locale: onemapI18n.maplibreLocale,
  });
  page.map = map;
  map.addControl(new maplibregl.NavigationControl(), 'bottom-right');
  map.on('error', (e) => console.warn('map error', e.error && e.error.message));
  const mapReady = new Promise((resolve) => map.on('load', resolve));
  const colour = ['match', ['coalesce', ['get', 'main'], 'none'], ...Object.entries(ACTION_COLOURS).flat(), NO_PLANS];
  async function drawSites(fc) {
    await mapReady;
    const own = ownKey();
    const data = { type: 'FeatureCollection', features: fc.features.filter((f) => f.geometry && (!own || f.id === own)) };
    if (map.getSource('coord-sites')) map.getSource('coord-sites').setData(data);
    else {
      map.addSource('coord-sites', { type: 'geojson', data });
      map.addLayer({ id: 'coord-sites', type: 'circle', source: 'coord-sites', paint: {
        'circle-color': colour,
        'circle-radius': ['case', ['==', ['get', 'kind'], 'school'], 7, ['interpolate', ['linear'], ['get', 'plans'], 0, 4, 40, 11]],
        'circle-stroke-color': ['case', ['==', ['get', 'kind'], 'school'], '#4a148c', '#ffffff'],
        'circle-stroke-width': ['case', ['==', ['get', 'kind'], 'school'], 2.5, 1.2],
      } });
      map.on('click', 'coord-sites', (e) => {
        const p = e.features[0] && e.features[0].properties;
        if (p && !ownKey()) openFile(`${p.kind}:${p.id}`);
      });
      map.on('mouseenter', 'coord-sites', () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', 'coord-sites', () => { map.getCanvas().style.cursor = ''; });
    }
    const pts = data.features.map((f) => f.geometry.coordinates);
    if (pts.length && !page.fitted) {
      const lons = pts.map((p) => p[0]), lats = pts.map((p) => p[1]);
      if (pts.length === 1) map.jumpTo({ center: pts[0], zoom: 14 });
      else map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], { padding: 40, maxZoom: 14, duration: 0 });
      page.fitted = true;
    }
  }
  function drawLegend() {
    const box = $('coord-legend');
    box.replaceChildren(el('span', {}, t('coord.legend')),
      ...Object.entries(ACTION_COLOURS).map(([a, c]) => el('span', {}, el('i', { style: `background:${c}` }), code('coord_action', a))),
      el('span', {}, el('i', { style: `background:${NO_PLANS}` }), t('coord.legend_none')));
  }

  // --- plans, calendar, figures ------------------------------------------------------
  function planRow(p, { withTarget = true } = {}) {
    const s = p.suggestion;
    const action = s ? s.action : 'keep';
    const head = el('div', { className: 'plan-head' },
      el('span', { className: 'badge', dataset: { action } }, code('coord_action', action)),
      withTarget && el('button', { type: 'button', className: 'plan-target', onclick: () => openFile(`${p.target.kind}:${p.target.id}`) }, p.target.name),
      el('span', {}, deptName(p.department)));
    const facts = [t('coord.planned', { date: day(p.planned) }), subjects(p.subjects)];
    if (p.urgent) facts.push(t('coord.urgent'));
    if (s && s.date && s.date !== p.planned) facts.push(t('coord.to_date', { date: day(s.date) }));
    if (s && s.accompanied) facts.push(t('coord.accompanied'));
    const row = el('div', { className: 'plan', dataset: { plan: String(p.id), action } }, head,
      el('div', { className: 'muted' }, facts.join(' · ')),
      s && el('div', { className: 'reason' }, code('coord_reason', s.reason.code) + (onemapI18n.lang === 'zh' ? '：' : ': ') + s.reason.text));
    if (p.decision) {
      const d = p.decision;
      const who = d.source === 'demo' ? t('coord.decision.demo') : t('coord.decision.by', { by: d.by });
      row.append(el('div', { className: 'decision', dataset: { accept: String(d.accept), source: d.source } },
        t(d.accept ? 'coord.decision.accepted' : 'coord.decision.refused') + who));
    }
    if (mayDecide(p)) {
      const msg = el('span', { className: 'error', hidden: true });
      const send = async (accept, button) => {
        for (const b of row.querySelectorAll('.actions button')) b.disabled = true;
        button.textContent = t('coord.saving');
        try {
          await api('POST', `/api/coord/plans/${p.id}/decision`, { accept });
          await refresh();
        } catch (e) {
          msg.textContent = t('coord.decide_failed', { reason: onemapI18n.errorReason(e) });
          msg.hidden = false;
          for (const b of row.querySelectorAll('.actions button')) b.disabled = false;
          button.textContent = t(accept ? 'coord.accept' : 'coord.refuse');
        }
      };
      const yes = el('button', { type: 'button', className: 'accept', dataset: { decide: 'accept' } }, t('coord.accept'));
      const no = el('button', { type: 'button', className: 'refuse', dataset: { decide: 'refuse' } }, t('coord.refuse'));
      yes.onclick = () => send(true, yes);
      no.onclick = () => send(false, no);
      row.append(el('div', { className: 'actions' }, yes, no, msg));
    }
    return row;
  }
  async function loadPlans() {
    const box = $('coord-plans');
    const r = await get(`/api/coord/plans?area=${state.town}&month=${state.month}&limit=500`);
    const rows = r.rows.map((p) => planRow(p));
    box.replaceChildren(el('p', { className: 'muted', id: 'coord-plans-count' },
      t('coord.plans_count', { scope: r.scope_name, month: t('coord.year_month', { y: r.year, m: state.month }), n: num(r.total) })),
    ...(rows.length ? rows : [el('p', {}, t('coord.none'))]),
    ...(r.next_offset !== null ? [el('p', { className: 'muted' }, t('coord.more', { n: num(r.total - r.rows.length) }))] : []));
  }
  async function loadCalendar() {
    const r = await get(`/api/coord/calendar?area=${state.town}&month=${state.month}&limit=2000`);
    const year = r.year;
    const days = new Date(Date.UTC(year, state.month, 0)).getUTCDate();
    const first = (new Date(Date.UTC(year, state.month - 1, 1)).getUTCDay() + 6) % 7; // Monday first
    const byDay = new Map();
    for (const v of r.rows) {
      const d = Number(v.date.slice(8, 10));
      if (!byDay.has(d)) byDay.set(d, []);
      byDay.get(d).push(v);
    }
    const grid = el('div', { className: 'cal', id: 'coord-cal' }, ...t('coord.weekdays').split(',').map((w) => el('div', { className: 'wd' }, w)));
    for (let i = 0; i < first; i++) grid.append(el('div', {}));
    for (let d = 1; d <= days; d++) {
      const visits = byDay.get(d) || [];
      const cell = el('div', { className: 'day', dataset: { day: String(d), visits: String(visits.length) } }, el('span', { className: 'n' }, String(d)));
      for (const v of visits.slice(0, 4))
        cell.append(el('button', { type: 'button', className: 'visit', title: `${v.target.name} · ${code('coord_mode', v.mode)} · ${v.departments.map(deptName).join('、')}`,
          dataset: { mode: v.mode, plans: v.plans.join(','), ...(v.target.kind === 'school' ? { school: '' } : {}) },
          onclick: () => openFile(`${v.target.kind}:${v.target.id}`) }, v.target.name));
      if (visits.length > 4) cell.append(el('div', { className: 'muted' }, t('coord.day_more', { n: visits.length - 4 })));
      grid.append(cell);
    }
    $('coord-calendar').replaceChildren(el('p', { className: 'muted' }, t('coord.year_month', { y: year, m: state.month })), grid);
  }
  async function loadSummary() {
    const f = await get(`/api/coord/figures?area=${state.town}`);
    state.year = f.year;
    const m = f.months[state.month - 1];
    const change = m.onsite.before ? pct((m.onsite.after - m.onsite.before) / m.onsite.before, 0) : '–';
    $('coord-summary').textContent = t('coord.summary', { before: num(m.onsite.before), after: num(m.onsite.after), change,
      abefore: num(m.accompanied.before), aafter: num(m.accompanied.after), online: num(m.online) })
      + ' · ' + t('coord.summary_schools', { before: num(m.school_visits.before), after: num(m.school_visits.after) });
  }
  async function loadSites() {
    drawSites(await get(`/api/coord/sites?area=${state.town}&limit=10000`));
  }

  // --- a file -------------------------------------------------------------------------
  function section(title, items) {
    return el('div', { className: 'file-sec' }, el('h3', {}, title),
      items.length ? el('ul', {}, ...items.map((x) => el('li', {}, x))) : el('p', { className: 'muted' }, t('coord.file_empty')));
  }
  // --- what an enterprise or a school does on its file ---------------------------------
  function field(label, input) { return el('label', {}, el('span', {}, label), input); }
  // Sends a form's request; the file (and the side) loaded again after it.
  async function sendForm(form, path, body) {
    const msg = form.querySelector('.error');
    const button = form.querySelector('button[type="submit"]');
    msg.hidden = true;
    button.disabled = true;
    button.textContent = t('coord.saving');
    try {
      await api('POST', path, body);
      await refresh();
      page.acts = (page.acts || 0) + 1;
    } catch (e) {
      msg.textContent = t('coord.act_failed', { reason: onemapI18n.errorReason(e) });
      msg.hidden = false;
      button.disabled = false;
      button.textContent = t('coord.send');
    }
  }
  const formEnd = () => [el('p', { className: 'error', hidden: true, role: 'alert' }), el('button', { type: 'submit', className: 'primary' }, t('coord.send'))];
  function postponeButton(v, year) {
    const wrap = el('div', {});
    const form = el('form', { className: 'act-form', hidden: true, id: `postpone-${v.plans[0]}` });
    const reason = el('select', { name: 'reason' }, ...['relocation', 'overhaul', 'exams'].map((r) => el('option', { value: r }, code('coord_postpone', r))));
    const next = new Date(Date.parse(v.date) + 86400000).toISOString().slice(0, 10);
    const until = el('input', { type: 'date', name: 'until', min: next, max: `${year}-12-31`, required: true });
    const note = el('textarea', { name: 'note', required: true, maxLength: 500, placeholder: t('coord.note_hint') });
    form.append(el('strong', {}, t('coord.postpone_title', { date: day(v.date) })), field(t('coord.postpone_reason'), reason),
      field(t('coord.postpone_until'), until), field(t('coord.note'), note), ...formEnd());
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      sendForm(form, '/api/coord/requests', { type: 'postpone', plan: v.plans[0], reason: reason.value, until: until.value, note: note.value });
    });
    const b = el('button', { type: 'button', className: 'small', dataset: { postpone: String(v.plans[0]) } }, t('coord.postpone'));
    b.onclick = () => { form.hidden = !form.hidden; };
    wrap.append(b, form);
    return wrap;
  }
  function selfCheckForm(p) {
    const nextStatus = p.status === 'pending' ? ['self_checked', 'rectified'] : ['rectified'];
    const status = el('select', { name: 'status' }, ...nextStatus.map((s) => el('option', { value: s }, code('coord_self_check', s))));
    const note = el('textarea', { name: 'note', required: true, maxLength: 500, placeholder: t('coord.note_hint') });
    const form = el('form', { className: 'act-form', dataset: { selfCheck: p.key } },
      field(t('coord.self_check_status'), status), field(t('coord.note'), note), ...formEnd());
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      sendForm(form, `/api/coord/pushes/${encodeURIComponent(p.key)}/self-check`, { status: status.value, note: note.value });
    });
    return form;
  }
  const ENTERPRISE_SUBJECTS = ['work_safety', 'hazardous_chemicals', 'fire_safety', 'environment', 'food_safety', 'special_equipment',
    'product_quality', 'medical_devices', 'labour', 'occupational_health', 'construction_safety', 'gas_safety', 'statistics',
    'road_transport', 'water_abstraction', 'aquatic_products'];
  function askForm(kind, year) {
    const note = el('textarea', { name: 'note', required: true, maxLength: 500, placeholder: t('coord.note_hint') });
    const form = el('form', { className: 'act-form', id: 'coord-ask' });
    if (kind === 'enterprise') {
      const type = el('select', { name: 'type' }, ...['guidance', 'inspection'].map((x) => el('option', { value: x }, code('coord_request', x))));
      const subject = el('select', { name: 'subject' }, ...ENTERPRISE_SUBJECTS.map((s) => el('option', { value: s }, code('coord_subject', s))));
      const start = el('input', { type: 'date', name: 'start', min: `${year}-01-01`, max: `${year}-12-31`, required: true });
      form.append(el('strong', {}, t('coord.ask_title')), field(t('coord.ask_type'), type), field(t('coord.ask_subject'), subject),
        field(t('coord.ask_start'), start), field(t('coord.note'), note), ...formEnd());
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        sendForm(form, '/api/coord/requests', { type: type.value, subject: subject.value, start: start.value, note: note.value });
      });
    } else {
      const event = el('select', { name: 'event' }, ...['science_day', 'safety_drill'].map((x) => el('option', { value: x }, code('coord_event', x))));
      const date = el('input', { type: 'date', name: 'date', min: `${year}-01-01`, max: `${year}-12-31`, required: true });
      form.append(el('strong', {}, t('coord.event_title')), field(t('coord.event'), event), field(t('coord.event_date'), date),
        field(t('coord.note'), note), ...formEnd());
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        sendForm(form, '/api/coord/requests', { type: 'event', event: event.value, date: date.value, note: note.value });
      });
    }
    return el('div', { className: 'file-sec' }, form);
  }
  // One request: what was asked, its note, and what became of it.
  function requestLine(r) {
    const d = r.detail || {};
    let what = code('coord_request', r.type);
    if (r.type === 'postpone') what += ` · ${code('coord_postpone', d.reason)} · ${t('coord.window', { start: day(d.window.start), end: day(d.window.end) })}`;
    else if (r.type === 'event') what += ` · ${code('coord_event', d.event)} · ${day(d.date)}`;
    else what += ` · ${code('coord_subject', d.subject)} · ${d.department ? deptName(d.department) : ''}`;
    const effect = [];
    for (const p of r.plans || []) effect.push(t('coord.req_plan', { id: p.id, action: code('coord_action', p.action), date: p.date ? day(p.date) : '–' }));
    if (r.visit) effect.push(t('coord.req_visit', { date: day(r.visit.date), mode: code('coord_mode', r.visit.mode) }));
    return el('div', { className: 'req', dataset: { request: String(r.id), type: r.type } },
      el('div', {}, el('strong', {}, `#${r.id} `), what),
      el('div', { className: 'muted' }, t('coord.req_by', { name: r.target.name, by: r.by, at: onemapI18n.fmtDateTime(r.at) })),
      el('div', { className: 'req-note' }, t('coord.my_note', { note: r.note })),
      effect.length ? el('div', { className: 'req-effect' }, effect.join('；')) : null);
  }
  // The town's requests and pushes (a town office or a viewer).
  async function loadRequests() {
    let r;
    try {
      r = await get(`/api/coord/requests?area=${state.town}&limit=500`);
    } catch (e) {
      // Another town than the office's own: not its to read.
      if (e.status !== 403) throw e;
      $('coord-requests').replaceChildren(el('p', { className: 'muted' }, t('coord.requests_other_town')));
      return;
    }
    $('coord-requests').replaceChildren(el('p', { className: 'muted', id: 'coord-requests-count' }, t('coord.requests_count', { n: num(r.total) })),
      ...(r.rows.length ? r.rows.map(requestLine) : [el('p', {}, t('coord.file_empty'))]));
  }
  async function loadPushes() {
    const r = await get(`/api/coord/pushes?area=${state.town}&limit=500`);
    const c = r.counts;
    const rows = r.rows.map((p) => {
      const bar = el('div', { className: 'progress' }, ...['rectified', 'self_checked'].map((s) => el('i', { className: s, style: `width:${p.reached ? (100 * p[s]) / p.reached : 0}%` })));
      const more = el('ul', { className: 'push-checks', hidden: true });
      const open = el('button', { type: 'button', className: 'plan-target' }, t('coord.push_detail'));
      open.onclick = async () => {
        if (!more.hidden) { more.hidden = true; return; }
        const d = await get(`/api/coord/pushes/${encodeURIComponent(p.key)}`);
        more.replaceChildren(...d.checks.map((x) => el('li', { dataset: { enterprise: String(x.enterprise.id), status: x.status } },
          `${x.enterprise.name} · ${code('coord_self_check', x.status)}` + (x.note ? ` · ${x.note}` : ''))));
        more.hidden = false;
      };
      return el('div', { className: 'push', dataset: { push: p.key, pending: String(p.pending), selfChecked: String(p.self_checked), rectified: String(p.rectified) } },
        el('div', {}, el('strong', {}, p.finding.text), ' · ', `${day(p.date)} · ${p.industry}`),
        el('div', { className: 'muted' }, t('coord.push_progress', { n: num(p.reached), done: num(p.rectified), doing: num(p.self_checked), todo: num(p.pending) })),
        bar, open, more);
    });
    $('coord-pushes').replaceChildren(el('p', { className: 'muted', id: 'coord-pushes-count' },
      t('coord.pushes_count', { n: num(r.total), done: num(c.rectified), doing: num(c.self_checked), todo: num(c.pending) })),
    ...(rows.length ? rows : [el('p', {}, t('coord.file_empty'))]));
  }

  async function openFile(key) {
    state.file = key;
    writeHash();
    const [kind, id] = key.split(':');
    const body = $('coord-file-body');
    $('coord-file').hidden = false;
    body.replaceChildren(el('p', { className: 'muted' }, t('coord.loading')));
    try {
      const f = await get(`/api/coord/${kind === 'school' ? 'schools' : 'enterprises'}/${id}`);
      if (state.file !== key) return;
      const s = f.site;
      if (f.mine && s.town) page.ownTown = String(s.town.id);
      const sub = kind === 'school'
        ? [code('coord_kind', 'school'), code('school_kind', s.school_kind), t('coord.file_students', { n: num(s.students) })]
        : [code('coord_kind', 'enterprise'), s.industry, s.large ? t('coord.file_large') : null];
      // Plans already postponed: asked once (a second ask is refused).
      const postponed = new Set((f.requests || []).filter((r) => r.type === 'postpone').flatMap((r) => (r.plans || []).map((p) => p.id)));
      const visits = f.calendar.map((v) => el('span', { dataset: { mode: v.mode, plans: v.plans.join(','), date: v.date } },
        t('coord.visit_line', { date: day(v.date), mode: code('coord_mode', v.mode), departments: v.departments.map(deptName).join('、') })
        + ' · ' + subjects(v.subjects) + (v.accompanied ? ' · ' + t('coord.accompanied') : ''),
        f.mine && v.mode === 'on_site' && v.purpose === 'inspection' && v.plans.length && !v.urgent && !postponed.has(v.plans[0]) ? postponeButton(v, f.year) : null));
      const inspections = f.inspections.map((r) => el('span', {},
        t('coord.inspection_line', { date: day(r.date), department: deptName(r.department), subject: code('coord_subject', r.subject) })
        + ' · ' + code('coord_mode', r.online ? 'online' : 'on_site') + ' · ',
        r.finding ? el('strong', {}, t('coord.finding', { text: r.finding.text })) : t('coord.no_finding')));
      const received = f.pushes.received.map((p) => el('span', { dataset: { push: p.key } }, p.finding.text + ' · ' + t('coord.push_from', { name: p.from.name, date: day(p.date) })
        + ' · ', el('strong', { className: 'status', dataset: { status: p.status } }, code('coord_self_check', p.status)),
        p.note ? el('div', { className: 'muted my-note' }, t('coord.my_note', { note: p.note })) : null,
        f.mine && p.status !== 'rectified' ? selfCheckForm(p) : null));
      const sent = f.pushes.sent.map((p) => el('span', {}, p.finding.text + ' · '
        + t('coord.push_reach', { date: day(p.date), n: num(p.reached), checked: num(p.self_checked + p.rectified), fixed: num(p.rectified) })));
      body.replaceChildren(
        el('h2', { id: 'coord-file-name' }, s.name),
        el('p', { className: 'muted' }, [...sub.filter(Boolean), s.town && s.town.name].filter(Boolean).join(' · ')),
        el('p', {}, el('a', { id: 'coord-file-link', href: `/file?${kind === 'school' ? 'school' : 'enterprise'}=${id}${onemapI18n.lang === 'en' ? '&lang=en' : ''}` }, t('file.open_file'))),
        el('div', { className: 'file-sec', id: 'coord-file-plans' }, el('h3', {}, t('coord.file_plans', { n: num(f.plans.length) })),
          ...(f.plans.length ? f.plans.map((p) => planRow(p, { withTarget: false })) : [el('p', { className: 'muted' }, t('coord.file_empty'))])),
        Object.assign(section(t('coord.file_calendar', { n: num(f.calendar.length) }), visits), { id: 'coord-file-calendar' }),
        Object.assign(section(t('coord.file_inspections', { n: num(f.inspections.length) }), inspections), { id: 'coord-file-inspections' }),
        ...(kind === 'enterprise' ? [Object.assign(section(t('coord.file_received', { n: num(received.length) }), received), { id: 'coord-file-received' }),
          section(t('coord.file_sent', { n: num(sent.length) }), sent)] : []),
        ...(f.requests ? [Object.assign(section(t('coord.file_requests', { n: num(f.requests.length) }), f.requests.map(requestLine)), { id: 'coord-file-requests' })] : []),
        ...(f.mine ? [askForm(kind, f.year)] : []));
      page.fileLoads = (page.fileLoads || 0) + 1;
    } catch (e) {
      body.replaceChildren(el('p', { className: 'error' }, onemapI18n.errorText(e)));
    }
  }
  $('coord-file-close').addEventListener('click', () => { if (ownKey()) return; $('coord-file').hidden = true; state.file = null; writeHash(); });

  // --- controls ---------------------------------------------------------------------
  function showTab() {
    for (const tab of TABS) {
      $('tab-' + tab).setAttribute('aria-selected', String(state.tab === tab));
      $('coord-' + tab).hidden = state.tab !== tab;
    }
  }
  for (const tab of TABS) $('tab-' + tab).addEventListener('click', () => { state.tab = tab; showTab(); writeHash(); });
  $('coord-town').addEventListener('change', () => { state.town = $('coord-town').value; page.fitted = false; state.file = null; $('coord-file').hidden = true; writeHash(); refresh(); });
  $('coord-month').addEventListener('change', () => { state.month = Number($('coord-month').value); writeHash(); refresh(); });

  // Everything shown, loaded again (after a change of town, month or a decision).
  async function refresh() {
    const mine = ++page.loads;
    page.ready = false;
    try {
      if (ownKey()) {
        await openFile(ownKey());
        if (page.ownTown && page.ownTown !== state.town) { state.town = page.ownTown; page.fitted = false; $('coord-town').value = state.town; writeHash(); }
        await loadSites();
      }
      else await Promise.all([loadSummary(), loadPlans(), loadCalendar(), loadSites(), state.file ? openFile(state.file) : null,
        readsTown() ? loadRequests() : null, readsTown() ? loadPushes() : null]);
    } catch (e) {
      showError(e);
    }
    if (mine === page.loads) page.ready = true;
  }

  async function start() {
    drawLegend();
    showTab();
    for (let m = 1; m <= 12; m++) $('coord-month').append(el('option', { value: String(m) }, monthLabel(m)));
    $('coord-month').value = String(state.month);
    await loadSession();
    try {
      const towns = (await get('/api/stats?by=town')).groups.map((g) => g.key).sort((a, b) => String(a.id).localeCompare(String(b.id)));
      for (const x of towns) $('coord-town').append(el('option', { value: String(x.id) }, x.name));
      const u = state.session.user;
      let mine = u && u.role === 'town_office' && u.scope.startsWith('area:') ? u.scope.slice(5) : null;
      if (ownKey()) {
        // An enterprise's or school's own town, from its file.
        const [kind, id] = ownKey().split(':');
        try { mine = String((await get(`/api/coord/${kind === 'school' ? 'schools' : 'enterprises'}/${id}`)).site.town.id); } catch (e) { /* shown by refresh */ }
      }
      const known = (id) => towns.some((x) => String(x.id) === String(id));
      state.town = [state.town, mine].find((x) => x && known(x)) || (towns.find((x) => x.name === '西天尾镇') || towns[0]).id;
      state.town = String(state.town);
      $('coord-town').value = state.town;
    } catch (e) {
      showError(e);
      return;
    }
    writeHash();
    await refresh();
  }
  start();
})();
