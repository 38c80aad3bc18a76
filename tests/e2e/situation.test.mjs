// Where a member stands, in words that fit, on their own screens and their township's, in both languages: a
// newcomer, reported and waiting, at an organisation, leaving, between cities after leaving, and back home. The
// member's journey here runs through the app where the member acts and through the API where staff do.

import assert from 'node:assert/strict';
import {
  apiSession,
  lastSynced,
  orgLink,
  signedInPhone,
  tapAndAnswer,
  waitForFirstSync,
  waitForSync,
} from './flows.mjs';
import { api, e2eTest, screenshot, startServer } from './harness.mjs';

const NEWCOMER = 'GH-M21'; // 孙立平, 新安镇, just arrived
const HANGZHOU = '灌南县驻杭州流动党委';

/** The text of `element` in Chinese and then in English (the language switched there and back). */
async function inBothLanguages(page, element) {
  const zh = (await element.textContent()).trim();
  await page.getByTestId('lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const en = (await element.textContent()).trim();
  await page.getByTestId('lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  return { zh, en };
}

/**
 * Syncs the phone (opening home starts a round) until it stands in `state`: a round already under way when the
 * staff acted may have pulled before they did, so one more is asked for if need be.
 */
async function synced(page, state) {
  for (let round = 0; round < 3; round += 1) {
    const before = await lastSynced(page);
    await page.goto('/');
    await waitForSync(page, before);
    await page.getByTestId('home').waitFor();
    const now = await page.getByTestId('situation').getAttribute('data-state');
    if (now === state) return;
  }
  assert.fail(`the phone did not come to stand in ${state}`);
}

async function expectSituation(page, state, zh, en) {
  await page.locator(`[data-testid=situation][data-state=${state}]`).waitFor({ state: 'attached' });
  const words = await inBothLanguages(page, page.getByTestId('current-org'));
  assert.match(words.zh, zh, `home, ${state}`);
  assert.match(words.en, en, `home, ${state}, English`);
  await page.getByTestId('nav-certificate').click();
  const certificate = await inBothLanguages(page, page.getByTestId('certificate-current'));
  assert.deepEqual(certificate, words, `certificate, ${state}`);
  await page.goto('/');
}

e2eTest("a member's situation in its own words, from newcomer to back home", async () => {
  const server = await startServer();
  const { link, secretary, org } = await orgLink(server.url);
  const { page } = await signedInPhone(server, NEWCOMER);
  await waitForFirstSync(page);
  await expectSituation(page, 'newcomer', /^尚未报到$/, /^Not reported anywhere yet$/);

  await page.goto(link);
  await page.getByTestId('report-submit').click();
  await page.getByTestId('report-sent').waitFor();
  await page.goto('/');
  await expectSituation(page, 'reported', new RegExp(`已向${HANGZHOU}报到，等待接收`), /Reported to .* waiting/);

  // The secretary accepts (on their phone; here through the API).
  await synced(page, 'reported');
  const overview = (await api(server.url, `/api/v1/orgs/${org}/overview`, { token: secretary.token })).body;
  const report = overview.pending.find((p) => p.name === '孙立平');
  const accepted = await api(server.url, `/api/v1/reports/${report.id}/decision`, {
    method: 'POST',
    token: secretary.token,
    body: { decision: 'accept' },
  });
  assert.equal(accepted.status, 200);
  await synced(page, 'at');
  assert.equal(await page.getByTestId('current-org').textContent(), HANGZHOU);
  await page.locator('[data-testid=situation][data-state=at]').waitFor({ state: 'attached' });

  await tapAndAnswer(page, page.getByTestId('leave'), true);
  await page.getByTestId('leaving-told').waitFor();
  await page.locator('[data-testid=situation][data-state=leaving]').waitFor({ state: 'attached' });
  await synced(page, 'leaving');
  await page.getByTestId('nav-certificate').click();
  const open = page.locator('[data-testid=stop][data-open=true]');
  assert.deepEqual(await inBothLanguages(page, open.getByTestId('stop-end')), {
    zh: '已告知将离开，等待书记鉴定',
    en: "Leaving told; waiting for the secretary's evaluation",
  });
  await page.goto('/');

  // The secretary writes the evaluation: the stop ends, and the member is between cities.
  const members = (await api(server.url, `/api/v1/orgs/${org}/overview`, { token: secretary.token })).body.members;
  const stop = members.find((m) => m.name === '孙立平').stop_id;
  const evaluated = await api(server.url, `/api/v1/stops/${stop}/evaluation`, {
    method: 'POST',
    token: secretary.token,
    body: { grade: 'qualified', text: '按时参加组织生活。' },
  });
  assert.equal(evaluated.status, 204);
  await synced(page, 'between');
  await expectSituation(page, 'between', new RegExp(`离开${HANGZHOU}，尚未在新的地方报到`), /^Left .* not reported anywhere new yet$/);

  // Home again: the township registers the return.
  const township = await apiSession(server.url, 'GH-T01');
  const me = (await api(server.url, '/api/v1/me', { token: (await apiSession(server.url, NEWCOMER)).token })).body;
  const returned = await api(server.url, `/api/v1/people/${me.id}/return`, { method: 'POST', token: township.token });
  assert.equal(returned.status, 204);
  await synced(page, 'returned_home');
  await expectSituation(page, 'returned_home', /^已于.*登记返乡$/, /^Registered as returned home on /);
  await screenshot(page, 'home-returned');
});

e2eTest('a stop ended by the return home says so on the certificate, and the township lists the member as home', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-M01'); // 王建国, 新安镇, at Hangzhou
  await waitForFirstSync(page);
  const { page: township } = await signedInPhone(server, 'GH-T01');
  await township.getByTestId('nav-township').click();
  const wang = township.locator('[data-testid=township-member][data-name=王建国]');
  await tapAndAnswer(township, wang.getByTestId('register-return'), true);
  await wang.locator('[data-testid=whereabouts][data-state=returned_home]').waitFor();
  assert.match(await wang.getByTestId('whereabouts').textContent(), /^已于.*登记返乡$/);

  await synced(page, 'returned_home');
  await page.getByTestId('nav-certificate').click();
  const ended = page.locator('[data-testid=stop][data-open=false]').filter({ hasText: HANGZHOU });
  const words = await inBothLanguages(page, ended.getByTestId('stop-end'));
  assert.deepEqual(words, {
    zh: '登记返乡时结束，未作鉴定',
    en: 'Ended when the return home was registered; no evaluation',
  });
});
