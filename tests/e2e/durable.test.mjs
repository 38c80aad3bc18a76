// Nothing the screen confirms is lost. A phone's browser is killed outright (SIGKILL to all its processes, as
// Android kills a browser in the background) 100 ms after the screen confirmed a check-in, a report or a profile
// edit; started again on the same profile with the server still down, it shows the write waiting; once the
// server is back, the write reaches it exactly once. (With localStorage, which Chromium writes to disk lazily,
// a check-in killed this way within seconds was gone.)

import assert from 'node:assert/strict';
import { api, diskPhone, e2eTest, startServer, waitForServiceWorker } from './harness.mjs';
import {
  activityLinks,
  apiSession,
  orgLink,
  pullAll,
  serverCheckIns,
  signInOnPhone,
  waitForFirstSync,
  waitForRow,
} from './flows.mjs';
import { outboxCount } from './store.mjs';

/** How long after the confirmation the browser is killed. */
const KILLED_AFTER_MS = 100;

/**
 * Signs `member` in on a phone with its profile on disk; `prepare(url)` gets what the write needs from the
 * server (a code a secretary shows); the server stops (the phone is offline from here on); `act` makes the write
 * and waits for its confirmation; 100 ms later the browser is killed, then started again on the same profile.
 * Returns the restarted phone's page, at the app's home served by its service worker, and `backOnline()`.
 */
async function killedAfterConfirming(member, prepare, act) {
  const server = await startServer();
  const prepared = await prepare(server.url);
  let phone = await diskPhone();
  let page = await phone.newPage();
  await signInOnPhone(page, member, server.url);
  await waitForServiceWorker(page);
  await waitForFirstSync(page);
  await server.stop();

  await act(page, server.url, prepared);
  await page.waitForTimeout(KILLED_AFTER_MS);
  await phone.kill();

  phone = await diskPhone({ profileDir: phone.profileDir });
  page = await phone.newPage();
  await page.goto(`${server.url}/`);
  await page.getByTestId('home').waitFor();
  const backOnline = () => startServer({ port: server.port, dataDir: server.dataDir });
  return { page, backOnline, prepared };
}

/** Waits until the phone's outbox is empty: everything it held reached the server. */
async function drained(page) {
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 60_000 });
  assert.equal(await outboxCount(page), 0);
}

e2eTest('a check-in confirmed 100 ms before the browser is killed survives, and lands exactly once', async () => {
  const { page, backOnline, prepared: running } = await killedAfterConfirming(
    'GH-M01',
    async (url) => (await activityLinks(url)).running,
    async (page, url, running) => {
      await page.goto(`${url}/q/${running.payload}`);
      await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
    },
  );
  assert.equal(await page.locator('[data-testid=sync-badge]').getAttribute('data-waiting'), '1');
  await page.goto(page.url().replace(/\/$/, '/checkins'));
  await waitForRow(page, running.activity.title, 'waiting');

  const server = await backOnline();
  await waitForRow(page, running.activity.title, 'synced', 60_000);
  await drained(page);
  const held = await serverCheckIns(server.url, 'GH-M01');
  assert.deepEqual(held.map((c) => c.activity_id), [running.activity.id], 'exactly once');
});

e2eTest('a report confirmed 100 ms before the browser is killed survives, and lands exactly once', async () => {
  const { page, backOnline, prepared } = await killedAfterConfirming(
    'GH-M21',
    (url) => orgLink(url),
    async (page, url, { link }) => {
      await page.goto(new URL(link, url).href);
      await page.getByTestId('report-submit').click();
      await page.getByTestId('report-sent').waitFor();
    },
  );
  await page.locator('[data-testid=report-status][data-state=waiting]').waitFor();

  const server = await backOnline();
  await page.locator('[data-testid=report-status][data-state=pending]').waitFor({ timeout: 60_000 });
  await drained(page);
  const secretary = await apiSession(server.url, 'GH-S01');
  const { body } = await api(server.url, `/api/v1/orgs/${prepared.org}/overview`, { token: secretary.token });
  assert.deepEqual(
    body.pending.map((report) => report.name),
    ['孙立平'],
    'the secretary sees it once',
  );
});

e2eTest('a profile edit confirmed 100 ms before the browser is killed survives, and lands exactly once', async () => {
  const { page, backOnline } = await killedAfterConfirming(
    'GH-M06',
    async () => null,
    async (page, url) => {
      await page.goto(`${url}/profile`);
      await page.getByTestId('profile-edit').click();
      await page.getByTestId('profile-input-city').fill('嘉兴市南湖区');
      await page.getByTestId('profile-save').click();
      await page.getByTestId('profile-city').filter({ hasText: '嘉兴市南湖区' }).waitFor();
    },
  );
  await page.getByTestId('nav-profile').click();
  const city = page.getByTestId('profile-city');
  await city.filter({ hasText: '嘉兴市南湖区' }).locator('.pill').waitFor();

  const server = await backOnline();
  await city.locator('.pill').waitFor({ state: 'detached', timeout: 60_000 });
  await drained(page);
  const records = await pullAll(server.url, await apiSession(server.url, 'GH-M06'));
  const profile = records.find((r) => r.type === 'profile').data;
  assert.equal(profile.values.city, '嘉兴市南湖区');
});
