// The event loop in the browser: signing in (an HttpOnly session cookie and
// its CSRF token), a unit leader's report placed on the map with up to 3
// photos, a town office's inbox of what waits for it, and an event's page
// with its photos, its history and the next move the signed-in account may
// make. Every text from i18n.js.
'use strict';
(() => {
  const onemap = window.onemap;
  const { map } = onemap;
  const { t, code, fmtDateTime } = onemapI18n;
  const { num } = onemapCommon;
  // The loop's time limits (null until known: no flags then).
  let rules = null;
  const loadRules = () => onemapCommon.deadlines().then((r) => { rules = r; }, () => {});
  loadRules();
  // An inbox row's deadline: "due …", or "overdue by N h" flagged.
  function dueLine(status, at) {
    const due = rules && rules.due(status, at);
    if (!due) return null;
    const late = rules.overdueBy(status, at);
    return late > 0
      ? el('div', { className: 'due overdue' }, t('due.overdue', { h: num(Math.floor(late / 3600)), time: fmtDateTime(due) }))
      : el('div', { className: 'due muted' }, t('due.by', { time: fmtDateTime(due) }));
  }
  const overdueData = (status, at) => (rules && rules.overdueBy(status, at) > 0 ? { overdue: '' } : {});
  const $ = (id) => document.getElementById(id);
  // No department list in the API yet: the city's usual ones.
  const DEPARTMENTS = ['水务局', '住建局', '交通局', '城管局', '环保局'];
  // Who makes each move (onemap-core's workflow): the status it leaves.
  const NEXT = { reported: 'discussing', discussing: 'routed', routed: 'handled', handled: 'fed_back', fed_back: 'closed' };
  const MOVER = { discussing: 'town_office', routed: 'town_office', handled: 'department', fed_back: 'unit_leader', closed: 'town_office' };
  const INBOX = ['reported', 'discussing', 'fed_back'];
  // Photos: at most 3 an event, JPEG or PNG; a larger file than the server
  // takes (10 MiB) is scaled down here first.
  const MAX_PHOTOS = 3;
  const PHOTO_TYPES = ['image/jpeg', 'image/png'];
  const PHOTO_BYTES = 9.5 * 1024 * 1024;

  const session = (onemap.session = { user: null, csrf: null });
  // #event=ID opens that event's page (read now: the map rewrites the hash).
  const startEvent = (/(?:^|[#&])event=(\d+)/.exec(location.hash) || [])[1];

  // --- requests ----------------------------------------------------------------
  // JSON in and out (a Blob, a photo, goes as it is, with its type), the
  // cookie sent; a change carries the session's CSRF token. A failure
  // throws an Error with the API's code, the HTTP status and Retry-After
  // (seconds) when given; no network throws a TypeError.
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const raw = body instanceof Blob;
    if (body !== undefined) headers['Content-Type'] = raw ? body.type : 'application/json';
    if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    const sent = body === undefined ? undefined : raw ? body : JSON.stringify(body);
    const res = await fetch(path, { method, headers, credentials: 'same-origin', body: sent });
    if (res.status === 204) return null;
    let doc = null;
    try { doc = await res.json(); } catch { doc = null; }
    if (!res.ok) {
      const err = new Error((doc && doc.error && doc.error.message) || `HTTP ${res.status}`);
      err.code = doc && doc.error && doc.error.code;
      err.status = res.status;
      const ra = Number(res.headers.get('Retry-After'));
      if (Number.isFinite(ra) && ra > 0) err.retryAfter = ra;
      // The session ended (expired, revoked): shown signed out.
      if (res.status === 401 && path !== '/api/session' && session.user) { session.user = null; session.csrf = null; showUser(); }
      throw err;
    }
    return doc;
  }
  onemap.api = api;
  // Why a change failed, in words ('forbidden' is about doing, not reading, here).
  const reason = (e) => (e && e.code === 'forbidden' ? t('move.forbidden') : onemapI18n.errorReason(e));

  // A fresh key for a report: crypto.randomUUID where the page is a secure
  // context, random bytes otherwise.
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  const el = (tag, props = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k in e && k !== 'list') e[k] = v;
      else e.setAttribute(k, v);
    }
    e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
    return e;
  };
  const scopeArea = (u) => (u && /^area:\d+$/.test(u.scope) ? u.scope.slice(5) : null);
  const scopeDept = (u) => (u && u.scope.startsWith('department:') ? u.scope.slice('department:'.length) : null);
  // Whether an area scope covers a unit (ids nest: a unit's id starts with its town's).
  const covers = (u, unit) => { const a = scopeArea(u); return !!a && String(unit).startsWith(a); };

  // --- the work sheet: one screen at a time ------------------------------------
  const work = $('work');
  let screen = null; // { name, ... } of what the sheet shows
  function openWork(name, title) {
    screen = { name };
    $('panel').hidden = true;
    onemap.details = null;
    onemap.setDrawer(false);
    $('work-title').textContent = title;
    $('work-body').textContent = '';
    work.dataset.screen = name;
    work.hidden = false;
    return $('work-body');
  }
  function closeWork() {
    if (work.hidden) return;
    work.hidden = true;
    endPicking();
    if (eventMarker) { eventMarker.remove(); eventMarker = null; }
    closePhoto();
    screen = null;
    delete work.dataset.screen;
  }
  onemap.closeWork = closeWork;
  $('work-close').addEventListener('click', closeWork);
  // The part of the map not under the bars and sheets, as fit padding.
  function mapPadding() {
    const H = map.getContainer().clientHeight, W = map.getContainer().clientWidth;
    const phone = matchMedia('(max-width: 700px)').matches;
    const top = (phone ? $('controls').getBoundingClientRect().bottom : 0) + 20;
    const bottom = phone && !work.hidden ? H - work.getBoundingClientRect().top + 20 : 20;
    const right = !phone && !work.hidden ? W - work.getBoundingClientRect().left + 20 : 20;
    const left = phone ? 20 : $('controls').getBoundingClientRect().right + 20;
    return { top, bottom, left, right };
  }

  // --- sign-in ------------------------------------------------------------------
  function showUser() {
    const u = session.user;
    const btn = $('account-btn');
    btn.textContent = u ? u.display_name : t('account.sign_in');
    btn.classList.toggle('signed-in', !!u);
    btn.title = u ? t('account.who', { name: u.display_name, role: code('role', u.role) }) : t('account.sign_in');
    $('report-btn').hidden = !(u && u.role === 'unit_leader');
    $('inbox-btn').hidden = !(u && (u.role === 'town_office' || u.role === 'department'));
    $('loop-bar').hidden = $('report-btn').hidden && $('inbox-btn').hidden;
    document.body.dataset.role = u ? u.role : '';
  }
  async function restore() {
    try {
      const s = await api('GET', '/api/session');
      session.user = s.user; session.csrf = s.csrf;
    } catch (e) {
      session.user = null; session.csrf = null;
      if (e.status !== 401) console.warn('session', e);
    }
    showUser();
    onemap.sessionReady = true;
  }
  const waitText = (s) => (s >= 90 ? t('account.wait_min', { n: num(Math.ceil(s / 60)) }) : t('account.wait_s', { n: num(s) }));
  function signInError(e) {
    if (e.code === 'too_many_attempts') return e.retryAfter ? t('account.too_many', { wait: waitText(e.retryAfter) }) : t('account.too_many_later');
    return t('account.failed', { reason: onemapI18n.errorReason(e) });
  }
  function showAccount() {
    const u = session.user;
    // Signing in from an event's page goes back to it.
    const back = screen && screen.name === 'event' ? screen.eventId : null;
    const body = openWork('account', u ? t('account.signed_in') : t('account.title'));
    if (u) {
      body.append(
        el('p', { id: 'account-who', className: 'who' }, t('account.who', { name: u.display_name, role: code('role', u.role) })),
        el('p', { className: 'muted' }, t('account.scope', { scope: scopeDept(u) || u.scope })),
        el('div', { className: 'actions' },
          u.role === 'unit_leader' && el('button', { type: 'button', className: 'primary', onclick: startReport }, t('report.open')),
          (u.role === 'town_office' || u.role === 'department') && el('button', { type: 'button', className: 'primary', onclick: showInbox }, t('inbox.open')),
          el('button', { type: 'button', id: 'sign-out', onclick: signOut }, t('account.sign_out'))));
      return;
    }
    const name = el('input', { id: 'signin-name', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: false });
    const pass = el('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const msg = el('p', { id: 'signin-error', className: 'error', role: 'alert', hidden: true });
    const submit = el('button', { type: 'submit', className: 'primary', id: 'signin-submit' }, t('account.submit'));
    const form = el('form', { id: 'signin' },
      el('label', {}, el('span', {}, t('account.name')), name),
      el('label', {}, el('span', {}, t('account.password')), pass),
      msg, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      msg.hidden = true; submit.disabled = true;
      try {
        const s = await api('POST', '/api/session', { name: name.value.trim(), password: pass.value });
        session.user = s.user; session.csrf = s.csrf;
        showUser();
        pass.value = '';
        if (back) openEvent(back);
        else if (s.user.role === 'town_office') showInbox();
        else showAccount();
      } catch (e) {
        msg.textContent = signInError(e); msg.hidden = false;
      } finally { submit.disabled = false; }
    });
    body.append(form);
    name.focus();
  }
  async function signOut() {
    try { await api('DELETE', '/api/session'); } catch (e) { if (e.status !== 401) { onemap.showError(e); return; } }
    session.user = null; session.csrf = null;
    showUser();
    closeWork();
  }
  $('account-btn').addEventListener('click', () => showAccount());

  // --- reporting ------------------------------------------------------------------
  let pickMarker = null, eventMarker = null;
  function endPicking() {
    onemap.picking = null;
    if (pickMarker) { pickMarker.remove(); pickMarker = null; }
    map.getCanvas().style.cursor = '';
  }
  async function startReport() {
    const u = session.user;
    if (!u || u.role !== 'unit_leader') return showAccount();
    const body = openWork('report', t('report.title'));
    const draft = { lngLat: null, key: null, photos: [] };
    const where = el('p', { id: 'report-where', className: 'muted' }, t('report.pick'));
    const mine = el('button', { type: 'button', id: 'report-mine' }, t('report.mine'));
    const category = el('select', { id: 'report-category' },
      ...Object.keys(onemapI18n.codes.zh.category).map((c) => el('option', { value: c }, code('category', c))));
    const description = el('textarea', { id: 'report-description', rows: 3, placeholder: t('report.description_hint') });
    const msg = el('p', { id: 'report-error', className: 'error', role: 'alert', hidden: true });
    const submit = el('button', { type: 'submit', className: 'primary', id: 'report-submit', disabled: true }, t('report.submit'));
    const photos = photoPicker('report-photos', () => MAX_PHOTOS - draft.photos.length, (files) => {
      for (const f of files) {
        const url = URL.createObjectURL(f);
        const item = el('li', { className: 'photo' }, el('img', { src: url, alt: f.name }));
        const remove = el('button', { type: 'button', className: 'photo-remove', title: t('report.photo_remove'), 'aria-label': t('report.photo_remove') }, '×');
        remove.addEventListener('click', () => {
          draft.photos = draft.photos.filter((p) => p.file !== f);
          URL.revokeObjectURL(url); item.remove(); photos.update();
        });
        item.append(remove);
        thumbs.append(item);
        draft.photos.push({ file: f, url });
      }
    });
    const thumbs = el('ul', { id: 'report-thumbs', className: 'photos' });
    const form = el('form', { id: 'report' }, where, mine,
      el('label', {}, el('span', {}, t('report.category')), category),
      el('label', {}, el('span', {}, t('report.description')), description),
      photos.box, thumbs, msg, submit);
    body.append(form);
    const ready = () => { submit.disabled = !(draft.lngLat && description.value.trim()); };
    // A changed report is another report: a new key (an unchanged one, sent
    // again after a failure, keeps its key so the server makes it once).
    const changed = () => { draft.key = null; ready(); };
    description.addEventListener('input', changed);
    category.addEventListener('change', changed);
    async function place(lngLat) {
      draft.lngLat = { lng: lngLat.lng, lat: lngLat.lat };
      changed();
      if (!pickMarker) {
        pickMarker = new maplibregl.Marker({ color: '#2962ff', draggable: true }).setLngLat(lngLat).addTo(map);
        pickMarker.on('dragend', () => place(pickMarker.getLngLat()));
      } else pickMarker.setLngLat(lngLat);
      const at = t('report.picked_at', { lon: lngLat.lng.toFixed(5), lat: lngLat.lat.toFixed(5) });
      where.textContent = t('report.picked', { place: at });
      where.dataset.lon = lngLat.lng; where.dataset.lat = lngLat.lat;
      try {
        const loc = await api('GET', `/api/locate?lon=${lngLat.lng}&lat=${lngLat.lat}`);
        if (draft.lngLat.lng !== lngLat.lng || draft.lngLat.lat !== lngLat.lat) return;
        const unit = loc && loc.unit;
        const name = [loc && loc.village && loc.village.name, unit && unit.name].filter(Boolean).join(' · ');
        where.textContent = t('report.picked', { place: name || at });
        msg.hidden = !(unit ? !covers(u, unit.id) : true);
        if (!msg.hidden) msg.textContent = t('report.outside');
      } catch (e) { console.warn('locate', e); }
    }
    onemap.picking = place;
    map.getCanvas().style.cursor = 'crosshair';
    mine.addEventListener('click', () => {
      if (!navigator.geolocation) { msg.textContent = t('report.no_location'); msg.hidden = false; return; }
      where.textContent = t('report.locating');
      navigator.geolocation.getCurrentPosition((p) => {
        const ll = { lng: p.coords.longitude, lat: p.coords.latitude };
        map.flyTo({ center: [ll.lng, ll.lat], zoom: Math.max(map.getZoom(), 16), padding: mapPadding() });
        place(ll);
      }, () => { msg.textContent = t('report.no_location'); msg.hidden = false; where.textContent = t('report.pick'); },
      { enableHighAccuracy: true, timeout: 15000 });
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      draft.key = draft.key || newKey();
      const doc = { lon: draft.lngLat.lng, lat: draft.lngLat.lat, category: category.value,
        description: description.value.trim(), idempotency_key: draft.key };
      submit.disabled = true; msg.hidden = true;
      where.dataset.key = draft.key;
      let created = null, failure = null;
      // A network failure is retried with the same key: the server makes
      // the event once however many of the tries reached it.
      for (let attempt = 0; attempt < 4 && !created; attempt++) {
        if (attempt) {
          submit.textContent = t('report.retrying', { n: attempt });
          await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        } else submit.textContent = t('report.sending');
        try { created = await api('POST', '/api/events', doc); failure = null; } catch (e) {
          failure = e;
          if (!(e instanceof TypeError)) break;
        }
      }
      submit.textContent = t('report.submit');
      if (!created) {
        msg.textContent = failure && failure.code === 'forbidden' ? t('report.outside') : t('report.failed', { reason: onemapI18n.errorReason(failure) });
        msg.hidden = false; submit.disabled = false;
        return;
      }
      onemap.lastReport = { id: created.event.id, key: doc.idempotency_key };
      endPicking();
      onemap.refreshTiles();
      // Then its photos, one by one; the event is made whatever becomes of them.
      let failed = null;
      if (draft.photos.length) {
        failed = await uploadPhotos(created.event.id, draft.photos.map((p) => p.file),
          (i, n) => { submit.textContent = t('report.uploading', { i: num(i), n: num(n) }); });
        for (const p of draft.photos) URL.revokeObjectURL(p.url);
        try { created = await api('GET', `/api/events/${created.event.id}`); } catch (e) { console.warn('event', e); }
      }
      showEvent(created, true, failed);
    });
    // The leader's own area on screen, where the report is to be placed.
    const area = scopeArea(u);
    if (area) {
      try {
        const a = await api('GET', `/api/areas/${area}`);
        if (screen && screen.name === 'report' && !draft.lngLat)
          map.fitBounds([[a.bbox.min_lon, a.bbox.min_lat], [a.bbox.max_lon, a.bbox.max_lat]], { padding: mapPadding(), maxZoom: 17, duration: 0 });
      } catch (e) { console.warn('area', e); }
    }
    onemap.reportReady = true;
  }
  $('report-btn').addEventListener('click', startReport);

  // --- photos -------------------------------------------------------------------
  // A photo picker (the camera on a phone, files elsewhere): `room()` says
  // how many more it takes, `take(files)` gets the JPEGs and PNGs chosen
  // (at most that many); what it refuses is said under it.
  function photoPicker(id, room, take) {
    const input = el('input', { type: 'file', id, accept: PHOTO_TYPES.join(','), multiple: true, capture: 'environment' });
    const label = el('label', { className: 'photo-pick' }, el('span', {}, t('report.photos', { n: num(MAX_PHOTOS) })), input);
    const msg = el('p', { id: id + '-error', className: 'error', role: 'alert', hidden: true });
    const box = el('div', { className: 'photo-picker' }, label, msg);
    const update = () => { input.disabled = room() <= 0; label.classList.toggle('full', input.disabled); };
    input.addEventListener('change', () => {
      const files = [...input.files];
      input.value = '';
      const ok = files.filter((f) => PHOTO_TYPES.includes(f.type));
      const kept = ok.slice(0, Math.max(0, room()));
      msg.hidden = kept.length === files.length;
      if (!msg.hidden) msg.textContent = ok.length < files.length ? t('report.photo_type') : t('report.photo_max', { n: num(MAX_PHOTOS) });
      if (kept.length) take(kept);
      update();
    });
    update();
    return { box, input, update };
  }
  // A photo as the server takes it: as it is, or (larger than it takes)
  // drawn upright at 2,560 pixels on its long side as a JPEG.
  async function fitForUpload(file) {
    if (file.size <= PHOTO_BYTES || !window.createImageBitmap) return file;
    try {
      const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
      const k = Math.min(1, 2560 / Math.max(bmp.width, bmp.height));
      const c = el('canvas', { width: Math.round(bmp.width * k), height: Math.round(bmp.height * k) });
      c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
      bmp.close();
      return (await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.85))) || file;
    } catch (e) { console.warn('photo', e); return file; }
  }
  // Uploads photos to an event one by one; the first failure, or null.
  async function uploadPhotos(id, files, progress) {
    let failed = null;
    for (let i = 0; i < files.length; i++) {
      if (progress) progress(i + 1, files.length);
      try { await api('POST', `/api/events/${id}/photos`, await fitForUpload(files[i])); } catch (e) { failed = failed || e; }
    }
    return failed;
  }
  // A photo full size over everything; a click or Escape closes it.
  function openPhoto(url, alt) {
    closePhoto();
    const img = el('img', { src: url, alt });
    const view = el('div', { id: 'photo-view', role: 'dialog', 'aria-modal': 'true', 'aria-label': alt },
      img, el('button', { type: 'button', id: 'photo-close', title: t('work.close'), 'aria-label': t('work.close') }, '×'));
    view.addEventListener('click', closePhoto);
    document.body.append(view);
    view.querySelector('button').focus();
  }
  function closePhoto() { const v = $('photo-view'); if (v) v.remove(); }
  addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closePhoto(); });
  // An event's photos: thumbnails that open full size, and, for a unit
  // leader of its unit with room left, a picker that adds more.
  function photoSection(doc, failed) {
    const e = doc.event, list = doc.photos || [];
    const u = session.user;
    const mayAdd = !!u && u.role === 'unit_leader' && covers(u, e.unit) && Array.isArray(doc.photos) && list.length < MAX_PHOTOS;
    if (!list.length && !mayAdd && !failed) return [];
    const out = [el('h3', {}, t('event.photos'))];
    if (list.length) {
      out.push(el('ul', { id: 'event-photos', className: 'photos' }, ...list.map((p) => {
        const alt = t('event.photo_alt', { n: p.seq });
        const a = el('a', { href: p.url, className: 'photo-link', dataset: { seq: p.seq } },
          el('img', { src: p.url, alt, loading: 'lazy', width: p.width, height: p.height }));
        a.addEventListener('click', (ev) => { ev.preventDefault(); openPhoto(p.url, alt); });
        return el('li', { className: 'photo' }, a);
      })));
    }
    const note = el('p', { id: 'event-photo-error', className: 'error', role: 'alert', hidden: !failed });
    if (failed) note.textContent = t('report.photo_failed', { reason: reason(failed) });
    if (mayAdd) {
      const picker = photoPicker('event-add-photo', () => MAX_PHOTOS - list.length, async (files) => {
        picker.input.disabled = true; note.hidden = true;
        const bad = await uploadPhotos(e.id, files);
        try { const fresh = await api('GET', `/api/events/${e.id}`); if (screen && screen.eventId === e.id) showEvent(fresh, false, bad); } catch (x) { onemap.showError(x); }
      });
      picker.box.querySelector('label > span').textContent = t('event.add_photo', { n: num(MAX_PHOTOS - list.length) });
      out.push(picker.box);
    }
    out.push(note);
    return out;
  }

  // --- moves --------------------------------------------------------------------
  // The move the signed-in account may make on an event now, or null.
  function nextMove(doc) {
    const u = session.user;
    const e = doc.event;
    const to = NEXT[e.status];
    if (!u || !to || MOVER[to] !== u.role) return null;
    if (u.role === 'department') return doc.routed_to && doc.routed_to === scopeDept(u) ? to : null;
    if (u.role === 'town_office') return covers(u, e.unit) && scopeArea(u).length === 9 ? to : null;
    return covers(u, e.unit) ? to : null;
  }
  // The controls of a move: a department select when routing, a note, the button.
  function moveControls(id, to, after, { withNote = true } = {}) {
    const box = el('div', { className: 'move', dataset: { to } });
    let dept = null;
    if (to === 'routed') {
      dept = el('select', { className: 'move-department', 'aria-label': t('move.department') },
        el('option', { value: '' }, t('move.pick_department')),
        ...DEPARTMENTS.map((d) => el('option', { value: d }, code('department', d))));
      box.append(el('label', {}, el('span', {}, t('move.department')), dept));
    }
    const note = withNote ? el('input', { className: 'move-note', placeholder: t('move.note'), 'aria-label': t('move.note') }) : null;
    if (note) box.append(note);
    const button = el('button', { type: 'button', className: 'primary move-button', dataset: { to }, disabled: to === 'routed' }, t('move.' + to));
    if (dept) dept.addEventListener('change', () => { button.disabled = !dept.value; });
    const msg = el('p', { className: 'error', role: 'alert', hidden: true });
    button.addEventListener('click', async () => {
      button.disabled = true; msg.hidden = true;
      const body = { to };
      if (dept) body.routed_to = dept.value;
      if (note && note.value.trim()) body.note = note.value.trim();
      try {
        const doc = await api('POST', `/api/events/${id}/transitions`, body);
        onemap.refreshTiles();
        after(doc);
      } catch (e) {
        msg.textContent = t('move.failed', { reason: reason(e) }); msg.hidden = false;
        button.disabled = false;
      }
    });
    box.append(button, msg);
    return box;
  }

  // --- the town office's inbox ----------------------------------------------------
  // A department's queue: what was routed to it, from /api/queue.
  async function showQueue() {
    const u = session.user;
    const body = openWork('inbox', t('queue.title', { dept: scopeDept(u) || '' }));
    const status = el('p', { id: 'inbox-status', className: 'muted' }, t('inbox.loading'));
    const list = el('ol', { id: 'inbox-list' });
    body.append(status, list);
    const mine = screen;
    try {
      const q = await api('GET', '/api/queue');
      await loadRules();
      if (screen !== mine) return;
      const events = q.events;
      status.textContent = events.length ? t('inbox.count', { n: num(events.length) }) : t('inbox.empty');
      for (const doc of events) {
        const e = doc.event;
        const id = e.id;
        const open = el('a', { href: '#', className: 'inbox-open' }, t('inbox.item', { id, category: code('category', e.category) }));
        open.addEventListener('click', (ev) => { ev.preventDefault(); openEvent(id); });
        list.append(el('li', { className: 'inbox-item', dataset: { id, status: e.status, reportedAt: e.reported_at, ...overdueData(e.status, e.status_at) } },
          el('div', { className: 'inbox-head' }, open, el('span', { className: `tag tag-${e.status}` }, t('inbox.wait.' + e.status))),
          el('div', { className: 'muted' }, t('inbox.reported_at', { time: fmtDateTime(e.reported_at) })),
          dueLine(e.status, e.status_at),
          doc.description ? el('div', {}, doc.description) : null,
          moveControls(id, 'handled', () => showInbox(), { withNote: true })));
      }
      onemap.inboxReady = (onemap.inboxReady || 0) + 1;
    } catch (e) {
      status.textContent = t('error.load', { reason: onemapI18n.errorReason(e) });
    }
  }

  async function showInbox() {
    const u = session.user;
    if (u && u.role === 'department') return showQueue();
    if (!u || u.role !== 'town_office') return showAccount();
    const town = scopeArea(u);
    const body = openWork('inbox', t('inbox.title', { town: '' }).replace(/\s*·\s*$/, ''));
    const status = el('p', { id: 'inbox-status', className: 'muted' }, t('inbox.loading'));
    const list = el('ol', { id: 'inbox-list' });
    body.append(status, list);
    const mine = screen;
    try {
      api('GET', `/api/areas/${town}`).then((a) => {
        if (screen === mine) $('work-title').textContent = t('inbox.title', { town: a.area.name });
      }).catch(() => {});
      // Every page: oldest (lowest id) first.
      const features = [];
      let cursor = null;
      for (let pages = 0; pages < 20; pages++) {
        const q = `area=${town}&status=${INBOX.join(',')}&limit=100${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`;
        const fc = await api('GET', `/api/features/events?${q}`);
        features.push(...fc.features);
        cursor = fc.next_cursor;
        if (!cursor) break;
      }
      await loadRules();
      if (screen !== mine) return;
      features.sort((a, b) => (a.properties.reported_at - b.properties.reported_at) || (a.id - b.id));
      status.textContent = features.length ? t('inbox.count', { n: num(features.length) }) : t('inbox.empty');
      for (const f of features) {
        const p = f.properties;
        const id = f.id ?? p.id;
        const open = el('a', { href: '#', className: 'inbox-open' }, t('inbox.item', { id, category: code('category', p.category) }));
        open.addEventListener('click', (ev) => { ev.preventDefault(); openEvent(id); });
        const to = NEXT[p.status];
        list.append(el('li', { className: 'inbox-item', dataset: { id, status: p.status, reportedAt: p.reported_at, ...overdueData(p.status, p.status_at) } },
          el('div', { className: 'inbox-head' }, open, el('span', { className: `tag tag-${p.status}` }, t('inbox.wait.' + p.status))),
          el('div', { className: 'muted' }, t('inbox.reported_at', { time: fmtDateTime(p.reported_at) })),
          dueLine(p.status, p.status_at),
          moveControls(id, to, () => showInbox(), { withNote: false })));
      }
      onemap.inboxReady = (onemap.inboxReady || 0) + 1;
    } catch (e) {
      status.textContent = t('error.load', { reason: onemapI18n.errorReason(e) });
    }
  }
  $('inbox-btn').addEventListener('click', showInbox);

  // --- an event's page -------------------------------------------------------------
  async function openEvent(id) {
    const body = openWork('event', t('event.loading'));
    const mine = screen;
    let doc;
    try { doc = await api('GET', `/api/events/${id}`); } catch (e) {
      if (screen === mine) { $('work-title').textContent = '#' + id; body.textContent = t('error.load', { reason: onemapI18n.errorReason(e) }); }
      return;
    }
    if (screen === mine) showEvent(doc, true);
  }
  onemap.openEvent = openEvent;
  // An event's point from the tiles: its id, or (where the style's promoteId
  // leaves tile points without one) the event at that place reported at that
  // time in that unit, asked of the API in a small box around it.
  async function openEventFeature(f) {
    if (f.id !== undefined && f.id !== null) return openEvent(f.id);
    const [lon, lat] = f.geometry.coordinates, d = 0.0005, p = f.properties;
    try {
      const fc = await api('GET', `/api/features/events?bbox=${lon - d},${lat - d},${lon + d},${lat + d}&limit=100`);
      const near = (g) => Math.hypot(g.geometry.coordinates[0] - lon, g.geometry.coordinates[1] - lat);
      const same = fc.features.filter((g) => g.properties.reported_at === p.reported_at && String(g.properties.unit) === String(p.unit_id)
        && g.properties.category === p.category).sort((a, b) => near(a) - near(b));
      if (same.length) return openEvent(same[0].id);
    } catch (e) { onemap.showError(e); }
  }
  onemap.openEventFeature = openEventFeature;
  // `failed`: why a photo just sent was not kept, if one was not.
  function showEvent(doc, fly, failed) {
    const e = doc.event;
    const body = openWork('event', t('event.title', { category: code('category', e.category), id: e.id }));
    work.dataset.eventId = e.id;
    screen.eventId = e.id;
    work.dataset.status = e.status;
    const row = (k, v, id) => [el('dt', {}, t(k)), el('dd', id ? { id } : {}, v)];
    const placeBtn = el('button', { type: 'button', id: 'event-place', className: 'link' }, t('event.show_place'));
    placeBtn.addEventListener('click', () => flyTo(e));
    body.append(el('dl', { id: 'event-facts', className: 'facts' },
      ...row('event.status', code('status', e.status), 'event-status'),
      ...row('event.place', el('span', {}, `${e.lon.toFixed(5)}, ${e.lat.toFixed(5)} `, placeBtn)),
      ...row('event.unit', e.unit, 'event-unit'),
      ...row('event.reported_at', fmtDateTime(e.reported_at)),
      ...(e.closed_at ? row('event.closed_at', fmtDateTime(e.closed_at)) : []),
      ...(rules && rules.due(e.status, e.status_at) ? row('event.due', dueLine(e.status, e.status_at), 'event-due') : []),
      ...(doc.private ? [] : row('event.reporter', doc.reporter || '–', 'event-reporter')),
      ...(doc.private ? [] : row('event.routed_to', doc.routed_to ? code('department', doc.routed_to) : '–', 'event-routed'))));
    if (doc.private) {
      body.append(el('div', { id: 'event-private', className: 'notice' },
        el('strong', {}, t('event.private')), el('p', {}, t('event.private_hint')),
        !session.user && el('button', { type: 'button', className: 'primary', id: 'event-sign-in', onclick: showAccount }, t('account.sign_in'))));
    } else {
      body.append(el('h3', {}, t('event.description')), el('p', { id: 'event-description', className: 'description' }, doc.description || '–'));
      body.append(...photoSection(doc, failed));
      const to = nextMove(doc);
      if (to) body.append(moveControls(e.id, to, (d) => { showEvent(d, false); }));
      body.append(el('h3', {}, t('event.history')));
      body.append(el('ol', { id: 'event-history', className: 'timeline' }, ...(doc.history || []).map((h) => el('li', { dataset: { status: h.to || h.status } },
        el('time', { dateTime: new Date(h.at * 1000).toISOString() }, fmtDateTime(h.at)),
        el('strong', {}, code('status', h.to || h.status)),
        el('span', { className: 'actor' }, h.role ? t('event.actor', { actor: h.actor, role: code('role', h.role) }) : h.actor),
        h.routed_to && el('span', { className: 'muted' }, t('event.routed_note', { dept: code('department', h.routed_to) })),
        h.note && el('q', {}, h.note)))));
    }
    onemap.eventDoc = doc;
    // The unit by name (the place is public).
    api('GET', `/api/locate?lon=${e.lon}&lat=${e.lat}`).then((loc) => {
      const unit = $('event-unit');
      if (unit && loc && loc.unit && String(loc.unit.id) === String(e.unit))
        unit.textContent = [loc.village && loc.village.name, loc.unit.name].filter(Boolean).join(' · ');
    }).catch(() => {});
    if (eventMarker) eventMarker.remove();
    eventMarker = new maplibregl.Marker({ color: '#e53935', scale: 0.8 }).setLngLat([e.lon, e.lat]).addTo(map);
    if (fly) flyTo(e);
  }
  function flyTo(e) {
    map.flyTo({ center: [e.lon, e.lat], zoom: Math.max(map.getZoom(), 16), padding: mapPadding() });
  }

  // An event's page by address: #event=ID opens it once the map is there.
  restore().then(() => {
    if (startEvent) openEvent(Number(startEvent));
  });
})();
