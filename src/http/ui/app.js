// greffier web interface: login, search, call page (player, waveform, SIP ladder).
// No framework, no third-party code: the page's CSP allows only this origin.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { csrf: null, user: null, role: null, page: 0, perPage: 50, filters: {} };

const STATUS = {
  answered: 'répondu', cancelled: 'annulé', busy: 'occupé', rejected: 'rejeté',
  failed: 'échec', timeout: 'sans réponse', in_progress: 'en cours',
};
const DIRECTION = { inbound: 'entrant', outbound: 'sortant', internal: 'interne', unknown: 'inconnu' };

function say(text, error) {
  const s = $('status');
  s.textContent = text || '';
  s.className = error ? 'error' : '';
}

async function api(path, options) {
  const opts = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
  if (opts.method && opts.method !== 'GET' && state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
  const r = await fetch(path, opts);
  if (r.status === 401 && path !== '/api/login') {
    showLogin();
    throw new Error('Session expirée : reconnectez-vous.');
  }
  let body = null;
  const type = r.headers.get('Content-Type') || '';
  if (type.startsWith('application/json')) body = await r.json();
  if (!r.ok) {
    const msg = body && body.message ? body.message : 'erreur ' + r.status;
    const e = new Error(msg);
    e.status = r.status;
    throw e;
  }
  return body;
}

function show(view) {
  for (const v of ['login', 'search', 'call']) $('view-' + v).hidden = v !== view;
}

function showLogin() {
  state.csrf = null;
  $('who').hidden = true;
  show('login');
  $('login-user').focus();
}

function setIdentity(me) {
  state.csrf = me.csrf;
  state.user = me.user;
  state.role = me.role;
  $('who-name').textContent = me.user + ' (' + me.role + ')';
  $('who').hidden = false;
}

async function login(ev) {
  ev.preventDefault();
  say('Connexion…');
  try {
    const me = await api('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: $('login-user').value, password: $('login-password').value }),
    });
    $('login-password').value = '';
    setIdentity(me);
    say('');
    route();
  } catch (e) {
    say(e.status === 429 ? 'Trop d\'échecs : compte bloqué 15 minutes.' :
        e.status === 401 ? 'Utilisateur ou mot de passe incorrect.' : e.message, true);
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
  if (isNaN(d)) return ['—', '—'];
  return [d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()),
          pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds())];
}

function duration(s) {
  if (s === null || s === undefined) return '—';
  const t = Math.round(s);
  return Math.floor(t / 60) + ':' + pad(t % 60);
}

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined || text === '' ? '—' : text;
  tr.appendChild(td);
}

function searchQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
  q.set('limit', state.perPage);
  q.set('offset', state.page * state.perPage);
  return q;
}

function localToIso(v) {
  if (!v) return '';
  const d = new Date(v);
  return isNaN(d) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function search(ev) {
  if (ev) { ev.preventDefault(); state.page = 0; }
  state.filters = {
    from: localToIso($('f-from').value), to: localToIso($('f-to').value),
    number: $('f-number').value.trim(), status: $('f-status').value,
  };
  await loadResults();
}

async function loadResults() {
  show('search');
  say('Recherche…');
  const body = $('results').tBodies[0];
  body.textContent = '';
  try {
    const calls = await api('/api/calls?' + searchQuery().toString());
    for (const c of calls) {
      const tr = document.createElement('tr');
      const [date, time] = dateParts(c.start);
      cell(tr, date);
      cell(tr, time);
      cell(tr, c.caller_name ? c.caller + ' (' + c.caller_name + ')' : c.caller);
      cell(tr, c.callee_name ? c.callee + ' (' + c.callee_name + ')' : c.callee);
      cell(tr, duration(c.duration_s));
      cell(tr, DIRECTION[c.direction] || c.direction);
      cell(tr, STATUS[c.status] || c.status);
      tr.tabIndex = 0;
      tr.dataset.id = c.id;
      tr.setAttribute('aria-label', 'Appel ' + c.id + ' du ' + date + ' à ' + time);
      tr.addEventListener('click', () => { location.hash = '#/call/' + c.id; });
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); location.hash = '#/call/' + c.id; }
      });
      body.appendChild(tr);
    }
    $('empty').hidden = calls.length > 0;
    $('prev').disabled = state.page === 0;
    $('next').disabled = calls.length < state.perPage;
    $('page').textContent = 'Page ' + (state.page + 1);
    say(calls.length ? calls.length + ' appel(s).' : '');
  } catch (e) {
    say('La recherche a échoué : ' + e.message, true);
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
// markers for DTMF digits and hold/resume at their offsets.
function drawWave(peaks, events, durationS) {
  const cv = $('wave');
  const w = cv.width = cv.clientWidth || 900;
  const h = cv.height;
  const g = cv.getContext('2d');
  g.clearRect(0, 0, w, h);
  const mm = peaks.min_max || [];
  const buckets = Math.floor(mm.length / 4);
  if (!buckets) return;
  const mid = h / 2;
  const colors = ['#2b6cb0', '#2f855a'];
  for (let x = 0; x < w; x++) {
    const b = Math.min(buckets - 1, Math.floor(x * buckets / w));
    for (let ch = 0; ch < 2; ch++) {
      const lo = mm[b * 4 + ch * 2] / 128;
      const hi = mm[b * 4 + ch * 2 + 1] / 128;
      const amp = Math.max(Math.abs(lo), Math.abs(hi));
      g.fillStyle = colors[ch];
      const len = Math.max(1, amp * (mid - 2));
      if (ch === 0) g.fillRect(x, mid - len, 1, len);
      else g.fillRect(x, mid, 1, len);
    }
  }
  const total = durationS || buckets / (peaks.per_second || 1);
  g.font = '11px sans-serif';
  for (const ev of events || []) {
    if (ev.offset_s === null || ev.offset_s === undefined) continue;
    if (!/dtmf|hold|resume/.test(ev.kind)) continue;
    const x = Math.round(ev.offset_s / total * w);
    g.fillStyle = ev.kind.startsWith('dtmf') ? '#c05621' : '#6b46c1';
    g.fillRect(x, 0, 2, h);
    g.fillText(ev.kind.startsWith('dtmf') ? (ev.detail || 'DTMF') : ev.kind, x + 3, 11);
  }
  cv.dataset.drawn = String(buckets);
}

async function openCall(id) {
  show('call');
  say('Chargement de l\'appel…');
  $('call-title').textContent = 'Appel ' + id;
  const dl = $('call-facts');
  dl.textContent = '';
  $('ladder').textContent = '';
  const player = $('player');
  player.removeAttribute('src');
  $('wave').dataset.drawn = '';
  try {
    const c = await api('/api/calls/' + encodeURIComponent(id));
    const [date, time] = dateParts(c.start);
    fact(dl, 'Date', date + ' ' + time);
    fact(dl, 'Appelant', c.caller);
    fact(dl, 'Appelé', c.callee);
    fact(dl, 'Durée', duration(c.duration_s));
    fact(dl, 'Sens', DIRECTION[c.direction] || c.direction);
    fact(dl, 'État', (STATUS[c.status] || c.status) + (c.sip_code ? ' (' + c.sip_code + ')' : ''));
    for (const m of c.sip_messages || []) {
      const li = document.createElement('li');
      const [, t] = dateParts(m.ts);
      li.textContent = t + '  ' + m.src + ' → ' + m.dst + '  ' + (m.start_line || '');
      $('ladder').appendChild(li);
    }
    const hasRec = !!c.recording;
    $('no-recording').hidden = hasRec;
    player.hidden = !hasRec;
    $('wave').hidden = !hasRec;
    if (hasRec) {
      player.src = '/api/calls/' + encodeURIComponent(id) + '/audio';
      try {
        const p = await api('/api/calls/' + encodeURIComponent(id) + '/peaks');
        drawWave(p, c.events, c.recording.duration_s);
      } catch (e) { /* the player still works without a waveform */ }
    }
    say('');
  } catch (e) {
    say(e.status === 404 ? 'Cet appel n\'existe pas.' : 'Erreur : ' + e.message, true);
  }
}

function route() {
  if (!state.csrf) { showLogin(); return; }
  if (typeof retentionRoute === 'function' && retentionRoute()) return; // retention.js
  const m = location.hash.match(/^#\/call\/(\d+)$/);
  if (m) openCall(m[1]);
  else if (['supervisor', 'auditor'].includes(state.role)) loadResults();
  else { show('search'); say('Votre rôle ne permet pas la recherche d\'appels.', true); }
}

async function start() {
  $('login-form').addEventListener('submit', login);
  $('search-form').addEventListener('submit', search);
  $('logout').addEventListener('click', logout);
  $('prev').addEventListener('click', () => { if (state.page > 0) { state.page--; loadResults(); } });
  $('next').addEventListener('click', () => { state.page++; loadResults(); });
  window.addEventListener('hashchange', route);
  try {
    setIdentity(await api('/api/me'));
  } catch (e) { /* not logged in */ }
  route();
}

document.addEventListener('DOMContentLoaded', start);
