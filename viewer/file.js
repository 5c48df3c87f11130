// An area's, enterprise's or school's file (一镇一档、一村一档、一企一档):
// /file?area=ID, /file?enterprise=ID, /file?school=ID. Everything comes
// from /api/files/… (the session cookie signs the reads); the outline from
// /api/features/…; the open problems from /api/lists when the server has
// it (the section is left out when that route answers 404). Printable:
// file.css has the print style sheet (A4, no header, a page per part).
// Every figure on the page carries its raw value in data-value.
'use strict';
(() => {
  const { t, code, lang, fmtNumber: num, fmtPct: pct, fmtDate } = onemapI18n;
  const $ = (id) => document.getElementById(id);
  onemapI18n.apply();
  onemapI18n.toggle($('lang-toggle'));
  if (lang === 'en') $('back').href = '/?lang=en';
  $('print').addEventListener('click', () => window.print());
  const page = (window.filePage = { ready: false, file: null, lists: null });
  const LEVEL_LAYER = { district: 'districts', town: 'towns', village: 'villages', grid: 'grids', unit: 'units' };
  const sep = lang === 'en' ? ', ' : '、';

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
  const svg = (tag, attrs = {}, ...children) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  };
  // A number shown in words, its raw value kept for tests and copying.
  const figure = (n, text) => el('span', { className: 'n', dataset: { value: String(n) } }, text === undefined ? num(n) : text);
  const link = (href, text) => el('a', { href: lang === 'en' ? `${href}${href.includes('?') ? '&' : '?'}lang=en` : href }, text);
  const fileLink = (a) => link(`/file?area=${a.id}`, a.name);

  async function api(path) {
    const res = await fetch(path, { credentials: 'same-origin' });
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

  // --- building blocks ------------------------------------------------------------
  function section(id, title, ...body) {
    return el('section', { id, className: 'sec' }, el('h3', {}, title), ...body);
  }
  function table(id, heads, rows, { foot } = {}) {
    const tb = el('table', { id, className: 'grid' });
    const hr = tb.createTHead().insertRow();
    for (const h of heads) hr.append(el('th', {}, h));
    const body = tb.createTBody();
    for (const r of rows) body.append(r);
    if (foot) tb.createTFoot().append(foot);
    return el('div', { className: 'scroll' }, tb);
  }
  function row(cells, props = {}) {
    const tr = el('tr', props);
    for (const c of cells) {
      const td = el('td');
      if (c instanceof Node) td.append(c); else td.textContent = c === null || c === undefined ? '–' : String(c);
      if (c instanceof Node && c.classList && c.classList.contains('n')) td.className = 'num';
      tr.append(td);
    }
    return tr;
  }
  const more = (shown, n) => (n > shown ? el('p', { className: 'note' }, t('file.more', { shown: num(shown), n: num(n) })) : null);
  const none = () => el('p', { className: 'note' }, t('file.none'));

  // The outline of an area (and a site's point) drawn as SVG, north up,
  // longitudes shrunk by cos(latitude).
  async function outline(layer, id, point) {
    const box = el('div', { className: 'outline' });
    let f;
    try { f = await api(`/api/features/${layer}/${id}`); } catch (e) { return box; }
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    const pts = polys.flat(2);
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of pts) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
    const W = 320, pad = 8;
    const s = (W - 2 * pad) / Math.max((x1 - x0) * k, (y1 - y0), 1e-9);
    const H = Math.max(80, (y1 - y0) * s + 2 * pad);
    const px = (x) => pad + (x - x0) * k * s, py = (y) => H - pad - (y - y0) * s;
    const d = polys.map((poly) => poly.map((ring) => 'M' + ring.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('L') + 'Z').join('')).join('');
    const pic = svg('svg', { viewBox: `0 0 ${W} ${H.toFixed(0)}`, role: 'img', 'aria-label': f.properties.name || '' },
      svg('path', { d, class: 'area', 'fill-rule': 'evenodd' }));
    if (point) pic.append(svg('circle', { cx: px(point[0]).toFixed(1), cy: py(point[1]).toFixed(1), r: 6, class: 'site' }));
    box.append(pic);
    return box;
  }

  // The months as bars: reported and closed side by side.
  function chart(months) {
    // As wide as the page (so that its text keeps its size on a phone).
    const W = Math.round(Math.max(340, Math.min(760, ($('file').clientWidth || document.body.clientWidth) - 40)));
    const H = 220, left = 44, bottom = 28, top = 14;
    const max = Math.max(1, ...months.flatMap((m) => [m.reported, m.closed]));
    // Four gridlines a round number apart (1, 2 or 5 times a power of ten).
    const raw = max / 4, p10 = Math.pow(10, Math.floor(Math.log10(raw)));
    const tick = [1, 2, 5, 10].map((k) => k * p10).find((x) => x >= raw) || 10 * p10;
    const niceMax = Math.max(1, tick * Math.ceil(max / tick));
    const ticks = Math.round(niceMax / Math.max(tick, 1e-9));
    const bw = (W - left - 8) / months.length;
    const y = (v) => H - bottom - (v / niceMax) * (H - bottom - top);
    const pic = svg('svg', { viewBox: `0 0 ${W} ${H}`, id: 'f-chart', role: 'img', 'aria-label': t('file.chart.title') });
    for (let i = 0; i <= ticks; i++) {
      const v = Math.round(tick * i * 1000) / 1000;
      pic.append(svg('line', { x1: left, x2: W - 4, y1: y(v), y2: y(v), class: 'gridline' }),
        svg('text', { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, num(v)));
    }
    months.forEach((m, i) => {
      const x = left + i * bw;
      const label = lang === 'en'
        ? new Date(`${m.month}-15T00:00:00Z`).toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' })
        : `${Number(m.month.slice(5))}月`;
      for (const [j, k] of [[0, 'reported'], [1, 'closed']]) {
        const h = H - bottom - y(m[k]);
        pic.append(svg('rect', { x: (x + 4 + j * (bw - 8) / 2).toFixed(1), y: y(m[k]).toFixed(1), width: ((bw - 8) / 2 - 1).toFixed(1),
          height: Math.max(0, h).toFixed(1), class: k, 'data-month': m.month, 'data-series': k, 'data-value': m[k] },
        svg('title', {}, `${m.month} ${t('file.chart.' + k)} ${num(m[k])}`)));
      }
      if (bw >= 36 || i % 2 === 1) pic.append(svg('text', { x: (x + bw / 2).toFixed(1), y: H - 10, class: 'axis', 'text-anchor': 'middle' }, label));
    });
    const legend = el('p', { className: 'legend' }, el('i', { className: 'sw reported' }), t('file.chart.reported'), ' ', el('i', { className: 'sw closed' }), t('file.chart.closed'));
    return el('figure', { className: 'chart' }, pic, legend);
  }

  function tiles(id, items) {
    return el('dl', { id, className: 'tiles' }, ...items.flatMap(([k, label, n, text]) =>
      [el('div', { dataset: { k } }, el('dt', {}, label), el('dd', {}, figure(n, text)))]));
  }

  // --- an area's file ---------------------------------------------------------------
  function head(f) {
    const a = f.area;
    const crumbs = el('nav', { id: 'f-crumbs' }, ...a.parents.flatMap((p, i) => [i ? ' › ' : '', fileLink(p)]));
    const n = f.events.now;
    return el('section', { id: 'f-head', className: 'sec head' }, crumbs,
      el('h2', { id: 'f-name' }, a.name),
      el('p', { className: 'sub' }, t('file.sub', { level: code('level', a.level), id: a.id }), ' · ', t('file.generated', { date: fmtDate(n.at) })),
      tiles('f-now', [
        ['total', t('file.now.total'), n.total],
        ['open', t('file.now.open'), n.open],
        ['overdue', t('file.now.overdue'), n.overdue],
        ['closure_rate', t('file.now.rate'), n.closure_rate === null ? '' : n.closure_rate, pct(n.closure_rate)],
      ]));
  }
  function leaders(f) {
    if (!f.leaders) return section('f-leaders', t('file.sec.leaders'), el('p', { className: 'note' }, t('file.ledger.none')));
    const rows = f.leaders.map((l) => row([code('post', l.post), l.name, l.phone, l.party === null ? '–' : t(l.party ? 'file.yes' : 'file.no'),
      l.area.id === f.area.id ? l.area.name : fileLink(l.area)], { dataset: { post: l.post, area: String(l.area.id) } }));
    return section('f-leaders', t('file.sec.leaders'),
      f.access.personal ? null : el('p', { className: 'note', id: 'f-masked' }, t('file.masked')),
      rows.length ? table('f-leader-table', [t('file.col.post'), t('file.col.name'), t('file.col.phone'), t('file.col.party'), t('file.col.area')], rows) : none());
  }
  function events(f) {
    const e = f.events;
    const cats = Object.keys(e.reported_by_category);
    const monthRows = e.months.map((m) => row([m.month, figure(m.reported), figure(m.closed)], { dataset: { month: m.month } }));
    const catRows = cats.map((c) => row([code('category', c), figure(e.reported_by_category[c]), figure(e.closed_by_category[c])], { dataset: { category: c } }));
    const total = row([t('file.total'), figure(e.reported), figure(e.closed)], { className: 'total' });
    return section('f-events', t('file.sec.events'), chart(e.months),
      el('div', { className: 'two' },
        table('f-months', [t('file.col.month'), t('file.col.reported'), t('file.col.closed')], monthRows, { foot: total }),
        table('f-categories', [t('file.col.category'), t('file.col.reported'), t('file.col.closed')], catRows)));
  }
  function ledgers(f) {
    const l = f.ledgers;
    const items = [];
    if (l) {
      items.push(['people', t('file.ledger.people'), l.people], ['care', t('file.ledger.care'), l.care],
        ['houses', t('file.ledger.houses'), l.houses], ['dangerous_houses', t('file.ledger.dangerous_houses'), l.dangerous_houses],
        ['cadres', t('file.ledger.cadres'), l.cadres], ['projects', t('file.ledger.projects'), l.projects]);
    }
    items.push(['enterprises', t('file.ledger.enterprises'), f.enterprises.total], ['large', t('file.ledger.large'), f.enterprises.large],
      ['schools', t('file.ledger.schools'), f.schools.total], ['students', t('file.ledger.students'), f.schools.students]);
    const tagRows = l ? l.tags.map((x) => row([lang === 'en' ? x.en : x.zh, figure(x.people)], { dataset: { tag: x.key } })) : [];
    return section('f-ledgers', t('file.sec.ledgers'), l ? null : el('p', { className: 'note' }, t('file.ledger.none')),
      tiles('f-counts', items),
      l ? table('f-tags', [t('file.col.care'), t('file.col.people')], tagRows) : null);
  }
  function children(f) {
    if (!f.children.length) return null;
    const rows = f.children.map((c) => row([fileLink(c.area), c.leader || '–', figure(c.reported), figure(c.closed), figure(c.open), figure(c.overdue),
      c.people === null ? '–' : figure(c.people), c.care === null ? '–' : figure(c.care), c.houses === null ? '–' : figure(c.houses),
      figure(c.heritage), figure(c.homesteads), figure(c.enterprises), figure(c.schools)], { dataset: { id: String(c.area.id) } }));
    return section('f-children', t(`file.sec.children_${f.area.child_level}`),
      table('f-child-table', [t('file.col.area_name'), t('file.col.leader'), t('file.col.reported'), t('file.col.closed'), t('file.col.open'), t('file.col.overdue'),
        t('file.col.people'), t('file.col.care'), t('file.col.houses'), t('file.col.heritage'), t('file.col.homesteads'), t('file.col.enterprises'), t('file.col.schools')], rows));
  }
  const m2 = (v) => num(Math.round(v * 10) / 10);
  function heritage(f) {
    const h = f.heritage;
    const sums = ['national', 'provincial', 'city', 'county'].filter((k) => k in h.by_level)
      .map((k) => row([code('heritage_level', k), figure(h.by_level[k])], { dataset: { level: k } }));
    const rows = h.rows.map((r) => row([r.name, code('heritage_level', r.level), code('watch', r.watch), r.village ? fileLink(r.village) : '–'], { dataset: { id: String(r.id) } }));
    return section('f-heritage', t('file.sec.heritage'),
      el('p', { className: 'sum' }, figure(h.total, t('file.sum_heritage', { n: num(h.total) }))),
      table('f-heritage-sums', [t('file.col.level'), t('file.col.count')], sums),
      rows.length ? table('f-heritage-rows', [t('file.col.area_name'), t('file.col.level'), t('file.col.watch'), t('file.col.village')], rows) : null,
      more(h.rows.length, h.total));
  }
  function homesteads(f) {
    const h = f.homesteads;
    const sums = h.by_status.map((s) => row([code('homestead', s.status), figure(s.count), figure(s.area_m2, m2(s.area_m2))],
      { dataset: { status: s.status, count: String(s.count), area: String(s.area_m2) } }));
    const total = row([t('file.total'), figure(h.total), figure(h.area_m2, m2(h.area_m2))], { className: 'total' });
    const rows = h.rows.map((r) => row([String(r.id), code('homestead', r.status), figure(r.area_m2, m2(r.area_m2)), r.village ? fileLink(r.village) : '–'], { dataset: { id: String(r.id) } }));
    return section('f-homesteads', t('file.sec.homesteads'),
      el('p', { className: 'sum' }, t('file.sum', { n: num(h.total), m2: m2(h.area_m2) })),
      table('f-homestead-sums', [t('file.col.status'), t('file.col.count'), t('file.col.area_m2')], sums, { foot: total }),
      rows.length ? table('f-homestead-rows', ['#', t('file.col.status'), t('file.col.area_m2'), t('file.col.village')], rows) : null,
      more(h.rows.length, h.total));
  }
  function sites(f) {
    const ents = f.enterprises.rows.map((r) => row([link(`/file?enterprise=${r.id}`, r.name), r.kind, figure(r.size), r.large ? t('file.yes') : t('file.no'), r.village ? r.village.name : '–']));
    const schools = f.schools.rows.map((r) => row([link(`/file?school=${r.id}`, r.name), code('school_kind', r.kind), figure(r.size), r.village ? r.village.name : '–']));
    return [
      section('f-enterprises', t('file.sec.enterprises'),
        ents.length ? table('f-ent-rows', [t('file.col.area_name'), t('file.col.industry'), t('file.col.employees'), t('file.ledger.large'), t('file.col.village')], ents) : none(),
        more(f.enterprises.rows.length, f.enterprises.total)),
      section('f-schools', t('file.sec.schools'),
        schools.length ? table('f-school-rows', [t('file.col.area_name'), t('file.col.kind'), t('file.col.students'), t('file.col.village')], schools) : none(),
        more(f.schools.rows.length, f.schools.total)),
    ];
  }
  function coord(f) {
    const c = f.coord;
    if (!c) return null;
    const change = (x) => (x.before ? pct((x.after - x.before) / x.before, 0) : '–');
    const line = (k, label, x) => row([label, figure(x.before), figure(x.after), change(x)], { dataset: { k } });
    const [pb, pa] = c.visits_per_school_month;
    return section('f-coord', t('file.sec.coord', { year: c.year }),
      table('f-coord-table', [t('file.col.category'), t('file.coord.before'), t('file.coord.after'), t('file.coord.change')], [
        line('onsite', t('file.coord.onsite'), c.total.onsite),
        line('accompanied', t('file.coord.accompanied'), c.total.accompanied),
        line('school_visits', t('file.coord.school_visits'), c.total.school_visits),
        row([t('file.coord.per_school'), figure(pb, pb.toFixed(2)), figure(pa, pa.toFixed(2)), pb ? pct((pa - pb) / pb, 0) : '–'], { dataset: { k: 'per_school' } }),
        line('departments', t('file.coord.departments'), c.school_departments),
      ]));
  }
  // Open problems, from the lists (absent until the server has them).
  async function lists(f) {
    let res;
    try { res = await fetch(`/api/lists?area=${f.area.id}&kind=problem&status=open,in_progress`, { credentials: 'same-origin' }); } catch (e) { return null; }
    if (res.status === 404 || !res.ok) return null;
    let j;
    try { j = await res.json(); } catch (e) { return null; }
    if (!j || !Array.isArray(j.rows)) return null;
    page.lists = j;
    const rows = j.rows.map((r) => row([r.title, code('category', r.category), r.owner ? r.owner.name : '–', code('list_status', r.status),
      r.due ? fmtDate(r.due) : '–', r.area_name || '–'], { dataset: { id: String(r.id), overdue: String(!!r.overdue) }, className: r.overdue ? 'late' : '' }));
    return section('f-lists', t('file.sec.lists'), el('p', { className: 'sum' }, figure(j.total)),
      rows.length ? table('f-list-rows', [t('file.col.title'), t('file.col.category'), t('file.col.owner'), t('file.col.status'), t('file.col.due'), t('file.col.village')], rows) : none(),
      more(j.rows.length, j.total));
  }

  async function showArea(id) {
    const f = await api(`/api/files/area/${encodeURIComponent(id)}`);
    page.file = f;
    document.title = `${t('file.doc_area', { name: f.area.name })} · onemap`;
    const layer = LEVEL_LAYER[f.area.level];
    const [map, open] = await Promise.all([outline(layer, f.area.id), lists(f)]);
    const top = el('div', { className: 'page first' }, head(f),
      el('div', { className: 'two' }, section('f-map', t('file.sec.map'), map), leaders(f)));
    const parts = [top, events(f), open, ledgers(f), children(f), heritage(f), homesteads(f), ...sites(f), coord(f)];
    $('file').replaceChildren(...parts.filter(Boolean));
  }

  // --- an enterprise's or school's file ----------------------------------------------------
  async function showSite(kind, id) {
    const f = await api(`/api/files/${kind}/${encodeURIComponent(id)}`);
    page.file = f;
    document.title = `${t('file.doc_area', { name: f.name })} · onemap`;
    const loc = f.location;
    const p = f.properties;
    const facts = kind === 'enterprise'
      ? [p.industry, t('file.site.employees', { n: num(p.employees) }), p.large ? t('file.site.large') : null]
      : [code('school_kind', p.school_kind), t('file.site.students', { n: num(p.students) })];
    const crumbs = loc ? el('nav', { id: 'f-crumbs' }, ...['district', 'town', 'village'].flatMap((k, i) => [i ? ' › ' : '', fileLink(loc[k])])) : null;
    const map = loc ? await outline('villages', loc.village.id, [f.lon, f.lat]) : null;
    const headSec = el('section', { id: 'f-head', className: 'sec head' }, crumbs,
      el('h2', { id: 'f-name' }, f.name),
      el('p', { className: 'sub' }, code('coord_kind', kind), ' · ', facts.filter(Boolean).join(' · ')),
      el('p', { className: 'sub' }, link(`/coord#town=${loc ? loc.town.id : ''}&file=${kind}:${f.id}`, t('file.site.coord_link'))));
    const nearby = f.nearby.map((e) => row([fmtDate(e.reported_at), code('category', e.category), code('status', e.status),
      t('file.distance_m', { m: num(Math.round(e.distance_m)) })], { dataset: { id: String(e.id) } }));
    const parts = [el('div', { className: 'page first' }, headSec, section('f-map', t('file.sec.map'), map || none())),
      section('f-nearby', t('file.sec.nearby', { m: num(f.nearby_radius_m), k: num(f.nearby.length) }),
        nearby.length ? table('f-nearby-rows', [t('file.col.date'), t('file.col.category'), t('file.col.status'), t('file.col.distance')], nearby) : none())];
    const c = f.coord;
    if (c) {
      const dept = (d) => (lang === 'zh' ? d.name : `${code('coord_dept', d.kind)} (${d.name})`);
      const insp = c.inspections.map((r) => row([fmtDate(r.date), dept(r.department), code('coord_subject', r.subject), t(r.online ? 'file.online' : 'file.on_site'),
        r.finding ? r.finding.text : t('file.no_finding')], { dataset: { id: String(r.id) }, className: r.finding ? 'late' : '' }));
      const actions = {};
      for (const pl of c.plans) { const a = pl.suggestion ? pl.suggestion.action : 'keep'; actions[a] = (actions[a] || 0) + 1; }
      const planText = c.plans.length
        ? t('file.plans_sum', { n: num(c.plans.length), actions: Object.entries(actions).map(([a, n]) => `${code('coord_action', a)} ${num(n)}`).join(sep) })
        : t('file.plans_none');
      parts.push(section('f-plans', t('file.sec.plans'), el('p', { className: 'sum' }, figure(c.plans.length, planText))),
      section('f-inspections', t('file.sec.inspections'),
        insp.length ? table('f-insp-rows', [t('file.col.date'), t('file.col.department'), t('file.col.subject'), t('file.col.kind'), t('file.col.finding')], insp) : none()));
    } else {
      parts.push(section('f-plans', t('file.sec.plans'), el('p', { className: 'note' }, t('file.coord.none'))));
    }
    $('file').replaceChildren(...parts);
  }

  // --- signing in and starting ----------------------------------------------------------
  function showSignIn() {
    $('sign-in').hidden = false;
    $('file').hidden = true;
    $('status').textContent = '';
    $('si-name').focus();
  }
  $('sign-in').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('si-msg').hidden = true;
    try {
      const res = await fetch('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: $('si-name').value.trim(), password: $('si-pass').value }) });
      if (!res.ok) {
        let j = null; try { j = await res.json(); } catch (e) { /* not JSON */ }
        const err = new Error((j && j.error && j.error.message) || res.statusText); err.code = j && j.error && j.error.code; throw err;
      }
      $('si-pass').value = '';
      $('sign-in').hidden = true;
      await start();
    } catch (e) {
      $('si-msg').textContent = t('account.failed', { reason: onemapI18n.errorReason(e) });
      $('si-msg').hidden = false;
    }
  });

  async function start() {
    page.ready = false;
    const q = new URLSearchParams(location.search);
    const area = q.get('area'), ent = q.get('enterprise'), school = q.get('school');
    if (!area && !ent && !school) { $('status').textContent = t('file.ask'); page.ready = true; return; }
    try {
      const s = await api('/api/session');
      $('who').textContent = t('table.signed_in', { name: s.user.display_name || s.user.name, role: code('role', s.user.role) });
    } catch (e) {
      if (e.status === 401) { showSignIn(); page.ready = true; return; }
    }
    $('status').textContent = t('file.loading');
    try {
      if (area) await showArea(area); else if (ent) await showSite('enterprise', ent); else await showSite('school', school);
      $('status').textContent = '';
      $('file').hidden = false;
    } catch (e) {
      if (e.status === 401) showSignIn();
      else $('status').textContent = t('file.error', { reason: onemapI18n.errorReason(e) });
    }
    page.ready = true;
  }
  start();
})();
