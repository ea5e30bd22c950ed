// rules.js - the admin's recording rules page in Debian's Chromium: log in, open
// "Règles", read the rules in file order and the never-record list, run an explanation
// and read the deciding rule; then a supervisor logs in and has no rules link.
// Usage: node rules.js URL ADMIN SUPERVISOR PASSWORD RULES(comma-separated) OUTDIR
'use strict';
const { chromium } = require('playwright-core');

const [url, admin, supervisor, password, ruleList, outdir] = process.argv.slice(2);
const wantRules = ruleList.split(',');
const failures = [];
function check(cond, what) {
  console.log((cond ? 'ok: ' : 'FAIL: ') + what);
  if (!cond) failures.push(what);
}

async function login(page, user) {
  await page.goto(url);
  await page.waitForSelector('#login-user', { state: 'visible', timeout: 10000 });
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#who:not([hidden])', { timeout: 10000 });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--no-first-run'],
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await ctx.newPage();
    page.on('pageerror', e => failures.push('page error: ' + e.message));
    await login(page, admin);
    await page.waitForSelector('#nav-rules:not([hidden])', { timeout: 10000 });
    check((await page.textContent('#nav-rules')) === 'Règles', 'an admin sees the "Règles" link');
    await page.click('#nav-rules');
    await page.waitForSelector('#view-rules:not([hidden])', { timeout: 10000 });
    await page.waitForFunction(() => document.querySelectorAll('#rules-table tbody tr').length > 0,
                               null, { timeout: 10000 });
    const names = await page.$$eval('#rules-table tbody tr', trs => trs.map(t => t.dataset.rule));
    check(JSON.stringify(names) === JSON.stringify(wantRules),
          'the rules in file order: ' + names.join(', '));
    const never = await page.$$eval('#rules-never-list li', lis => lis.map(l => l.textContent));
    check(never.includes('2999'), 'the never-record list shows 2999 (' + never.join(', ') + ')');
    check((await page.textContent('#view-rules')).includes('la première qui correspond'),
          'the page says the first matching rule decides');
    check((await page.textContent('#rules-readonly')).includes('Lecture seule'),
          'the page says it is read-only');
    await page.screenshot({ path: outdir + '/1-rules.png', fullPage: true });

    // Wednesday 09:30, inbound: the quality sample decides.
    await page.fill('#rx-caller', '0612345678');
    await page.fill('#rx-callee', '2001');
    await page.fill('#rx-at', '2024-06-05T09:30');
    await page.click('#rules-explain-form button[type=submit]');
    await page.waitForSelector('#rules-result:not([hidden])', { timeout: 10000 });
    const why = await page.textContent('#rules-why');
    check(why.includes('« quality »'), 'the explanation names the deciding rule: ' + why);
    check(await page.$('#rules-table tr.decides[data-rule="quality"]') !== null,
          'the deciding rule is highlighted in the table');
    await page.screenshot({ path: outdir + '/2-explain.png', fullPage: true });

    // The protected number: the never-record list decides, whatever the rules say.
    await page.fill('#rx-callee', '2999');
    await page.click('#rules-explain-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#rules-why').textContent
                                 .includes('jamais enregistrés'), null, { timeout: 10000 });
    check(true, 'the never-record list decides for 2999');
    // English on request: the explanation is redrawn.
    await page.selectOption('#lang', 'en');
    await page.waitForFunction(() => document.querySelector('#rules-why').textContent
                                 .includes('Never-record list'), null, { timeout: 10000 });
    check((await page.textContent('#nav-rules')) === 'Rules', 'the link reads "Rules" in English');
    await page.screenshot({ path: outdir + '/3-never-record-en.png', fullPage: true });
    await page.selectOption('#lang', 'fr');
    await ctx.close();

    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page2 = await ctx2.newPage();
    page2.on('pageerror', e => failures.push('page error: ' + e.message));
    await login(page2, supervisor);
    await page2.waitForSelector('#view-search:not([hidden])', { timeout: 10000 });
    check(await page2.isHidden('#nav-rules'), 'a supervisor has no rules link');
    await page2.goto(url + '#/rules');
    await page2.waitForSelector('#who:not([hidden])', { timeout: 10000 });
    check(await page2.isHidden('#view-rules'), 'a supervisor going to #/rules sees no rules');
    await page2.screenshot({ path: outdir + '/4-supervisor.png', fullPage: true });
    await ctx2.close();
  } catch (e) {
    failures.push('exception: ' + e.message);
  }
  await browser.close();
  console.log(failures.length ? 'browser: ' + failures.length + ' failures: ' + failures.join('; ')
                              : 'browser: rules page and explanation ok');
  process.exit(failures.length ? 1 : 0);
})();
