// replay.js - the supervisor's path through the web UI in Debian's Chromium:
// log in, search by number, open the call, play it, see the waveform, tag the call, no
// export button; free-text search by name finds the tag; the English switch relabels
// the page; then an auditor sees the export button and legal hold.
// Usage: node replay.js URL USER PASSWORD NUMBER OUTDIR [NAME AUDITOR AUDITOR_PASSWORD]
// (exit 1 on any failure)
'use strict';
const { chromium } = require('playwright-core');

const [url, user, password, number, outdir, name, auditor, auditorPassword] = process.argv.slice(2);
const failures = [];
let passed = 0;
function check(cond, what) {
  console.log((cond ? 'ok: ' : 'FAIL: ') + what);
  if (!cond) failures.push(what);
  else passed++;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', e => failures.push('page error: ' + e.message));
  try {
    await page.goto(url);
    await page.waitForSelector('#login-user', { state: 'visible', timeout: 10000 });
    await page.screenshot({ path: outdir + '/1-login.png' });
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#view-search:not([hidden])', { timeout: 10000 });
    await page.waitForSelector('#alarms:not([hidden])', { timeout: 10000 }).catch(() => {});
    check((await page.textContent('#alarms')).includes('disk_low'), 'the alarm banner shows the active alarm');
    await page.fill('#f-number', number);
    await page.press('#f-number', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length > 0,
                               null, { timeout: 10000 });
    const rows = await page.$$eval('#results tbody tr', trs => trs.map(t => t.textContent));
    check(rows.length >= 1 && rows.every(r => r.includes(number.slice(-6))),
          'search by number ' + number + ' finds only its calls (' + rows.length + ')');
    await page.screenshot({ path: outdir + '/2-search.png' });
    await page.click('#results tbody tr a, #results tbody tr');
    await page.waitForSelector('#view-call:not([hidden])', { timeout: 10000 });
    await page.waitForTimeout(1500); // the waveform is fetched and drawn
    const played = await page.evaluate(async () => {
      const a = document.querySelector('#player');
      a.muted = true;
      await a.play();
      await new Promise(r => setTimeout(r, 2500));
      return a.currentTime;
    });
    check(played > 1, 'the audio element plays past 1 s (currentTime ' + played.toFixed(2) + ')');
    const inked = await page.evaluate(() => {
      const c = document.querySelector('#wave');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4)
        if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
      return n / (c.width * c.height);
    });
    check(inked > 0.05, 'the waveform is drawn (' + (inked * 100).toFixed(1) + '% of the canvas inked)');
    const exportButtons = await page.$$('text=/export/i');
    check(exportButtons.length === 0, 'a supervisor sees no export button');
    check((await page.$$('#hold-button')).length === 0, 'a supervisor sees no legal hold');
    await page.screenshot({ path: outdir + '/3-call.png' });

    if (name) {
      // Tag the call from the page, with the keyboard.
      await page.fill('#tag-input', 'rappel-client');
      await page.press('#tag-input', 'Enter');
      await page.waitForFunction(() => document.querySelector('#tag-list').textContent.includes('rappel-client'),
                                 null, { timeout: 10000 });
      check(true, 'the call is tagged from the page');
      await page.fill('#note-input', 'Note du navigateur');
      await page.click('#note-form button[type=submit]');
      await page.waitForFunction(() => document.querySelector('#note-list').textContent.includes('Note du navigateur'),
                                 null, { timeout: 10000 });
      check(true, 'a note is added from the page');
      await page.screenshot({ path: outdir + '/4-tagged.png' });

      // Free text: the caller's name, then the tag.
      await page.click('a[href="#/search"]');
      await page.waitForSelector('#view-search:not([hidden])', { timeout: 10000 });
      await page.fill('#f-number', '');
      await page.fill('#f-q', name);
      await page.press('#f-q', 'Enter');
      await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length > 0,
                                 null, { timeout: 10000 });
      const byName = await page.$$eval('#results tbody tr', trs => trs.map(t => t.textContent));
      check(byName.length >= 1 && byName.every(r => r.includes(name.split(' ')[0])),
            'free-text search for "' + name + '" finds its calls (' + byName.length + ')');
      await page.fill('#f-q', 'rappel-client');
      await page.press('#f-q', 'Enter');
      await page.waitForFunction(() => {
        const rows = document.querySelectorAll('#results tbody tr');
        return rows.length === 1 && rows[0].textContent.includes('rappel-client');
      }, null, { timeout: 10000 });
      check(true, 'free-text search finds the tagged call, tag shown in its row');
      await page.screenshot({ path: outdir + '/5-free-text.png' });

      // English.
      await page.selectOption('#lang', 'en');
      await page.waitForFunction(() => document.documentElement.lang === 'en', null, { timeout: 5000 });
      const label = await page.textContent('#search-form button[type=submit]');
      check(label.trim() === 'Search', 'English: the search button reads "Search" (' + label + ')');
      const head = await page.$$eval('#results thead th', ths => ths.map(t => t.textContent));
      check(head.includes('Caller') && head.includes('Quality') && head.includes('Tags'),
            'English: column headers ' + head.join('|'));
      await page.screenshot({ path: outdir + '/6-english.png' });
      await page.reload();
      await page.waitForSelector('#view-search:not([hidden])', { timeout: 10000 });
      check(await page.evaluate(() => document.documentElement.lang) === 'en',
            'the language choice survives a reload');
      await page.selectOption('#lang', 'fr');
    }

    if (auditor) {
      await page.click('#logout');
      await page.waitForSelector('#login-user', { state: 'visible', timeout: 10000 });
      await page.fill('#login-user', auditor);
      await page.fill('#login-password', auditorPassword);
      await page.keyboard.press('Enter');
      await page.waitForSelector('#view-search:not([hidden])', { timeout: 10000 });
      await page.fill('#f-number', number);
      await page.press('#f-number', 'Enter');
      await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length > 0,
                                 null, { timeout: 10000 });
      await page.click('#results tbody tr');
      await page.waitForSelector('#view-call:not([hidden])', { timeout: 10000 });
      await page.waitForSelector('#export-button', { state: 'visible', timeout: 10000 });
      check(true, 'an auditor sees the export button');
      check(await page.isVisible('#hold-button'), 'an auditor sees the legal hold button');
      await page.waitForFunction(() => document.querySelectorAll('#call-trail tbody tr').length > 0,
                                 null, { timeout: 10000 });
      const trail = await page.$$eval('#call-trail tbody tr', trs => trs.map(t => t.textContent));
      check(trail.some(r => r.includes('tag.add')) && trail.some(r => r.includes('call.view')),
            'an auditor sees the call\'s audit trail (' + trail.length + ' rows)');
      // Without the export endpoint in this build, the page says so instead of failing.
      await page.fill('#export-case', 'DOSSIER-42');
      await page.click('#export-button');
      await page.waitForFunction(() => document.querySelector('#status').textContent.length > 0 &&
                                       !document.querySelector('#status').textContent.endsWith('…'),
                                 null, { timeout: 10000 });
      const st = await page.textContent('#status');
      check(st.length > 0, 'export answered on the page: ' + st);
      await page.screenshot({ path: outdir + '/7-auditor.png', fullPage: true });
    }
  } catch (e) {
    failures.push('exception: ' + e.message);
    await page.screenshot({ path: outdir + '/error.png' }).catch(() => {});
  }
  await browser.close();
  console.log(failures.length ? 'browser: ' + failures.length + ' failures: ' + failures.join('; ')
                              : 'browser: ' + passed + ' checks ok (login, search, replay, waveform, ' +
                                'tags, notes, free text, English, auditor tools)');
  process.exit(failures.length ? 1 : 0);
})();
