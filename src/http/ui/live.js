// greffier web interface: the on-demand calls in progress (GET /api/calls/live) with
// their keep / discard / malicious buttons (docs/API.md).  The session comes from the
// main page's login; without one, the page sends the user there.  No framework.
'use strict';

const $ = (id) => document.getElementById(id);
const DECISION = { pending: 'en attente', kept: 'conservé', discarded: 'supprimé' };
const DIRECTION = {
  inbound: 'entrant', outbound: 'sortant', internal: 'interne', unknown: 'inconnu',
};
const ACTIONS = [
  ['keep', 'Conserver'], ['discard', 'Supprimer'], ['malicious', 'Malveillant'],
];
let csrf = null;

function say(text, error) {
  $('status').textContent = text || '';
  $('status').className = error ? 'error' : '';
}

async function api(path, method) {
  const headers = {};
  if (method && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, { method: method || 'GET', credentials: 'same-origin', headers });
  if (r.status === 401) {
    window.location.href = '/';
    throw new Error('not logged in');
  }
  const body = (r.headers.get('Content-Type') || '').startsWith('application/json')
    ? await r.json() : null;
  if (!r.ok) throw new Error((body && body.message) || ('HTTP ' + r.status));
  return body;
}

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text == null ? '—' : String(text);
  tr.appendChild(td);
  return td;
}

async function decide(id, action, label) {
  if (action !== 'keep' && !window.confirm(label + ' l\u2019appel ' + id + ' ?')) return;
  try {
    const r = await api('/api/calls/' + encodeURIComponent(id) + '/' + action, 'POST');
    say('Appel ' + id + ' : ' + r.state);
    refresh();
  } catch (e) {
    say('Appel ' + id + ' : ' + e.message, true);
  }
}

function render(calls) {
  const tbody = $('live-rows');
  tbody.textContent = '';
  $('live-empty').hidden = calls.length > 0;
  for (const c of calls) {
    const tr = document.createElement('tr');
    cell(tr, c.start ? new Date(c.start).toLocaleTimeString('fr-FR') : null);
    cell(tr, c.caller);
    cell(tr, c.callee);
    cell(tr, DIRECTION[c.direction] || c.direction);
    cell(tr, c.rule);
    const d = c.on_demand ? c.on_demand.decision : null;
    cell(tr, d ? (DECISION[d] || d) + (c.on_demand.by ? ' (' + c.on_demand.by + ')' : '') : null);
    const td = cell(tr, '');
    for (const [action, label] of ACTIONS) {
      if (action !== 'malicious' && d !== 'pending') continue;
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', () => decide(c.id, action, label));
      td.appendChild(b);
    }
    tbody.appendChild(tr);
  }
}

async function refresh() {
  try {
    render(await api('/api/calls/live'));
  } catch (e) {
    say(e.message, true);
  }
}

async function start() {
  try {
    const me = await api('/api/me');
    csrf = me.csrf;
    $('who').textContent = me.user || '';
  } catch (e) {
    return;
  }
  refresh();
  setInterval(refresh, 2000);
}

start();
