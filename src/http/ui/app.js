// greffier web interface: login, search, call page (player, waveform, SIP ladder, tags
// and notes, and for auditors export and legal hold), alarms banner.
// No framework, no third-party code: the page's CSP allows only this origin.
// Every text shown goes through t() and the STRINGS table: French by default, English
// on request (the choice is kept in localStorage).
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  csrf: null, user: null, role: null, page: 0, perPage: 50, filters: {},
  cursors: [null], // cursors[i]: the cursor of page i (null for the first)
  call: null, alarmTimer: null,
};

const STRINGS = {
  fr: {
    'lang.label': 'Langue', 'logout': 'Se déconnecter', 'nav.search': 'Recherche',
    'nav.retention': 'Conservation',
    'nav.live': 'Appels en cours',
    'login.title': 'Connexion', 'login.user': 'Utilisateur', 'login.password': 'Mot de passe',
    'login.submit': 'Se connecter', 'login.busy': 'Connexion…',
    'login.locked': 'Trop d\'échecs : compte bloqué 15 minutes.',
    'login.bad': 'Utilisateur ou mot de passe incorrect.',
    'session.expired': 'Session expirée : reconnectez-vous.',
    'search.title': 'Recherche d\'appels', 'search.q': 'Texte libre',
    'search.q.hint': 'nom, numéro, étiquette, note', 'search.from': 'Du', 'search.to': 'Au',
    'search.number': 'Numéro', 'search.direction': 'Sens', 'search.status': 'État',
    'search.min_duration': 'Durée min. (s)', 'search.tag': 'Étiquette',
    'search.submit': 'Rechercher', 'search.busy': 'Recherche…',
    'search.failed': 'La recherche a échoué : ', 'search.count': '{n} appel(s) sur cette page.',
    'search.forbidden': 'Votre rôle ne permet pas la recherche d\'appels.',
    'any': 'tous',
    'dir.inbound': 'entrant', 'dir.outbound': 'sortant', 'dir.internal': 'interne',
    'dir.unknown': 'inconnu',
    'st.answered': 'répondu', 'st.cancelled': 'annulé', 'st.busy': 'occupé',
    'st.rejected': 'rejeté', 'st.failed': 'échec', 'st.timeout': 'sans réponse',
    'st.in_progress': 'en cours',
    'results.caption': 'Appels trouvés', 'results.empty': 'Aucun appel ne correspond à ces critères.',
    'col.date': 'Date', 'col.time': 'Heure', 'col.caller': 'Appelant', 'col.callee': 'Appelé',
    'col.duration': 'Durée', 'col.direction': 'Sens', 'col.status': 'État',
    'col.quality': 'Qualité', 'col.tags': 'Étiquettes',
    'q.good': 'bonne', 'q.fair': 'moyenne', 'q.poor': 'mauvaise',
    'page.prev': '← Précédents', 'page.next': 'Suivants →', 'page.n': 'Page {n}',
    'row.label': 'Appel {id} du {date} à {time}',
    'call.back': '← Retour aux résultats', 'call.title': 'Appel {id}',
    'call.loading': 'Chargement de l\'appel…', 'call.missing': 'Cet appel n\'existe pas.',
    'call.error': 'Erreur : ', 'call.no_recording': 'Cet appel n\'a pas d\'enregistrement.',
    'call.ladder': 'Signalisation SIP', 'call.wave': 'Forme d\'onde de l\'enregistrement',
    'call.date': 'Date', 'call.caller': 'Appelant', 'call.callee': 'Appelé',
    'call.duration': 'Durée', 'call.direction': 'Sens', 'call.status': 'État',
    'call.quality': 'Qualité (MOS le plus bas)', 'call.hold': 'Conservation légale',
    'call.hold.on': 'oui, depuis le {since} ({user})', 'call.hold.off': 'non',
    'legend': 'Repères : DTMF (orange), attente et reprise (violet), silence de plus d\'une seconde (gris).',
    'ladder.time': 'Heure', 'ladder.empty': 'Aucun message SIP.',
    'tags.title': 'Étiquettes', 'tags.new': 'Nouvelle étiquette', 'tags.add': 'Ajouter',
    'tags.none': 'Aucune étiquette.', 'tags.remove': 'Retirer l\'étiquette {tag}',
    'tags.bad': 'Une étiquette : 1 à 31 lettres, chiffres, « _ », « - » ou « . ».',
    'tags.added': 'Étiquette ajoutée.', 'tags.removed': 'Étiquette retirée.',
    'notes.title': 'Notes', 'notes.new': 'Nouvelle note', 'notes.add': 'Ajouter la note',
    'notes.none': 'Aucune note.', 'notes.delete': 'Supprimer', 'notes.added': 'Note ajoutée.',
    'notes.deleted': 'Note supprimée.', 'notes.by': '{user}, le {date} à {time}',
    'audit.title': 'Auditeur', 'export.title': 'Exporter l\'appel',
    'export.case': 'Référence du dossier', 'export.hold': 'Placer aussi sous conservation légale',
    'export.submit': 'Exporter (zip)', 'export.busy': 'Préparation de l\'export…',
    'export.done': 'Export téléchargé.',
    'export.absent': 'L\'export n\'est pas disponible sur ce serveur.',
    'hold.title': 'Conservation légale', 'hold.reason': 'Motif',
    'hold.set': 'Placer sous conservation légale', 'hold.lift': 'Lever la conservation légale',
    'hold.absent': 'La conservation légale n\'est pas disponible sur ce serveur.',
    'hold.done': 'Conservation légale mise à jour.',
    'trail.title': 'Journal d\'audit de l\'appel', 'trail.when': 'Quand',
    'trail.who': 'Qui', 'trail.what': 'Action', 'trail.detail': 'Détail',
    'trail.empty': 'Aucune entrée.',
    'alarms.one': 'Alarme : ', 'alarms.many': '{n} alarmes actives : ',
    'error.status': 'erreur {n}',
  },
  en: {
    'lang.label': 'Language', 'logout': 'Log out', 'nav.search': 'Search',
    'nav.retention': 'Retention',
    'nav.live': 'Calls in progress',
    'login.title': 'Log in', 'login.user': 'User', 'login.password': 'Password',
    'login.submit': 'Log in', 'login.busy': 'Logging in…',
    'login.locked': 'Too many failures: account locked for 15 minutes.',
    'login.bad': 'Wrong user or password.',
    'session.expired': 'Session expired: please log in again.',
    'search.title': 'Call search', 'search.q': 'Free text',
    'search.q.hint': 'name, number, tag, note', 'search.from': 'From', 'search.to': 'To',
    'search.number': 'Number', 'search.direction': 'Direction', 'search.status': 'Status',
    'search.min_duration': 'Min. duration (s)', 'search.tag': 'Tag',
    'search.submit': 'Search', 'search.busy': 'Searching…',
    'search.failed': 'The search failed: ', 'search.count': '{n} call(s) on this page.',
    'search.forbidden': 'Your role does not allow searching calls.',
    'any': 'any',
    'dir.inbound': 'inbound', 'dir.outbound': 'outbound', 'dir.internal': 'internal',
    'dir.unknown': 'unknown',
    'st.answered': 'answered', 'st.cancelled': 'cancelled', 'st.busy': 'busy',
    'st.rejected': 'rejected', 'st.failed': 'failed', 'st.timeout': 'no answer',
    'st.in_progress': 'in progress',
    'results.caption': 'Calls found', 'results.empty': 'No call matches these criteria.',
    'col.date': 'Date', 'col.time': 'Time', 'col.caller': 'Caller', 'col.callee': 'Callee',
    'col.duration': 'Duration', 'col.direction': 'Direction', 'col.status': 'Status',
    'col.quality': 'Quality', 'col.tags': 'Tags',
    'q.good': 'good', 'q.fair': 'fair', 'q.poor': 'poor',
    'page.prev': '← Previous', 'page.next': 'Next →', 'page.n': 'Page {n}',
    'row.label': 'Call {id} on {date} at {time}',
    'call.back': '← Back to the results', 'call.title': 'Call {id}',
    'call.loading': 'Loading the call…', 'call.missing': 'There is no such call.',
    'call.error': 'Error: ', 'call.no_recording': 'This call has no recording.',
    'call.ladder': 'SIP signalling', 'call.wave': 'Waveform of the recording',
    'call.date': 'Date', 'call.caller': 'Caller', 'call.callee': 'Callee',
    'call.duration': 'Duration', 'call.direction': 'Direction', 'call.status': 'Status',
    'call.quality': 'Quality (lowest MOS)', 'call.hold': 'Legal hold',
    'call.hold.on': 'yes, since {since} ({user})', 'call.hold.off': 'no',
    'legend': 'Markers: DTMF (orange), hold and resume (purple), silence over one second (grey).',
    'ladder.time': 'Time', 'ladder.empty': 'No SIP message.',
    'tags.title': 'Tags', 'tags.new': 'New tag', 'tags.add': 'Add',
    'tags.none': 'No tag.', 'tags.remove': 'Remove tag {tag}',
    'tags.bad': 'A tag is 1 to 31 letters, digits, "_", "-" or ".".',
    'tags.added': 'Tag added.', 'tags.removed': 'Tag removed.',
    'notes.title': 'Notes', 'notes.new': 'New note', 'notes.add': 'Add note',
    'notes.none': 'No note.', 'notes.delete': 'Delete', 'notes.added': 'Note added.',
    'notes.deleted': 'Note deleted.', 'notes.by': '{user}, {date} at {time}',
    'audit.title': 'Auditor', 'export.title': 'Export the call',
    'export.case': 'Case reference', 'export.hold': 'Also place under legal hold',
    'export.submit': 'Export (zip)', 'export.busy': 'Preparing the export…',
    'export.done': 'Export downloaded.',
    'export.absent': 'Export is not available on this server.',
    'hold.title': 'Legal hold', 'hold.reason': 'Reason',
    'hold.set': 'Place under legal hold', 'hold.lift': 'Lift the legal hold',
    'hold.absent': 'Legal hold is not available on this server.',
    'hold.done': 'Legal hold updated.',
    'trail.title': 'Audit trail of the call', 'trail.when': 'When', 'trail.who': 'Who',
    'trail.what': 'Action', 'trail.detail': 'Detail', 'trail.empty': 'No entry.',
    'alarms.one': 'Alarm: ', 'alarms.many': '{n} active alarms: ',
    'error.status': 'error {n}',
  },
};

let lang = 'fr';

function t(key, vars) {
  let s = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.fr[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split('{' + k + '}').join(String(v));
  return s;
}

// Static texts of the page: elements carrying data-i18n (text), data-i18n-placeholder.
function applyLanguage() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]'))
    el.placeholder = t(el.dataset.i18nPlaceholder);
  $('wave').setAttribute('aria-label', t('call.wave'));
  $('wave-legend').textContent = t('legend');
  $('lang').value = lang;
}

function setLanguage(l) {
  lang = STRINGS[l] ? l : 'fr';
  try { localStorage.setItem('greffier.lang', lang); } catch (e) { /* private mode */ }
  applyLanguage();
  pollAlarms();
  // Redraw what was built from data in the old language.
  if (!$('view-search').hidden && state.csrf) loadResults();
  else if (!$('view-call').hidden && state.call) renderCall(state.call);
}

function say(text, error) {
  const s = $('status');
  s.textContent = text || '';
  s.className = error ? 'error' : '';
}

// fetch with the session cookie and CSRF header; returns {body, headers}.
async function apiFull(path, options) {
  const opts = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
  if (opts.method && opts.method !== 'GET' && state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
  if (opts.json !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  const r = await fetch(path, opts);
  if (r.status === 401 && path !== '/api/login') {
    showLogin();
    throw new Error(t('session.expired'));
  }
  let body = null;
  const type = r.headers.get('Content-Type') || '';
  if (type.startsWith('application/json')) body = await r.json();
  else if (opts.blob && r.ok) body = await r.blob();
  if (!r.ok) {
    const e = new Error(body && body.message ? body.message : t('error.status', { n: r.status }));
    e.status = r.status;
    throw e;
  }
  return { body, headers: r.headers };
}

async function api(path, options) {
  return (await apiFull(path, options)).body;
}

function show(view) {
  for (const v of ['login', 'search', 'call', 'retention', 'rules']) $('view-' + v).hidden = v !== view;
}

function showLogin() {
  state.csrf = null;
  $('who').hidden = true;
  $('nav-search').hidden = true;
  $('nav-retention').hidden = true;
  $('nav-rules').hidden = true;
  $('alarms').hidden = true;
  if (state.alarmTimer) { clearInterval(state.alarmTimer); state.alarmTimer = null; }
  show('login');
  $('login-user').focus();
}

function setIdentity(me) {
  state.csrf = me.csrf;
  state.user = me.user;
  state.role = me.role;
  $('who-name').textContent = me.user + ' (' + me.role + ')';
  $('who').hidden = false;
  $('nav-search').hidden = me.role === 'admin';
  $('nav-retention').hidden = me.role !== 'admin';
  pollAlarms();
  if (!state.alarmTimer) state.alarmTimer = setInterval(pollAlarms, 30000);
}

// The banner: active alarms only, for every role.
async function pollAlarms() {
  if (!state.csrf) return;
  try {
    const a = await api('/api/alarms');
    const active = ((a && a.alarms) || []).filter((x) => x.active);
    const box = $('alarms');
    box.textContent = '';
    box.hidden = active.length === 0;
    if (!active.length) return;
    const head = document.createElement('strong');
    head.textContent = active.length === 1 ? t('alarms.one') : t('alarms.many', { n: active.length });
    box.appendChild(head);
    for (const x of active) {
      const span = document.createElement('span');
      span.className = 'alarm ' + (x.severity === 'error' ? 'sev-error' : 'sev-warning');
      span.textContent = x.name + ' — ' + x.message;
      box.appendChild(span);
    }
  } catch (e) { /* the banner is best effort; the next poll tries again */ }
}

async function login(ev) {
  ev.preventDefault();
  say(t('login.busy'));
  try {
    const me = await api('/api/login', {
      method: 'POST',
      json: { user: $('login-user').value, password: $('login-password').value },
    });
    $('login-password').value = '';
    setIdentity(me);
    say('');
    route();
  } catch (e) {
    say(e.status === 429 ? t('login.locked') : e.status === 401 ? t('login.bad') : e.message, true);
  }
}

async function logout() {
  try { await api('/api/logout', { method: 'POST' }); } catch (e) { /* already out */ }
  location.hash = '#/search';
  showLogin();
}

function pad(n) { return String(n).padStart(2, '0'); }

// Local date and time of an ISO 8601 UTC instant.
function dateParts(iso) {
  const d = new Date(iso);
  if (!iso || isNaN(d)) return ['—', '—'];
  return [d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()),
          pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds())];
}

function duration(s) {
  if (s === null || s === undefined) return '—';
  const v = Math.round(s);
  return Math.floor(v / 60) + ':' + pad(v % 60);
}

// MOS 1 to 4.5 as a word and the figure (ITU-T G.107 bands, roughly).
function quality(mos) {
  if (mos === null || mos === undefined) return { text: '—', cls: '' };
  const word = mos >= 4 ? 'good' : mos >= 3.1 ? 'fair' : 'poor';
  return { text: t('q.' + word) + ' (' + Number(mos).toFixed(1) + ')', cls: 'q-' + word };
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined || text === '' ? '—' : text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function party(number, name) {
  return name ? (number || '—') + ' (' + name + ')' : number;
}

function searchQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
  q.set('limit', state.perPage);
  const c = state.cursors[state.page];
  if (c) q.set('cursor', c);
  return q;
}

function localToIso(v) {
  if (!v) return '';
  const d = new Date(v);
  return isNaN(d) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function search(ev) {
  if (ev) ev.preventDefault();
  state.page = 0;
  state.cursors = [null];
  state.filters = {
    q: $('f-q').value.trim(), from: localToIso($('f-from').value), to: localToIso($('f-to').value),
    number: $('f-number').value.trim(), direction: $('f-direction').value,
    status: $('f-status').value, min_duration: $('f-min-duration').value.trim(),
    tag: $('f-tag').value.trim(),
  };
  if (location.hash !== '#/search') location.hash = '#/search';
  await loadResults();
}

function openRow(id) { location.hash = '#/call/' + id; }

async function loadResults() {
  show('search');
  say(t('search.busy'));
  const body = $('results').tBodies[0];
  body.textContent = '';
  $('empty').hidden = true;
  try {
    const r = await apiFull('/api/calls?' + searchQuery().toString());
    const calls = r.body || [];
    for (const c of calls) {
      const tr = document.createElement('tr');
      const [date, time] = dateParts(c.start);
      cell(tr, date);
      cell(tr, time);
      cell(tr, party(c.caller, c.caller_name));
      cell(tr, party(c.callee, c.callee_name));
      cell(tr, duration(c.duration_s), 'num');
      cell(tr, t('dir.' + c.direction));
      cell(tr, t('st.' + c.status));
      const q = quality(c.mos_min);
      cell(tr, q.text, q.cls);
      cell(tr, (c.tags || []).join(', '));
      tr.tabIndex = 0;
      tr.dataset.id = c.id;
      tr.setAttribute('aria-label', t('row.label', { id: c.id, date, time }));
      tr.addEventListener('click', () => openRow(c.id));
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openRow(c.id); }
      });
      body.appendChild(tr);
    }
    const next = r.headers.get('X-Next-Cursor');
    state.cursors[state.page + 1] = next || undefined;
    $('empty').hidden = calls.length > 0;
    $('prev').disabled = state.page === 0;
    $('next').disabled = !next;
    $('page').textContent = t('page.n', { n: state.page + 1 });
    say(calls.length ? t('search.count', { n: calls.length }) : '');
  } catch (e) {
    say(t('search.failed') + e.message, true);
  }
}

function fact(dl, term, value) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value === null || value === undefined || value === '' ? '—' : value;
  dl.append(dt, dd);
}

// Waveform: one column per bucket, channel 0 above the middle line, channel 1 below;
// grey bands where both channels are silent for over a second (gaps), and markers for
// DTMF digits and hold/resume at their offsets.
function drawWave(peaks, events, durationS) {
  const cv = $('wave');
  const w = cv.width = cv.clientWidth || 900;
  const h = cv.height;
  const g = cv.getContext('2d');
  g.clearRect(0, 0, w, h);
  const mm = peaks.min_max || [];
  const buckets = Math.floor(mm.length / 4);
  if (!buckets) return;
  const per = peaks.per_second || 1;
  const mid = h / 2;
  const total = durationS || buckets / per;
  const amp = (b, ch) => Math.max(Math.abs(mm[b * 4 + ch * 2]), Math.abs(mm[b * 4 + ch * 2 + 1])) / 128;

  g.fillStyle = '#e2e2e2';
  for (let b = 0; b < buckets;) {
    let e = b;
    while (e < buckets && amp(e, 0) < 0.01 && amp(e, 1) < 0.01) e++;
    if (e - b > per) g.fillRect(b / buckets * w, 0, Math.max(1, (e - b) / buckets * w), h);
    b = Math.max(e, b + 1);
  }
  const colors = ['#2b6cb0', '#2f855a'];
  for (let x = 0; x < w; x++) {
    const b = Math.min(buckets - 1, Math.floor(x * buckets / w));
    for (let ch = 0; ch < 2; ch++) {
      g.fillStyle = colors[ch];
      const len = Math.max(1, amp(b, ch) * (mid - 2));
      if (ch === 0) g.fillRect(x, mid - len, 1, len);
      else g.fillRect(x, mid, 1, len);
    }
  }
  g.font = '11px sans-serif';
  let markers = 0;
  for (const ev of events || []) {
    if (ev.offset_s === null || ev.offset_s === undefined) continue;
    if (!/^(dtmf|hold|resume|gap)/.test(ev.kind)) continue;
    const x = Math.round(ev.offset_s / total * w);
    const dtmf = ev.kind.startsWith('dtmf');
    g.fillStyle = dtmf ? '#c05621' : ev.kind === 'gap' ? '#718096' : '#6b46c1';
    g.fillRect(x, 0, 2, h);
    g.fillText(dtmf ? (ev.detail || 'DTMF') : ev.kind, x + 3, 11 + (markers % 3) * 12);
    markers++;
  }
  cv.dataset.drawn = String(buckets);
  cv.dataset.markers = String(markers);
}

// The SIP ladder: one column per endpoint (in order of appearance), one row per message
// with an arrow from its source to its destination.
function drawLadder(messages) {
  const table = $('ladder');
  table.textContent = '';
  if (!messages.length) {
    const cap = table.createCaption();
    cap.textContent = t('ladder.empty');
    return;
  }
  const ends = [];
  for (const m of messages) for (const e of [m.src, m.dst]) if (!ends.includes(e)) ends.push(e);
  const head = table.createTHead().insertRow();
  const th0 = document.createElement('th');
  th0.textContent = t('ladder.time');
  head.appendChild(th0);
  for (const e of ends) {
    const th = document.createElement('th');
    th.textContent = e;
    th.colSpan = 2;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const m of messages) {
    const tr = body.insertRow();
    if (m.retransmission) tr.className = 'retrans';
    const [, time] = dateParts(m.ts);
    const ms = m.ts && m.ts.length >= 23 ? m.ts.substr(19, 4) : '';
    cell(tr, time + ms);
    const a = ends.indexOf(m.src), b = ends.indexOf(m.dst);
    const lo = Math.min(a, b), hi = Math.max(a, b);
    // Each endpoint owns two half-columns; the arrow spans from the middle of one to
    // the middle of the other.
    let col = 0;
    const span = (n, cls, text) => {
      if (n <= 0) return;
      const td = tr.insertCell();
      td.colSpan = n;
      if (cls) td.className = cls;
      if (text) td.textContent = text;
    };
    span(lo * 2 + 1, 'lane');
    col = lo * 2 + 1;
    const width = Math.max(1, (hi - lo) * 2);
    const label = (m.start_line || '').replace(/ SIP\/2\.0$/, '').replace(/^SIP\/2\.0 /, '');
    span(width, 'arrow ' + (a <= b ? 'right' : 'left'), a <= b ? label + ' →' : '← ' + label);
    col += width;
    span(ends.length * 2 - col, 'lane');
  }
}

function renderTags(c) {
  const ul = $('tag-list');
  ul.textContent = '';
  for (const tag of c.tags || []) {
    const li = document.createElement('li');
    li.textContent = tag + ' ';
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = '×';
    b.className = 'chip-x';
    b.setAttribute('aria-label', t('tags.remove', { tag }));
    b.addEventListener('click', () => removeTag(tag));
    li.appendChild(b);
    ul.appendChild(li);
  }
  if (!(c.tags || []).length) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = t('tags.none');
    ul.appendChild(li);
  }
}

function renderNotes(c) {
  const ul = $('note-list');
  ul.textContent = '';
  for (const n of c.notes || []) {
    const li = document.createElement('li');
    const p = document.createElement('p');
    p.className = 'note-text';
    p.textContent = n.text;
    const [date, time] = dateParts(n.ts);
    const by = document.createElement('small');
    by.textContent = t('notes.by', { user: n.user, date, time }) + ' ';
    li.append(p, by);
    if (n.user === state.user || state.role === 'admin') {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = t('notes.delete');
      b.addEventListener('click', () => deleteNote(n.id));
      li.appendChild(b);
    }
    ul.appendChild(li);
  }
  if (!(c.notes || []).length) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = t('notes.none');
    ul.appendChild(li);
  }
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// Export and legal hold exist only for auditors: built here, never present in the page
// of another role.
function renderAuditorTools(c) {
  const slot = $('auditor-slot');
  slot.textContent = '';
  if (state.role !== 'auditor') return;
  const box = el('section', { class: 'box', id: 'auditor-tools' });
  box.appendChild(el('h3', {}, t('export.title')));
  const f = el('form', { id: 'export-form' });
  const l1 = el('label');
  l1.append(el('span', {}, t('export.case')), el('input', { id: 'export-case', required: '', maxlength: '64' }));
  const l2 = el('label', { class: 'inline' });
  l2.append(el('input', { id: 'export-hold', type: 'checkbox' }), el('span', {}, t('export.hold')));
  f.append(l1, l2, el('button', { type: 'submit', id: 'export-button' }, t('export.submit')));
  f.addEventListener('submit', (ev) => { ev.preventDefault(); exportCall(c.id); });
  box.appendChild(f);

  box.appendChild(el('h3', {}, t('hold.title')));
  const held = !!holdOf(c);
  const h = el('form', { id: 'hold-form' });
  const l3 = el('label');
  l3.append(el('span', {}, t('hold.reason')), el('input', { id: 'hold-reason', maxlength: '400' }));
  if (!held) h.appendChild(l3);
  h.appendChild(el('button', { type: 'submit', id: 'hold-button' }, held ? t('hold.lift') : t('hold.set')));
  h.addEventListener('submit', (ev) => { ev.preventDefault(); toggleHold(c.id, held); });
  box.appendChild(h);

  box.appendChild(el('h3', {}, t('trail.title')));
  const trail = el('table', { id: 'call-trail' });
  box.appendChild(trail);
  slot.appendChild(box);
  loadTrail(c.id, trail);
}

// The audit rows about this call (who viewed, replayed, tagged, exported it).
async function loadTrail(id, table) {
  try {
    const rows = await api('/api/audit?limit=100&target=' + encodeURIComponent(id));
    const head = table.createTHead().insertRow();
    for (const k of ['trail.when', 'trail.who', 'trail.what', 'trail.detail']) {
      const th = document.createElement('th');
      th.textContent = t(k);
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      const [date, time] = dateParts(r.ts);
      cell(tr, date + ' ' + time);
      cell(tr, r.user);
      cell(tr, r.action);
      cell(tr, r.detail === '{}' ? '' : r.detail);
    }
    if (!rows.length) table.createCaption().textContent = t('trail.empty');
  } catch (e) { table.createCaption().textContent = t('call.error') + e.message; }
}

// The legal hold of a call: GET /api/calls/{id} gives it in its retention member.
function holdOf(c) {
  return c.retention ? c.retention.legal_hold : c.legal_hold;
}

function renderCall(c) {
  const dl = $('call-facts');
  dl.textContent = '';
  $('call-title').textContent = t('call.title', { id: c.id });
  const [date, time] = dateParts(c.start);
  fact(dl, t('call.date'), date + ' ' + time);
  fact(dl, t('call.caller'), party(c.caller, c.caller_name));
  fact(dl, t('call.callee'), party(c.callee, c.callee_name));
  fact(dl, t('call.duration'), duration(c.duration_s));
  fact(dl, t('call.direction'), t('dir.' + c.direction));
  fact(dl, t('call.status'), t('st.' + c.status) + (c.sip_code ? ' (' + c.sip_code + ')' : ''));
  fact(dl, t('call.quality'), quality(c.mos_min).text);
  if (holdOf(c) !== undefined) {
    const lh = holdOf(c);
    fact(dl, t('call.hold'), lh ? t('call.hold.on', { since: dateParts(lh.since).join(' '), user: lh.user }) : t('call.hold.off'));
  }
  drawLadder(c.sip_messages || []);
  renderTags(c);
  renderNotes(c);
  renderAuditorTools(c);
}

async function reloadCall(id, message) {
  const c = await api('/api/calls/' + encodeURIComponent(id));
  state.call = c;
  renderTags(c);
  renderNotes(c);
  renderAuditorTools(c);
  if (message) say(message);
}

async function addTag(ev) {
  ev.preventDefault();
  const tag = $('tag-input').value.trim();
  if (!/^[A-Za-z0-9_.-]{1,31}$/.test(tag)) { say(t('tags.bad'), true); return; }
  try {
    await api('/api/calls/' + state.call.id + '/tags', { method: 'POST', json: { tag } });
    $('tag-input').value = '';
    await reloadCall(state.call.id, t('tags.added'));
  } catch (e) { say(t('call.error') + e.message, true); }
}

async function removeTag(tag) {
  try {
    await api('/api/calls/' + state.call.id + '/tags/' + encodeURIComponent(tag), { method: 'DELETE' });
    await reloadCall(state.call.id, t('tags.removed'));
  } catch (e) { say(t('call.error') + e.message, true); }
}

async function addNote(ev) {
  ev.preventDefault();
  const text = $('note-input').value;
  try {
    await api('/api/calls/' + state.call.id + '/notes', { method: 'POST', json: { text } });
    $('note-input').value = '';
    await reloadCall(state.call.id, t('notes.added'));
  } catch (e) { say(t('call.error') + e.message, true); }
}

async function deleteNote(id) {
  try {
    await api('/api/calls/' + state.call.id + '/notes/' + id, { method: 'DELETE' });
    await reloadCall(state.call.id, t('notes.deleted'));
  } catch (e) { say(t('call.error') + e.message, true); }
}

// The export endpoint answers a zip; 404 or 501 when this server has none.
async function exportCall(id) {
  const ref = $('export-case').value.trim();
  if (!ref) { $('export-case').focus(); return; }
  say(t('export.busy'));
  try {
    const r = await apiFull('/api/export', {
      method: 'POST', blob: true,
      json: { ids: String(id), case: ref, hold: $('export-hold').checked ? 'true' : 'false' },
    });
    const blob = r.body instanceof Blob ? r.body : new Blob([JSON.stringify(r.body)]);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'greffier-' + ref.replace(/[^A-Za-z0-9_.-]/g, '_') + '-' + id + '.zip';
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    say(t('export.done'));
    await reloadCall(id);
  } catch (e) {
    say(e.status === 404 || e.status === 501 || e.status === 405 ? t('export.absent')
                                                                  : t('call.error') + e.message, true);
  }
}

async function toggleHold(id, held) {
  try {
    const reason = held ? '' : (($('hold-reason') || {}).value || '').trim();
    await api('/api/calls/' + id + '/hold', held ? { method: 'DELETE', json: {} }
                                                 : { method: 'POST', json: { reason } });
    await reloadCall(id, t('hold.done'));
    const dl = $('call-facts');
    if (dl && state.call) renderCall(state.call);
  } catch (e) {
    say(e.status === 404 && /page/.test(e.message) || e.status === 501 || e.status === 405
        ? t('hold.absent') : t('call.error') + e.message, true);
  }
}

async function openCall(id) {
  show('call');
  say(t('call.loading'));
  $('call-title').textContent = t('call.title', { id });
  $('call-facts').textContent = '';
  $('ladder').textContent = '';
  $('auditor-slot').textContent = '';
  const player = $('player');
  player.removeAttribute('src');
  $('wave').dataset.drawn = '';
  state.call = null;
  try {
    const c = await api('/api/calls/' + encodeURIComponent(id));
    state.call = c;
    renderCall(c);
    const hasRec = !!c.recording;
    $('no-recording').hidden = hasRec;
    player.hidden = !hasRec;
    $('wave').hidden = !hasRec;
    $('wave-legend').hidden = !hasRec;
    if (hasRec) {
      player.src = '/api/calls/' + encodeURIComponent(id) + '/audio';
      try {
        const p = await api('/api/calls/' + encodeURIComponent(id) + '/peaks');
        drawWave(p, c.events, c.recording.duration_s);
      } catch (e) { /* the player still works without a waveform */ }
    }
    say('');
  } catch (e) {
    say(e.status === 404 ? t('call.missing') : t('call.error') + e.message, true);
  }
}

function route() {
  if (!state.csrf) { showLogin(); return; }
  if (typeof rulesRoute === 'function' && rulesRoute()) return; // rules.js
  if (typeof retentionRoute === 'function' && retentionRoute()) return; // retention.js
  const m = location.hash.match(/^#\/call\/(\d+)$/);
  if (m) openCall(m[1]);
  else if (location.hash === '#/retention' && state.role === 'admin') {
    show('retention');
    say('');
    document.dispatchEvent(new CustomEvent('greffier:retention', { detail: { csrf: state.csrf, lang } }));
  } else if (['supervisor', 'auditor'].includes(state.role)) loadResults();
  else { show('search'); say(t('search.forbidden'), true); }
}

async function start() {
  let saved = null;
  try { saved = localStorage.getItem('greffier.lang'); } catch (e) { /* private mode */ }
  lang = STRINGS[saved] ? saved : 'fr';
  applyLanguage();
  $('lang').addEventListener('change', () => setLanguage($('lang').value));
  $('login-form').addEventListener('submit', login);
  $('search-form').addEventListener('submit', search);
  $('tag-form').addEventListener('submit', addTag);
  $('note-form').addEventListener('submit', addNote);
  $('note-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) addNote(e);
  });
  $('logout').addEventListener('click', logout);
  $('prev').addEventListener('click', () => { if (state.page > 0) { state.page--; loadResults(); } });
  $('next').addEventListener('click', () => {
    if (state.cursors[state.page + 1]) { state.page++; loadResults(); }
  });
  window.addEventListener('hashchange', route);
  try {
    setIdentity(await api('/api/me'));
  } catch (e) { /* not logged in */ }
  route();
}

document.addEventListener('DOMContentLoaded', start);
