// greffier web interface: the recording rules page for admins (#/rules): the running
// policy (never-record list, rules in order, defaults, on-demand codes) and a form that
// explains which rule decides a call.  Read-only: greffier.conf is the administrator's
// file, reviewed and reloaded by systemd; the page never writes it.
// Loaded after app.js, whose globals it uses ($, state, api, say, t, STRINGS, lang);
// app.js's route() hands #/rules to rulesRoute().  Every text goes in through
// textContent.
'use strict';

// This page's strings, merged into app.js's table so that t() and data-i18n find them.
const RULES_STRINGS = {
  fr: {
    'nav.rules': 'Règles',
    'rules.title': 'Règles d\'enregistrement',
    'rules.readonly': 'Lecture seule : les règles sont dans {path}. L\'administrateur modifie ' +
      'ce fichier, le fait relire, le vérifie (greffier config check) puis redémarre les ' +
      'services (systemctl restart greffier-capture greffier-web) ; cette page ne le modifie ' +
      'jamais et montre les règles lues au démarrage du serveur web.',
    'rules.sep': ' ; ', 'rules.none.short': '—',
    'rules.never.title': 'Jamais enregistrés',
    'rules.never.help': 'Ces numéros ne sont jamais enregistrés : cette liste prime sur ' +
      'toutes les règles ci-dessous.',
    'rules.never.none': 'Liste vide.',
    'rules.order.title': 'Règles, dans l\'ordre',
    'rules.order.help': 'Les règles sont lues dans l\'ordre du fichier : la première qui ' +
      'correspond à l\'appel décide, les suivantes sont ignorées.',
    'rules.none': 'Aucune règle : chaque appel reçoit le choix par défaut.',
    'rules.col.pos': 'N°', 'rules.col.name': 'Règle', 'rules.col.line': 'Ligne',
    'rules.col.conditions': 'Conditions', 'rules.col.decision': 'Décision',
    'rules.col.retention': 'Conservation', 'rules.col.tags': 'Étiquettes',
    'rules.defaults.title': 'Réglages généraux',
    'rules.tz': 'Fuseau horaire des règles', 'rules.tz.local': 'heure locale du serveur',
    'rules.default': 'Appel qu\'aucune règle ne couvre',
    'rules.metadata': 'Fiche des appels non enregistrés',
    'rules.metadata.yes': 'conservée (sans audio)', 'rules.metadata.no': 'non conservée',
    'rules.codes': 'Codes DTMF de l\'agent (à la demande)',
    'rules.codes.text': 'garder {keep}, écarter {discard}, appel malveillant {malicious}',
    'rules.code.none': '(aucun)',
    'rules.grace': 'Délai de décision après la fin d\'un appel à la demande',
    'rules.retention': 'Conservation par défaut', 'rules.retention.tags': 'Conservation par étiquette',
    'rules.days': '{n} jours', 'rules.general': 'générale', 'rules.seconds': '{n} s',
    'rules.any': 'tout appel',
    'rules.cond.caller': 'appelant', 'rules.cond.callee': 'appelé',
    'rules.cond.number': 'appelant ou appelé', 'rules.cond.directions': 'sens',
    'rules.cond.addresses': 'adresse', 'rules.cond.days': 'jours', 'rules.cond.hours': 'heures',
    'rules.act.record': 'enregistrer', 'rules.act.skip': 'ne pas enregistrer',
    'rules.act.sample': 'échantillon de {n} %', 'rules.act.on_demand': 'à la demande',
    'day.mon': 'lun', 'day.tue': 'mar', 'day.wed': 'mer', 'day.thu': 'jeu', 'day.fri': 'ven',
    'day.sat': 'sam', 'day.sun': 'dim',
    'wday.Monday': 'lundi', 'wday.Tuesday': 'mardi', 'wday.Wednesday': 'mercredi',
    'wday.Thursday': 'jeudi', 'wday.Friday': 'vendredi', 'wday.Saturday': 'samedi',
    'wday.Sunday': 'dimanche',
    'rules.explain.title': 'Quelle règle s\'applique ?',
    'rules.explain.caller': 'Appelant', 'rules.explain.callee': 'Appelé',
    'rules.explain.direction': 'Sens', 'rules.explain.auto': 'déduit des numéros',
    'rules.explain.at': 'Date et heure (fuseau des règles)',
    'rules.explain.submit': 'Expliquer',
    'rules.why.rule': 'Règle « {name} » (ligne {line}) : la première qui correspond.',
    'rules.why.never': 'Liste « jamais enregistrés » : elle prime sur toutes les règles.',
    'rules.why.default': 'Aucune règle ne correspond : choix par défaut.',
    'rules.res.call': 'Appel', 'rules.res.rule': 'Règle', 'rules.res.decision': 'Décision',
    'rules.res.recorded': 'Enregistré', 'rules.res.yes': 'oui', 'rules.res.no': 'non',
    'rules.res.sample': 'selon le Call-ID (échantillon)',
    'rules.res.retention': 'Conservation', 'rules.res.tags': 'Étiquettes', 'rules.res.none': 'aucune',
    'rules.forbidden': 'Page réservée aux administrateurs.', 'rules.loading': 'Chargement des règles…',
  },
  en: {
    'nav.rules': 'Rules',
    'rules.title': 'Recording rules',
    'rules.readonly': 'Read-only: the rules are in {path}. The administrator edits that file, ' +
      'has it reviewed, checks it (greffier config check), then restarts the services ' +
      '(systemctl restart greffier-capture greffier-web); this page never changes it and ' +
      'shows the rules the web server read when it started.',
    'rules.sep': '; ', 'rules.none.short': '—',
    'rules.never.title': 'Never recorded',
    'rules.never.help': 'These numbers are never recorded: this list overrides every rule below.',
    'rules.never.none': 'Empty list.',
    'rules.order.title': 'Rules, in order',
    'rules.order.help': 'Rules are read in file order: the first that matches the call ' +
      'decides, the others are ignored.',
    'rules.none': 'No rule: every call gets the default.',
    'rules.col.pos': '#', 'rules.col.name': 'Rule', 'rules.col.line': 'Line',
    'rules.col.conditions': 'Conditions', 'rules.col.decision': 'Decision',
    'rules.col.retention': 'Retention', 'rules.col.tags': 'Tags',
    'rules.defaults.title': 'General settings',
    'rules.tz': 'Time zone of the rules', 'rules.tz.local': 'server local time',
    'rules.default': 'Call no rule covers',
    'rules.metadata': 'Index row of unrecorded calls',
    'rules.metadata.yes': 'kept (no audio)', 'rules.metadata.no': 'not kept',
    'rules.codes': 'Agent DTMF codes (on demand)',
    'rules.codes.text': 'keep {keep}, discard {discard}, malicious call {malicious}',
    'rules.code.none': '(none)',
    'rules.grace': 'Time to decide after an on-demand call ends',
    'rules.retention': 'Default retention', 'rules.retention.tags': 'Retention by tag',
    'rules.days': '{n} days', 'rules.general': 'general', 'rules.seconds': '{n} s',
    'rules.any': 'every call',
    'rules.cond.caller': 'caller', 'rules.cond.callee': 'callee',
    'rules.cond.number': 'caller or callee', 'rules.cond.directions': 'direction',
    'rules.cond.addresses': 'address', 'rules.cond.days': 'days', 'rules.cond.hours': 'hours',
    'rules.act.record': 'record', 'rules.act.skip': 'do not record',
    'rules.act.sample': '{n}% sample', 'rules.act.on_demand': 'on demand',
    'day.mon': 'Mon', 'day.tue': 'Tue', 'day.wed': 'Wed', 'day.thu': 'Thu', 'day.fri': 'Fri',
    'day.sat': 'Sat', 'day.sun': 'Sun',
    'wday.Monday': 'Monday', 'wday.Tuesday': 'Tuesday', 'wday.Wednesday': 'Wednesday',
    'wday.Thursday': 'Thursday', 'wday.Friday': 'Friday', 'wday.Saturday': 'Saturday',
    'wday.Sunday': 'Sunday',
    'rules.explain.title': 'Which rule applies?',
    'rules.explain.caller': 'Caller', 'rules.explain.callee': 'Callee',
    'rules.explain.direction': 'Direction', 'rules.explain.auto': 'from the numbers',
    'rules.explain.at': 'Date and time (rules time zone)',
    'rules.explain.submit': 'Explain',
    'rules.why.rule': 'Rule "{name}" (line {line}): the first that matches.',
    'rules.why.never': 'Never-record list: it overrides every rule.',
    'rules.why.default': 'No rule matches: the default applies.',
    'rules.res.call': 'Call', 'rules.res.rule': 'Rule', 'rules.res.decision': 'Decision',
    'rules.res.recorded': 'Recorded', 'rules.res.yes': 'yes', 'rules.res.no': 'no',
    'rules.res.sample': 'depends on the Call-ID (sample)',
    'rules.res.retention': 'Retention', 'rules.res.tags': 'Tags', 'rules.res.none': 'none',
    'rules.forbidden': 'This page is for administrators.', 'rules.loading': 'Loading the rules…',
  },
};
for (const l of Object.keys(RULES_STRINGS)) Object.assign(STRINGS[l], RULES_STRINGS[l]);

const rulesState = { policy: null, explained: null, wired: false };

function rulesEl(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function rulesAction(action, percent) {
  return t('rules.act.' + action, { n: percent });
}

function rulesConditions(c) {
  const parts = [];
  const list = (key, items, map) => {
    if (items.length) parts.push(t('rules.cond.' + key) + ' ' + items.map(map || ((x) => x)).join(', '));
  };
  list('caller', c.caller);
  list('callee', c.callee);
  list('number', c.number);
  list('directions', c.directions, (d) => t('dir.' + d));
  list('addresses', c.addresses);
  list('days', c.days, (d) => t('day.' + d));
  list('hours', c.hours);
  return parts.length ? parts.join(t('rules.sep')) : t('rules.any');
}

function rulesDl(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) {
    dl.appendChild(rulesEl('dt', k));
    dl.appendChild(rulesEl('dd', v));
  }
}

function rulesRender() {
  const p = rulesState.policy;
  if (!p) return;
  $('rules-readonly').textContent = t('rules.readonly', { path: p.config_path || 'greffier.conf' });
  const never = $('rules-never-list');
  never.replaceChildren();
  for (const n of p.never_record) never.appendChild(rulesEl('li', n));
  $('rules-never-none').hidden = p.never_record.length > 0;

  const body = $('rules-table').querySelector('tbody');
  body.replaceChildren();
  for (const r of p.rules) {
    const tr = rulesEl('tr', null, { 'data-rule': r.name });
    if (rulesState.explained && rulesState.explained.source === 'rule' &&
        rulesState.explained.rule === r.name) tr.className = 'decides';
    const cells = [r.position, r.name, r.line, rulesConditions(r.conditions),
      rulesAction(r.action, r.sample_percent),
      r.retention_days ? t('rules.days', { n: r.retention_days }) : t('rules.general'),
      r.tags.join(', ')];
    for (const c of cells) tr.appendChild(rulesEl('td', c));
    body.appendChild(tr);
  }
  $('rules-none').hidden = p.rules.length > 0;

  const none = t('rules.code.none');
  const od = p.on_demand;
  rulesDl($('rules-defaults'), [
    [t('rules.tz'), p.timezone || t('rules.tz.local')],
    [t('rules.default'), rulesAction(p.default)],
    [t('rules.metadata'), t(p.keep_metadata_of_unrecorded ? 'rules.metadata.yes' : 'rules.metadata.no')],
    [t('rules.codes'), t('rules.codes.text', { keep: od.keep_code || none,
      discard: od.discard_code || none, malicious: od.malicious_code || none })],
    [t('rules.grace'), t('rules.seconds', { n: od.grace_s })],
    [t('rules.retention'), t('rules.days', { n: p.retention.default_days })],
    [t('rules.retention.tags'), p.retention.tags.length ?
      p.retention.tags.map((x) => x.tag + ' : ' + t('rules.days', { n: x.days })).join(', ') :
      t('rules.res.none')],
  ]);
  rulesRenderExplained();
}

// "Wednesday 2024-06-05 09:30" (the API's local time) with the day in the page's language.
function rulesLocal(local) {
  const [day, ...rest] = local.split(' ');
  return [t('wday.' + day)].concat(rest).join(' ');
}

function rulesRenderExplained() {
  const e = rulesState.explained;
  const box = $('rules-result');
  box.hidden = !e;
  if (!e) return;
  const why = e.source === 'rule' ? t('rules.why.rule', { name: e.rule, line: e.line }) :
    e.source === 'never_record' ? t('rules.why.never') : t('rules.why.default');
  $('rules-why').textContent = why;
  box.className = 'box source-' + e.source;
  rulesDl($('rules-result-facts'), [
    [t('rules.res.call'), e.call.caller + ' → ' + e.call.callee + ', ' + t('dir.' + e.call.direction) +
      ', ' + rulesLocal(e.call.local) + (e.call.timezone ? ' (' + e.call.timezone + ')' : '')],
    [t('rules.res.rule'), e.rule],
    [t('rules.res.decision'), rulesAction(e.action, e.sample_percent)],
    [t('rules.res.recorded'), e.record === null ? t('rules.res.sample') :
      t(e.record ? 'rules.res.yes' : 'rules.res.no')],
    [t('rules.res.retention'), e.record === false ? t('rules.none.short') :
      e.retention_days ? t('rules.days', { n: e.retention_days }) : t('rules.general')],
    [t('rules.res.tags'), e.tags.length ? e.tags.join(', ') : t('rules.res.none')],
  ]);
}

async function rulesExplain(ev) {
  ev.preventDefault();
  const q = new URLSearchParams({ caller: $('rx-caller').value.trim(), callee: $('rx-callee').value.trim() });
  if ($('rx-direction').value) q.set('direction', $('rx-direction').value);
  if ($('rx-at').value) q.set('at', $('rx-at').value);
  try {
    rulesState.explained = await api('/api/rules/explain?' + q.toString());
    rulesRender();
    say('');
  } catch (e) {
    rulesState.explained = null;
    rulesRender();
    say(t('call.error') + e.message, true);
  }
}

async function rulesLoad() {
  try {
    rulesState.policy = await api('/api/rules');
  } catch (e) {
    say(e.status === 403 ? t('rules.forbidden') : t('call.error') + e.message, true);
    return;
  }
  rulesRender();
  say('');
}

// Called by app.js's route(): true when it handled the page.
function rulesRoute() {
  const admin = state.csrf && state.role === 'admin';
  $('nav-rules').hidden = !admin;
  const here = location.hash === '#/rules';
  $('view-rules').hidden = !(here && admin);
  if (!here || !admin) return false;
  for (const v of ['login', 'search', 'call', 'retention']) $('view-' + v).hidden = true;
  if (!rulesState.wired) {
    rulesState.wired = true;
    $('rules-explain-form').addEventListener('submit', rulesExplain);
    // After app.js's own handler has switched the language: redraw from the data.
    $('lang').addEventListener('change', () => { if (!$('view-rules').hidden) rulesRender(); });
  }
  say(t('rules.loading'));
  rulesLoad();
  return true;
}
