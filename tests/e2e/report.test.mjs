// Reporting to a city organisation (报到) and moving on, end to end: a member just arrived opens the
// organisation's code offline, confirms, syncs; the secretary (another phone) accepts; the member sees the
// new organisation and the open stop; they say they are leaving, the secretary writes the evaluation, and it
// shows on the member's certificate. A rotated code is refused offline; the township sees where members are.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchCameraBrowser } from './camera.mjs';
import { api, e2eTest, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import {
  answered,
  apiSession,
  assertInView,
  lastSynced,
  orgLink,
  signInOnPhone,
  signedInPhone,
  tapAndAnswer,
  waitForFirstSync,
  waitForSync,
} from './flows.mjs';
import { outboxCount } from './store.mjs';

const NEWCOMER = 'GH-M21'; // 孙立平, 新安镇, just arrived
const HANGZHOU = '灌南县驻杭州流动党委';


/** The secretary's phone in the same browser, on their organisation's screen. */
async function secretaryPhone(browser, server, code = 'GH-S01') {
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, code);
  await page.getByTestId('nav-org').click();
  await page.getByTestId('org-page').locator('h1').waitFor();
  return page;
}

/** Syncs from the sync page and waits until a round newer than the last one has finished. */
async function syncNow(page) {
  await page.goto('/sync');
  const before = await lastSynced(page);
  await page.getByTestId('sync-page').getByRole('button').first().click();
  await waitForSync(page, before);
}

e2eTest('scan the poster offline, accepted by the secretary, leave with an evaluation that reaches the certificate', async () => {
  const server = await startServer();
  const { link, secretary: secretarySession, org } = await orgLink(server.url);
  // The poster the secretary prints carries the same code, as a full link to this server.
  const poster = await api(server.url, `/api/v1/orgs/${org}/poster.svg`, { token: secretarySession.token });
  assert.equal(poster.status, 200);
  assert.match(poster.body, new RegExp(HANGZHOU));
  assert.match(poster.body, /<path d="M\d+ \d+h(\d+)v1h-\1z/);

  // The member's phone camera sees the poster's code.
  const browser = await launchCameraBrowser(new URL(link, server.url).href);
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, NEWCOMER);
  await waitForServiceWorker(page);
  await waitForFirstSync(page);
  assert.equal(await page.getByTestId('current-org').textContent(), '尚未报到');

  // Offline: the scanner decodes it, and the name and address come from the signed code itself.
  await phone.setOffline(true);
  await page.getByTestId('nav-scan').click();
  await page.getByTestId('report-confirm').waitFor();
  assert.equal(await page.getByTestId('report-org').textContent(), HANGZHOU);
  assert.match(await page.getByTestId('report-confirm').textContent(), /萧山区建设四路/);
  await screenshot(page, 'report');
  await page.getByTestId('report-submit').click();
  await page.getByTestId('report-sent').waitFor();
  assert.equal(await outboxCount(page), 1);
  await page.goto('/');
  await page.locator('[data-testid=report-status][data-state=waiting]').waitFor();

  // Online: the report reaches the server and waits for the secretary.
  await phone.setOffline(false);
  await syncNow(page);
  await page.goto('/');
  await page.locator('[data-testid=report-status][data-state=pending]').waitFor();

  const secretary = await secretaryPhone(browser, server);
  const pending = secretary.getByTestId('pending-report').filter({ hasText: '孙立平' });
  await pending.waitFor();
  await screenshot(secretary, 'secretary-reports');
  // Refusing needs a reason: asked for right there, and nothing is sent.
  await pending.getByTestId('refuse-report').click();
  await assertInView(secretary, pending.getByTestId('refuse-needs-reason'));
  await pending.getByTestId('accept-report').click();
  await answered(secretary, '已接收孙立平的报到');
  await screenshot(secretary, 'secretary-answer');
  const row = secretary.locator('[data-testid=org-member][data-name=孙立平]');
  await row.waitFor();

  // The member's phone learns the move: the new organisation, an open stop, and its activities.
  await syncNow(page);
  await page.goto('/');
  assert.equal(await page.getByTestId('current-org').textContent(), HANGZHOU);
  assert.match(await page.getByTestId('open-stop').textContent(), new RegExp(HANGZHOU));
  // Leaving cannot be taken back: asked first, and a "no" keeps nothing.
  await tapAndAnswer(page, page.getByTestId('leave'), false);
  assert.equal(await outboxCount(page), 0, 'not leaving after all');
  await tapAndAnswer(page, page.getByTestId('leave'), true);
  await page.getByTestId('leaving-told').waitFor();
  await answered(page, '联网后告诉');
  await syncNow(page);

  await secretary.reload();
  await row.getByTestId('leaving').waitFor();
  await row.getByTestId('write-evaluation').click();
  await row.getByTestId('evaluation-grade').selectOption('excellent');
  assert.match(await row.getByTestId('evaluation-text').inputValue(), /尚无活动签到/);
  await row.getByTestId('evaluation-text').fill('积极参加组织生活，主动参与社区志愿服务。');
  await tapAndAnswer(secretary, row.getByTestId('submit-evaluation'), false);
  await secretary.reload();
  await row.getByTestId('leaving').waitFor();
  assert.equal(await row.getByTestId('evaluated').count(), 0, 'a "no" sends nothing');
  await row.getByTestId('write-evaluation').click();
  await row.getByTestId('evaluation-text').fill('积极参加组织生活，主动参与社区志愿服务。');
  await row.getByLabel('评价等次').selectOption('excellent');
  await tapAndAnswer(secretary, row.getByTestId('submit-evaluation'), true);
  await answered(secretary, '已为孙立平写好评价并办理离开');
  await secretary
    .getByTestId('org-departed')
    .locator('[data-testid=org-member][data-name=孙立平]')
    .getByTestId('evaluated')
    .waitFor();

  await syncNow(page);
  await page.goto('/');
  assert.match(await page.getByTestId('current-org').textContent(), new RegExp(`离开${HANGZHOU}，尚未在新的地方报到`));
  await page.getByTestId('nav-certificate').click();
  const stop = page.locator('[data-testid=stop][data-open=false]').filter({ hasText: HANGZHOU });
  assert.match(await stop.getByTestId('evaluation').textContent(), /优秀.*积极参加组织生活/s);
});

e2eTest('a rotated code is refused offline, as a link and through the camera; a second report asks about the first stop', async () => {
  const server = await startServer();
  const { link: old } = await orgLink(server.url, 'GH-S02');
  // The camera keeps showing the old poster.
  const browser = await launchCameraBrowser(new URL(old, server.url).href);
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, 'GH-M01');
  await waitForServiceWorker(page);
  await waitForFirstSync(page);

  // GH-M01 is at Hangzhou: reporting to Suzhou asks about Hangzhou first.
  await page.goto(old);
  await page.getByTestId('report-left-question').waitFor();
  assert.match(await page.getByTestId('report-left-question').textContent(), new RegExp(HANGZHOU));

  const secretary = await secretaryPhone(browser, server, 'GH-S02');
  const before = await secretary.getByTestId('org-code-link').inputValue();
  await tapAndAnswer(secretary, secretary.getByTestId('rotate-code'), false);
  await secretary.reload();
  assert.equal(await secretary.getByTestId('org-code-link').inputValue(), before, 'a "no" keeps the code');
  await tapAndAnswer(secretary, secretary.getByTestId('rotate-code'), true);
  await answered(secretary, '已更换');
  await secretary.waitForFunction(
    (before) => document.querySelector('[data-testid=org-code-link]')?.value !== before,
    before,
  );
  await screenshot(secretary, 'secretary-code');

  await syncNow(page);
  await phone.setOffline(true);
  await page.goto(old);
  const refused = page.locator('[data-testid=checkin-result][data-result=invalid]');
  await refused.waitFor();
  assert.equal(await refused.getAttribute('data-error'), 'revoked');
  await page.goto('/');
  await page.getByTestId('nav-scan').click();
  await page.locator('[data-testid=checkin-result][data-result=invalid][data-error=revoked]').waitFor();
  assert.equal(await outboxCount(page), 0, 'nothing stored');
  await phone.setOffline(false);
});

e2eTest('the township sees where its members are and who is out of contact, and registers a return', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-T05'); // 三口镇
  await page.getByTestId('nav-township').click();
  const list = page.getByTestId('township-members');
  await list.waitFor();
  const chen = list.locator('[data-testid=township-member][data-name=陈明]');
  assert.match(await chen.getByTestId('whereabouts').textContent(), /苏州/);
  const luo = list.locator('[data-testid=township-member][data-name=罗小燕]');
  await luo.getByTestId('lost').waitFor();
  await screenshot(page, 'township');
  await tapAndAnswer(page, chen.getByTestId('register-return'), false);
  await page.reload();
  await chen.getByTestId('whereabouts').filter({ hasText: '苏州' }).waitFor();
  await tapAndAnswer(page, chen.getByTestId('register-return'), true);
  await answered(page, '已登记陈明返乡');
  await chen.getByTestId('whereabouts').filter({ hasText: '登记返乡' }).waitFor();
});

e2eTest('a report refused with its reason: the secretary sees it done, in view', async () => {
  const server = await startServer();
  const { link, org } = await orgLink(server.url);
  // 钱桂芳 reports from her phone (here through the API, as her phone's sync sends it).
  const member = await apiSession(server.url, 'GH-M22');
  const payload = new URL(link, server.url).pathname.slice('/q/'.length);
  const pushed = await api(server.url, '/api/v1/sync/push', {
    method: 'POST',
    token: member.token,
    body: {
      client_id: member.clientId,
      mutations: [{ seq: 1, occurred_at: Date.now(), kind: 'report', args: { id: randomUUID(), code: payload, left_stop: null } }],
    },
  });
  assert.equal(pushed.status, 200);

  const { page } = await signedInPhone(server, 'GH-S01');
  await page.goto(`/org/${org}`);
  const pending = page.getByTestId('pending-report').filter({ hasText: '钱桂芳' });
  await pending.getByTestId('refuse-reason').fill('不在本组织的服务范围，请到苏州报到。');
  await pending.getByTestId('refuse-report').click();
  await answered(page, '已不接收钱桂芳的报到');
  await pending.waitFor({ state: 'detached' });
});
