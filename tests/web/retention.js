// retention.js - the admin's retention page in Debian's Chromium: log in, open
// "Conservation", see what expires, make a purge proposal, record the visa, see the
// purge in the history.  Usage: node retention.js URL USER PASSWORD CALLS OUTDIR
'use strict';
const { chromium } = require('playwright-core');

const [url, user, password, calls, outdir] = process.argv.slice(2);
const failures = [];
function check(cond, what) {
  console.log((cond ? 'ok: ' : 'FAIL: ') + what);
  if (!cond) failures.push(what);
}
const rows = (page, id) => page.$$eval('#' + id + ' tbody tr', trs => trs.map(t => t.textContent));

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', e => failures.push('page error: ' + e.message));
  page.on('dialog', d => d.accept());
  try {
    await page.goto(url);
    await page.waitForSelector('#login-user', { state: 'visible', timeout: 10000 });
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#nav-retention:not([hidden])', { timeout: 10000 });
    check(true, 'an admin sees the "Conservation" link');
    await page.click('#nav-retention');
    await page.waitForSelector('#view-retention:not([hidden])', { timeout: 10000 });
    await page.waitForFunction(() => document.querySelectorAll('#ret-next tbody tr').length > 1,
                               null, { timeout: 10000 });
    const next = await rows(page, 'ret-next');
    check(next.length === Number(calls), 'next expiries list every call (' + next.length + ')');
    check(next.every(r => r.includes('(échu)')), 'every call is shown as expired');
    check(await page.isHidden('#ret-purge'), 'no direct purge button when approval is required');
    await page.screenshot({ path: outdir + '/1-retention.png', fullPage: true });

    await page.click('#ret-propose');
    await page.waitForSelector('#ret-proposals form.visa', { timeout: 10000 });
    const links = await page.$$eval('#ret-proposals a', as => as.map(a => a.getAttribute('href')));
    check(links.includes('/api/purge/proposals/1/slip.html') &&
          links.includes('/api/purge/proposals/1/slip.csv'), 'the proposal links its slips');
    await page.screenshot({ path: outdir + '/2-proposal.png', fullPage: true });
    await page.fill('#ret-proposals form.visa input', 'AD-75-2024-12');
    await page.click('#ret-proposals form.visa button');
    await page.waitForFunction(() => !document.querySelector('#ret-proposals form.visa'),
                               null, { timeout: 10000 });
    const props = await rows(page, 'ret-proposals');
    check(props.length === 1 && props[0].includes('exécutée') && props[0].includes('AD-75-2024-12'),
          'the proposal is executed with its visa');
    const hist = await rows(page, 'ret-history');
    check(hist.some(r => r.includes('durée échue') && r.includes(String(calls))),
          'the history shows the purge (' + hist.join(' | ') + ')');
    check((await rows(page, 'ret-next')).join('') === 'Aucun.', 'nothing left to expire');
    await page.screenshot({ path: outdir + '/3-done.png', fullPage: true });
  } catch (e) {
    failures.push('exception: ' + e.message);
    await page.screenshot({ path: outdir + '/error.png' }).catch(() => {});
  }
  await browser.close();
  console.log(failures.length ? 'browser: ' + failures.length + ' failures: ' + failures.join('; ')
                              : 'browser: retention page, proposal and visa ok');
  process.exit(failures.length ? 1 : 0);
})();
