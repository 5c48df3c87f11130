// The problem, development and task lists (问题清单、发展清单、任务清单):
// pick an area (the account's own by default), a list, filter by status
// and overdue; create an item, or make a hot spot a problem item in one
// click; open an item to move its status with a note and read its history.
// Everything comes from /api/lists and /api/hotspots; the session cookie
// signs the requests, and changes carry its CSRF token.
'use strict';
(() => {
  const { t, lang, code } = onemapI18n;
  const $ = (id) => document.getElementById(id);
  const num = (n) => onemapI18n.fmtNumber(n);
  onemapI18n.apply();
  onemapI18n.toggle($('lang-toggle'));
  if (lang === 'en') $('back').href = '/?lang=en';

  const PAGE = 50;
  const KINDS = ['problem', 'development', 'task'];
  const CATEGORIES = ['drainage', 'sanitation', 'dispute', 'road', 'safety_hazard', 'illegal_building', 'public_order', 'other',
    'industry', 'infrastructure', 'livelihood', 'environment', 'governance', 'culture'];
  // The moves an item's status has (done → open needs a note).
  const MOVES = { open: ['in_progress'], in_progress: ['done'], done: ['open'] };
  const st = { user: null, csrf: null, kind: 'problem', offset: 0, current: null };

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && st.csrf) headers['X-CSRF-Token'] = st.csrf;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
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
  const reason = (e) => onemapI18n.errorReason(e);
  const el = (tag, props = {}, ...kids) => { const x = Object.assign(document.createElement(tag), props); x.append(...kids); return x; };

  function showSignIn() {
    $('sign-in').hidden = false;
    $('work').hidden = true;
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
      $('si-msg').textContent = t('account.failed', { reason: reason(e) });
      $('si-msg').hidden = false;
    }
  });

  // ---- The list.
  function query(offset) {
    const p = new URLSearchParams();
    const area = $('area').value.trim();
    if (area) p.set('area', area);
    p.set('kind', st.kind);
    if ($('status').value) p.set('status', $('status').value);
    if ($('overdue').checked) p.set('overdue', 'true');
    p.set('limit', PAGE);
    p.set('offset', offset);
    return p;
  }

  function itemRow(r) {
    const li = el('li', { className: `item s-${r.status}${r.overdue ? ' overdue' : ''}` });
    li.dataset.id = r.id;
    const title = el('button', { type: 'button', className: 'title', textContent: r.title });
    title.addEventListener('click', () => openItem(r.id));
    const meta = el('div', { className: 'meta' });
    const due = r.due ? t('lists.due_on', { date: onemapI18n.fmtDate(r.due) }) : t('lists.no_due');
    meta.append(
      el('span', { className: 'status', textContent: code('list_status', r.status) }),
      el('span', { textContent: r.area_name || r.area }),
      el('span', { textContent: code('list_category', r.category) }),
      el('span', { textContent: `${code('owner_kind', r.owner.kind)}：${r.owner.name}`.replace('：', lang === 'en' ? ': ' : '：') }),
      el('span', { className: 'due', textContent: due }),
    );
    if (r.overdue) meta.append(el('span', { className: 'flag', textContent: t('lists.overdue') }));
    if (r.events.length) meta.append(el('span', { textContent: t('lists.n_events', { n: num(r.events.length) }) }));
    li.append(title, meta);
    return li;
  }

  async function load(more = false) {
    st.offset = more ? st.offset + PAGE : 0;
    $('msg').textContent = t('lists.loading');
    try {
      const r = await api('GET', `/api/lists?${query(st.offset)}`);
      if (!more) $('items').textContent = '';
      for (const row of r.rows) $('items').append(itemRow(row));
      $('msg').textContent = r.total ? t('lists.count', { n: num(r.total), kind: t(`lists.kind.${st.kind}`) }) : t('lists.empty');
      $('msg').dataset.total = r.total;
      $('pager').hidden = r.next_offset === null || r.next_offset === undefined;
    } catch (e) {
      $('msg').textContent = t('lists.error', { reason: reason(e) });
      if (e.status === 401) showSignIn();
    }
  }

  function selectKind(kind) {
    st.kind = kind;
    for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-selected', String(b.dataset.kind === kind));
    $('n-kind').value = kind;
    $('spots-box').hidden = kind !== 'problem';
    load();
  }
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => selectKind(b.dataset.kind));
  $('ask').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  $('status').addEventListener('change', () => load());
  $('overdue').addEventListener('change', () => load());
  $('more').addEventListener('click', () => load(true));

  // ---- One item.
  function showItem(d) {
    st.current = d;
    $('detail').hidden = false;
    $('d-title').textContent = d.title;
    const dl = $('d-fields');
    dl.textContent = '';
    const field = (k, v) => dl.append(el('dt', { textContent: t(k) }), el('dd', { textContent: v }));
    field('lists.f.kind', code('list_kind', d.kind));
    field('lists.f.status', code('list_status', d.status) + (d.overdue ? ` · ${t('lists.overdue')}` : ''));
    field('lists.area', `${d.area_name || ''} ${d.area}`);
    field('lists.f.category', code('list_category', d.category));
    field('lists.f.owner', `${code('owner_kind', d.owner.kind)} · ${d.owner.name}`);
    field('lists.f.due', d.due ? onemapI18n.fmtDate(d.due) : t('lists.no_due'));
    field('lists.f.created', `${onemapI18n.fmtDateTime(d.created_at)} · ${d.created_by}`);
    $('d-text').textContent = d.detail;
    const to = $('m-to');
    to.textContent = '';
    to.append(el('option', { value: '', textContent: t('lists.keep_status') }));
    for (const s of MOVES[d.status]) to.append(el('option', { value: s, textContent: code('list_status', s) }));
    $('m-note').value = '';
    $('m-msg').textContent = '';
    const h = $('d-history');
    h.textContent = '';
    for (const c of d.history) {
      let what = t(`lists.change.${c.change}`);
      if (c.change === 'status') what += `：${code('list_status', c.from)} → ${code('list_status', c.to)}`;
      else if (c.change === 'owner' || c.change === 'due') what += `：${c.from || '–'} → ${c.to || '–'}`;
      if (lang === 'en') what = what.replace('：', ': ');
      const li = el('li', {}, el('time', { textContent: onemapI18n.fmtDateTime(c.at) }), ` ${c.by} · ${what}`);
      if (c.note) li.append(el('q', { textContent: c.note }));
      h.append(li);
    }
    const ev = $('d-events');
    ev.textContent = '';
    for (const e of d.event_summaries) {
      ev.append(el('li', { textContent: `#${e.id} · ${code('category', e.category)} · ${code('status', e.status)} · ${onemapI18n.fmtDate(e.reported_at)}` }));
    }
    if (d.events.length > d.event_summaries.length) ev.append(el('li', { textContent: t('lists.more_events', { n: num(d.events.length - d.event_summaries.length) }) }));
    $('detail').scrollIntoView({ block: 'start' });
  }
  async function openItem(id) {
    try {
      showItem(await api('GET', `/api/lists/${id}`));
    } catch (e) {
      $('msg').textContent = t('lists.error', { reason: reason(e) });
    }
  }
  $('d-close').addEventListener('click', () => { $('detail').hidden = true; st.current = null; });
  $('move').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    if ($('m-to').value) body.status = $('m-to').value;
    if ($('m-note').value.trim()) body.note = $('m-note').value.trim();
    try {
      const d = await api('POST', `/api/lists/${st.current.id}`, body);
      showItem(d);
      $('m-msg').textContent = t('lists.saved');
      load();
    } catch (e) {
      $('m-msg').textContent = t('lists.failed', { reason: reason(e) });
    }
  });

  // ---- A new item by form.
  for (const k of KINDS) $('n-kind').append(el('option', { value: k, textContent: code('list_kind', k) }));
  for (const c of CATEGORIES) $('n-category').append(el('option', { value: c, textContent: code('list_category', c) }));
  $('new-item').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      kind: $('n-kind').value, area: $('n-area').value.trim(), title: $('n-title').value, detail: $('n-detail').value,
      category: $('n-category').value, owner: { kind: $('n-owner-kind').value, name: $('n-owner').value },
    };
    if ($('n-due').value) body.due = $('n-due').value;
    try {
      const d = await api('POST', '/api/lists', body);
      $('n-msg').textContent = t('lists.created', { id: d.id });
      $('n-title').value = ''; $('n-detail').value = '';
      if (d.kind !== st.kind) selectKind(d.kind); else load();
      showItem(d);
    } catch (e) {
      $('n-msg').textContent = t('lists.failed', { reason: reason(e) });
    }
  });

  // ---- Hot spots → problem items.
  async function loadSpots() {
    const p = new URLSearchParams({ min_count: $('h-min').value || '10', limit: '20' });
    const area = $('area').value.trim();
    if (area) p.set('area', area);
    $('h-msg').textContent = '';
    const list = $('spots');
    list.textContent = '';
    try {
      const r = await api('GET', `/api/hotspots?${p}`);
      if (!r.hotspots.length) $('h-msg').textContent = t('lists.no_hotspots');
      for (const h of r.hotspots) {
        if (h.place.type !== 'unit') continue;
        const place = [h.village && h.village.name, h.unit && h.unit.name].filter(Boolean).join(' · ');
        const b = el('button', { type: 'button', className: 'to-problem', textContent: t('lists.to_problem') });
        b.addEventListener('click', async () => {
          b.disabled = true;
          try {
            const d = await api('POST', '/api/lists', { from_hotspot: { category: h.category, unit: String(h.place.id), min_count: Number($('h-min').value || 10) } });
            $('h-msg').textContent = t('lists.created', { id: d.id });
            if (st.kind !== 'problem') selectKind('problem'); else load();
            showItem(d);
          } catch (e) {
            $('h-msg').textContent = t('lists.failed', { reason: reason(e) });
            b.disabled = false;
          }
        });
        list.append(el('li', {}, el('span', { textContent: t('lists.hotspot_line', { place, category: code('category', h.category), n: num(h.count), open: num(h.open) }) }), ' ', b));
      }
    } catch (e) {
      $('h-msg').textContent = t('lists.error', { reason: reason(e) });
    }
  }
  $('h-load').addEventListener('click', loadSpots);

  async function start() {
    try {
      const s = await api('GET', '/api/session');
      st.user = s.user;
      st.csrf = s.csrf;
    } catch (e) {
      if (e.status === 401) { showSignIn(); return; }
      $('msg').textContent = t('lists.error', { reason: reason(e) });
      return;
    }
    $('who').textContent = t('lists.signed_in', { name: st.user.display_name || st.user.name, role: code('role', st.user.role) });
    $('sign-in').hidden = true;
    $('work').hidden = false;
    const scope = String(st.user.scope || '');
    const area = new URLSearchParams(location.search).get('area') || (scope.startsWith('area:') ? scope.slice(5) : '');
    $('area').value = area;
    $('n-area').value = area;
    const kind = new URLSearchParams(location.search).get('kind');
    selectKind(KINDS.includes(kind) ? kind : 'problem');
  }
  start();
})();
