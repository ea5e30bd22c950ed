// greffier web interface: the retention page for admins (#/retention): what expires
// next, legal holds, purge proposals with their slips and the visa, purge history.
// Loaded after app.js, whose globals it uses ($, state, api, say); app.js's route()
// hands #/retention to retentionRoute().  Every text goes in through textContent.
'use strict';

const RETENTION_REASONS = { retention: 'durée échue', erasure: 'effacement sur demande',
  disk_full: 'disque plein', discarded: 'écarté' };
const PROPOSAL_STATES = { pending: 'en attente du visa', approved: 'visée',
  executed: 'exécutée', cancelled: 'annulée' };

function retEl(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function retDate(iso) {
  return iso ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC') : '—';
}

function retBytes(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(1) + ' Go';
  if (n >= 1e6) return (n / 1e6).toFixed(1) + ' Mo';
  if (n >= 1e3) return (n / 1e3).toFixed(1) + ' ko';
  return n + ' o';
}

function retTable(id, head, rows) {
  const t = $(id);
  t.replaceChildren();
  const tr = retEl('tr');
  for (const h of head) tr.appendChild(retEl('th', h));
  t.appendChild(retEl('thead')).appendChild(tr);
  const body = t.appendChild(retEl('tbody'));
  for (const r of rows) {
    const row = body.appendChild(retEl('tr'));
    for (const c of r) {
      const td = row.appendChild(retEl('td'));
      if (c instanceof Node) td.appendChild(c);
      else td.textContent = c;
    }
  }
  if (!rows.length) {
    const td = body.appendChild(retEl('tr')).appendChild(retEl('td', 'Aucun.'));
    td.colSpan = head.length;
  }
}

function retProposalCell(p) {
  const box = retEl('span');
  for (const fmt of ['html', 'csv']) {
    box.appendChild(retEl('a', 'bordereau ' + fmt.toUpperCase(),
      { href: '/api/purge/proposals/' + p.id + '/slip.' + fmt, target: '_blank' }));
    box.appendChild(document.createTextNode(' '));
  }
  if (p.state !== 'pending') return box;
  const form = retEl('form', null, { class: 'visa' });
  const input = retEl('input', null, { placeholder: 'référence du visa', required: '' });
  form.appendChild(input);
  form.appendChild(retEl('button', 'Enregistrer le visa et éliminer', { type: 'submit' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!confirm('Éliminer définitivement les ' + p.calls + ' enregistrements de la proposition n° ' +
                 p.id + ' ?')) return;
    try {
      const r = await api('/api/purge/proposals/' + p.id + '/approve', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ visa: input.value }),
      });
      say(r.purged + ' appels éliminés (proposition n° ' + p.id + ').');
      retentionLoad();
    } catch (e) { say('Erreur : ' + e.message, true); }
  });
  box.appendChild(form);
  return box;
}

async function retentionPurge(dryRun) {
  try {
    const r = await api('/api/purge', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ dry_run: dryRun ? 'true' : 'false' }),
    });
    say(dryRun ? r.calls.length + ' appels seraient supprimés.' : r.purged + ' appels supprimés.');
    if (!dryRun) retentionLoad();
  } catch (e) { say('Erreur : ' + e.message, true); }
}

async function retentionPropose() {
  try {
    const r = await api('/api/purge/proposals', { method: 'POST' });
    say(r.id ? 'Proposition n° ' + r.id + ' : ' + r.calls + ' appels.' :
               'Aucun appel échu hors proposition.');
    retentionLoad();
  } catch (e) { say('Erreur : ' + e.message, true); }
}

async function retentionLoad() {
  let o;
  try {
    o = await api('/api/retention');
  } catch (e) {
    say(e.status === 403 ? 'Page réservée aux administrateurs.' : 'Erreur : ' + e.message, true);
    return;
  }
  $('ret-summary').textContent = 'Durée par défaut : ' + o.default_days + ' jours. ' +
    (o.approval_required ? 'Les éliminations demandent le visa du service d\'archives. ' : '') +
    'Base légale : ' + o.legal_basis;
  $('ret-purge').hidden = o.approval_required;
  retTable('ret-rules', ['Règle', 'Appels', 'Volume', 'Échus', 'Prochaine échéance'],
    o.by_rule.map((g) => [g.rule, g.calls, retBytes(g.bytes), g.expired, retDate(g.next_expiry)]));
  retTable('ret-next', ['Appel', 'Début', 'Échéance', 'Règle', 'Volume'],
    o.next.map((c) => [retEl('a', c.id, { href: '#/call/' + c.id }), retDate(c.start),
      retDate(c.expires) + (c.expired ? ' (échu)' : ''), c.rule + ' (' + c.days + ' j)',
      retBytes(c.bytes)]));
  retTable('ret-holds', ['Appel', 'Depuis', 'Par', 'Motif'],
    o.legal_holds.map((h) => [retEl('a', h.call, { href: '#/call/' + h.call }),
      retDate(h.since), h.user, h.reason]));
  retTable('ret-proposals', ['N°', 'Créée', 'État', 'Appels', 'Période', 'Volume', 'Visa', ''],
    o.proposals.map((p) => [p.id, retDate(p.created), PROPOSAL_STATES[p.state] || p.state,
      p.calls, retDate(p.first_start) + ' → ' + retDate(p.last_start), retBytes(p.bytes),
      p.visa ? p.visa + ' (' + p.approved_by + ')' : '—', retProposalCell(p)]));
  retTable('ret-history', ['Jour', 'Motif', 'Appels', 'Enregistrements', 'Volume'],
    o.history.map((h) => [h.day, RETENTION_REASONS[h.reason] || h.reason, h.calls,
      h.recordings, retBytes(h.bytes)]));
  say('');
}

let retentionWired = false;

// Called by app.js's route(): true when it handled the page.
function retentionRoute() {
  const admin = state.csrf && state.role === 'admin';
  $('nav-retention').hidden = !admin;
  const here = location.hash === '#/retention';
  $('view-retention').hidden = !(here && admin);
  if (!here || !admin) return false;
  for (const v of ['login', 'search', 'call']) $('view-' + v).hidden = true;
  if (!retentionWired) {
    retentionWired = true;
    $('ret-dry-run').addEventListener('click', () => retentionPurge(true));
    $('ret-purge-now').addEventListener('click', () => {
      if (confirm('Supprimer définitivement les appels échus ?')) retentionPurge(false);
    });
    $('ret-propose').addEventListener('click', retentionPropose);
  }
  say('Chargement…');
  retentionLoad();
  return true;
}
