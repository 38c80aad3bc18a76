// Every screen a member or a staff member can reach holds at 360 CSS pixels, the narrowest common phone, in
// Chinese and in English: nothing runs out of its card and the page never scrolls sideways; every form field has
// a label; and axe-core (npm) finds no serious or critical accessibility problem. Each page is measured in the
// page itself, in both languages.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { activityLinks, orgLink, signInOnPhone, waitForFirstSync } from './flows.mjs';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer } from './harness.mjs';

const NARROW = { width: 360, height: 740 };
// axe-core's own build, run through the DevTools protocol (as the tests' other page code): no script tag, which
// the app's Content-Security-Policy would refuse.
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical problems axe-core finds on the page, each with where. */
async function accessibility(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE}\n;0`);
  const violations = await page.evaluate(async () => {
    const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  return violations;
}

/**
 * What sticks out on the page as it is now: the page wider than the screen, an element out of its card, a control
 * smaller than `tap` pixels, a form field without a label, text smaller than `text` pixels.
 */
function overflows({ tap, text }) {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  }
  for (const card of document.querySelectorAll('.card, .sync-badge, header.top')) {
    const edge = card.getBoundingClientRect();
    for (const element of card.querySelectorAll('*')) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || element.closest('.visually-hidden')) continue;
      if (box.right > edge.right + 1 || box.left < edge.left - 1) {
        const text = (element.textContent || element.getAttribute('data-testid') || element.tagName).trim();
        problems.push(`${element.tagName.toLowerCase()} "${text.slice(0, 40)}" runs out of its card`);
      }
    }
  }
  // A finger's size: `tap` CSS pixels square for anything tapped, but a link inside a sentence (WCAG's exception).
  for (const tappable of document.querySelectorAll('a, button, select, input:not([type=hidden]), textarea')) {
    const box = tappable.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || tappable.closest('.visually-hidden')) continue;
    const inSentence = tappable.tagName === 'A' && tappable.parentElement?.closest('p');
    const checkbox = tappable.type === 'checkbox' && tappable.closest('label');
    if (!inSentence && !checkbox && (box.width < tap || box.height < tap)) {
      const name = (tappable.textContent || tappable.dataset.testid || tappable.tagName).trim().slice(0, 30);
      problems.push(`${tappable.tagName.toLowerCase()} "${name}" is ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  for (const field of document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')) {
    const labelled =
      field.labels?.length > 0 || field.getAttribute('aria-label') || field.getAttribute('aria-labelledby');
    if (!labelled) problems.push(`a ${field.tagName.toLowerCase()} (${field.dataset.testid ?? field.name}) has no label`);
  }
  for (const element of document.querySelectorAll('body *')) {
    const own = [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
    if (!own || element.closest('.visually-hidden, svg, noscript') || element.getBoundingClientRect().width === 0) continue;
    const size = parseFloat(getComputedStyle(element).fontSize);
    if (size < text) problems.push(`"${element.textContent.trim().slice(0, 30)}" is ${size}px`);
  }
  return [...new Set(problems)];
}

/** As it must be on a phone: controls a finger can use, any text. */
const PHONE = { tap: 44, text: 0 };
/** 长辈模式: targets of 60 px, text of 18 px and more. */
const LARGER = { tap: 60, text: 18 };

/** Opens each path on `page` and measures it in both languages; returns what stuck out, by path. */
async function measure(page, paths, rules = PHONE, open = async () => {}) {
  const found = [];
  for (const path of paths) {
    await page.goto(path);
    // Visible: a screen may begin with what it shows later (the scanner's "scan again", hidden while it scans).
    await page.locator('main > *:visible').first().waitFor();
    // The screen's own content, loaded (online pages fetch theirs).
    await page.waitForLoadState('networkidle');
    // What opens on a tap (a form folded away) is measured open.
    await open(page);
    for (const lang of ['zh-CN', 'en']) {
      if ((await page.evaluate(() => document.documentElement.lang)) !== lang) {
        await page.getByTestId('lang-switch').click();
        await page.waitForFunction((lang) => document.documentElement.lang === lang, lang);
      }
      for (const problem of await page.evaluate(overflows, rules)) found.push(`${path} (${lang}): ${problem}`);
      for (const problem of await accessibility(page)) found.push(`${path} (${lang}): ${problem}`);
    }
    await page.getByTestId('lang-switch').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  }
  return found;
}

async function narrowPhone(browser, server, code) {
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await page.setViewportSize(NARROW);
  await signInOnPhone(page, code);
  await waitForFirstSync(page);
  return page;
}

e2eTest('every screen holds at 360 px in Chinese and English', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const { link: orgCode, org } = await orgLink(server.url);
  const { running } = await activityLinks(server.url);
  const signedOut = await (await newPhone(browser, server.url)).newPage();
  await signedOut.setViewportSize(NARROW);
  const found = await measure(signedOut, ['/signin']);

  const member = await narrowPhone(browser, server, 'GH-M21');
  await member.goto('/certificate');
  await member.getByTestId('lang-switch').click();
  await member.waitForFunction(() => document.documentElement.lang === 'en');
  await screenshot(member, 'certificate-360-en');
  await member.getByTestId('lang-switch').click();
  found.push(
    ...(await measure(member, [
      '/',
      '/certificate',
      '/card',
      '/profile',
      '/checkins',
      '/notices',
      '/activities',
      '/sync',
      '/devices',
      '/pin',
      '/signout',
      '/scan',
      new URL(orgCode, server.url).pathname,
    ])),
  );
  const secretary = await narrowPhone(browser, server, 'GH-S01');
  const activity = running.activity.id;
  found.push(
    ...(await measure(secretary, [
      `/org/${org}`,
      `/org/${org}/activities`,
      `/org/${org}/activities/new`,
      `/org/${org}/activities/${activity}`,
      `/org/${org}/activities/${activity}/attendance`,
      `/org/${org}/activities/${activity}/code`,
      `/org/${org}/volunteer`,
      running.link,
    ])),
  );
  const township = await narrowPhone(browser, server, 'GH-T01');
  await township.getByTestId('nav-township').click();
  await township.waitForURL(/\/township\//);
  const townshipPath = new URL(township.url()).pathname;
  found.push(...(await measure(township, [townshipPath])));
  // A member's own page, from the township's list.
  await township.getByTestId('member-detail-link').first().click();
  await township.getByTestId('member-detail').waitFor();
  // The member's page, and the township's one-page summary with its charts.
  found.push(...(await measure(township, [new URL(township.url()).pathname, `${townshipPath}/summary`])));

  const county = await narrowPhone(browser, server, 'GH-C01');
  await county.getByTestId('nav-county').click();
  await county.waitForURL(/\/county\//);
  // With the form that sets up an organisation open, and one organisation's forms to change or close it.
  const openForms = async (page) => {
    await page.getByTestId('tree-add').locator('summary').click();
    await page.getByTestId('county-hosts').getByTestId('tree-manage').first().locator('summary').click();
    await page.getByTestId('tree-close-submit').waitFor();
  };
  found.push(...(await measure(county, [new URL(county.url()).pathname], PHONE, openForms)));
  assert.deepEqual(found, []);
});

e2eTest('长辈模式: larger text and targets on every member screen, remembered on the phone', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const member = await narrowPhone(browser, server, 'GH-M01');
  await member.getByTestId('larger-text').click();
  await member.reload();
  await member.getByTestId('home').waitFor();
  assert.equal(await member.getByTestId('larger-text').getAttribute('aria-pressed'), 'true', 'remembered');
  assert.ok(await member.evaluate(() => document.documentElement.classList.contains('larger-text')));
  await screenshot(member, 'home-larger-text');
  const found = await measure(
    member,
    ['/', '/certificate', '/card', '/profile', '/checkins', '/notices', '/activities', '/sync', '/devices', '/signout'],
    LARGER,
  );
  assert.deepEqual(found, []);
});

e2eTest('at 200 % zoom a 360 px phone is 180 CSS pixels wide: no screen scrolls sideways', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const { org } = await orgLink(server.url);
  const zoomed = { width: NARROW.width / 2, height: NARROW.height / 2 };
  const member = await narrowPhone(browser, server, 'GH-M01');
  await member.setViewportSize(zoomed);
  const secretary = await narrowPhone(browser, server, 'GH-S01');
  await secretary.setViewportSize(zoomed);
  const found = [
    ...(await measure(member, ['/', '/certificate', '/card', '/profile', '/checkins', '/notices', '/activities', '/sync', '/devices'])),
    ...(await measure(secretary, [`/org/${org}`, `/org/${org}/activities`])),
  ];
  await member.goto('/profile');
  await screenshot(member, 'profile-200-percent');
  assert.deepEqual(found, []);
});
