// replay.js - the supervisor's path through the web UI in Debian's Chromium:
// log in, search by number, open the call, play it, see the waveform.
// Usage: node replay.js URL USER PASSWORD NUMBER OUTDIR     (exit 1 on any failure)
'use strict';
const { chromium } = require('playwright-core');

const [url, user, password, number, outdir] = process.argv.slice(2);
const failures = [];
function check(cond, what) {
  console.log((cond ? 'ok: ' : 'FAIL: ') + what);
  if (!cond) failures.push(what);
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
    await page.screenshot({ path: outdir + '/3-call.png' });
  } catch (e) {
    failures.push('exception: ' + e.message);
    await page.screenshot({ path: outdir + '/error.png' }).catch(() => {});
  }
  await browser.close();
  console.log(failures.length ? 'browser: ' + failures.length + ' failures: ' + failures.join('; ')
                              : 'browser: login, search, replay and waveform ok');
  process.exit(failures.length ? 1 : 0);
})();
