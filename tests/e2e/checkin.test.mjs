// The walking skeleton's flow, end to end on a phone-sized Chromium: sign in, go offline, check in by
// opening an activity's code link, come back online, and the server holds the check-in exactly once.

import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { api, e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import {
  activityLinks,
  forge,
  serverCheckIns,
  setPinIfAsked,
  signedInPhone,
  until,
  waitForRow,
} from './flows.mjs';
import { outboxCount, storeCounts } from './store.mjs';

const MEMBER = 'GH-M01';

e2eTest('offline: the app and the member data open, a check-in is kept, then syncs exactly once', async () => {
  let server = await startServer();
  const { running } = await activityLinks(server.url);
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();

  await page.goto('/signin');
  await page.getByTestId('activation-code').fill(MEMBER);
  await screenshot(page, 'sign-in');
  await page.getByTestId('signin-submit').click();
  await setPinIfAsked(page, () => screenshot(page, 'set-pin'));
  await waitForServiceWorker(page);
  const name = await page.getByTestId('member-name').textContent();
  await page.locator('[data-testid=sync-badge][data-state=synced]').waitFor();
  await screenshot(page, 'home');

  // (a) No network: a reload still renders the app and the member's data. The server is stopped too, so
  // nothing can answer but the phone itself (Chromium's offline mode does not cover service worker fetches).
  await phone.setOffline(true);
  await server.stop();
  await page.reload();
  assert.equal(await page.getByTestId('member-name').textContent(), name);
  await page.locator('[data-testid=sync-badge][data-state=offline]').waitFor();

  // (b) Check in through the link while offline; it survives a reload and waits.
  let pushes = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/sync/push')) pushes.push(request);
  });
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  assert.equal(await page.getByTestId('checkin-activity').textContent(), running.activity.title);
  await screenshot(page, 'check-in');
  await page.reload();
  await page.locator('[data-testid=checkin-result][data-result=already]').waitFor();
  await page.goto('/checkins');
  await waitForRow(page, running.activity.title, 'waiting');
  assert.equal(await page.getByTestId('checkin-row').count(), 1);
  assert.equal(await page.locator('[data-testid=sync-badge]').getAttribute('data-waiting'), '1');
  await screenshot(page, 'my-check-ins-waiting');

  // (c) The server is back, then the network: it syncs by itself, and the phone drops only what the server
  // acknowledged.
  server = await startServer({ port: server.port, dataDir: server.dataDir });
  assert.deepEqual(await serverCheckIns(server.url, MEMBER), [], 'nothing reached the server while offline');
  await phone.setOffline(false);
  await waitForRow(page, running.activity.title, 'synced');
  assert.equal(await outboxCount(page), 0);
  await screenshot(page, 'my-check-ins');

  // The same push sent again (a retry) changes nothing on the server.
  const push = pushes.find((request) => request.method() === 'POST');
  assert.ok(push, 'the phone pushed its outbox');
  assert.equal(push.headers()['content-encoding'], 'gzip', 'pushes travel gzipped');
  const replay = await api(server.url, '/api/v1/sync/push', {
    method: 'POST',
    token: push.headers().authorization.replace(/^Bearer /, ''),
    body: JSON.parse(gunzipSync(push.postDataBuffer()).toString('utf8')),
  });
  assert.equal(replay.status, 200);
  assert.deepEqual(replay.body.results.map((r) => r.status), ['duplicate']);
  const held = await serverCheckIns(server.url, MEMBER);
  assert.equal(held.length, 1);
  assert.equal(held[0].activity_id, running.activity.id);
});

e2eTest('a lost answer to a committed push is retried without doubling the check-in', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await signedInPhone(server, MEMBER);

  // The server commits the first push, but the phone never hears back.
  let lost = 0;
  await page.route('**/api/v1/sync/push', async (route) => {
    if (lost === 0) {
      lost += 1;
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await page.goto('/checkins');
  await waitForRow(page, running.activity.title, 'synced');
  assert.equal(lost, 1, 'the first answer was lost');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
  assert.equal(await outboxCount(page), 0);
});

e2eTest('a check-in the server took is synced even while the pull after it fails, and leaves the outbox with the next', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await signedInPhone(server, MEMBER);

  // Settling the push writes nothing for the check-in: its outbox row stays, counted as synced, until a pull
  // brings the server's record back. Here no pull gets through for a while.
  const unreachable = (route) => route.abort('connectionreset');
  await page.route('**/api/v1/sync/pull*', unreachable);
  let pushed = false;
  page.on('requestfinished', (request) => {
    if (request.url().includes('/sync/push')) pushed = true;
  });
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await until(() => pushed);
  await page.goto('/checkins');
  await waitForRow(page, running.activity.title, 'synced');
  await page.reload();
  await waitForRow(page, running.activity.title, 'synced');
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor();
  assert.equal(await outboxCount(page), 0, 'nothing waits');
  assert.deepEqual(pick(await storeCounts(page)), { outbox: 1, checkins: 0 }, 'kept where it was');

  await page.unroute('**/api/v1/sync/pull*', unreachable);
  await until(async () => {
    const counts = pick(await storeCounts(page));
    return counts.outbox === 0 && counts.checkins === 1;
  }, 60_000);
  await waitForRow(page, running.activity.title, 'synced');
  assert.equal(await page.getByTestId('checkin-row').count(), 1, 'shown once all the way');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
});

function pick({ outbox, checkins }) {
  return { outbox, checkins };
}

e2eTest('damaged, forged, expired and foreign codes say so and store nothing', async () => {
  const server = await startServer();
  const { running, ended } = await activityLinks(server.url);
  const { page } = await signedInPhone(server, MEMBER);

  const cases = [
    ['damaged', `/q/${running.payload.slice(0, 40)}`],
    ['damaged', `/q/${running.payload.slice(0, -2)}!!`],
    ['forged', `/q/${forge(running.payload)}`],
    ['expired', ended.link],
    ['not_ours', `/q/${Buffer.from('https://example.org/hello').toString('base64url')}`],
  ];
  for (const [error, link] of cases) {
    await page.goto(link);
    const result = page.locator('[data-testid=checkin-result][data-result=invalid]');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-error'), error, link);
    assert.ok((await result.locator('[role=alert]').textContent()).length > 4, 'a message in words');
    if (error === 'expired') await screenshot(page, 'check-in-expired');
  }
  assert.equal(await outboxCount(page), 0);
  assert.deepEqual(await serverCheckIns(server.url, MEMBER), []);
});

e2eTest('the server down during a sync loses nothing and the check-in lands once it is back', async () => {
  let server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await signedInPhone(server, MEMBER);

  await server.stop();
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await page.goto('/checkins');
  await page.locator('.sync-problem').waitFor();
  await waitForRow(page, running.activity.title, 'waiting');
  assert.equal(await outboxCount(page), 1);

  server = await startServer({ port: server.port, dataDir: server.dataDir });
  await waitForRow(page, running.activity.title, 'synced', 60_000);
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
  assert.equal(await outboxCount(page), 0);
});
