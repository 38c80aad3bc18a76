// Sync as the member sees it: two tabs writing offline, the sync page with its export, a reload in the
// middle of a sync, and a full store.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { activityLinks, localQueue, serverCheckIns, signedInPhone, signInOnPhone, waitForRow } from './flows.mjs';

const MEMBER = 'GH-M01';

e2eTest('two tabs check in offline; back online every check-in lands exactly once', async () => {
  let server = await startServer();
  const hangzhou = (await activityLinks(server.url, 'GH-S01')).running;
  const suzhou = (await activityLinks(server.url, 'GH-S02')).running;
  const { phone, page: first } = await signedInPhone(server, MEMBER);
  const second = await phone.newPage();
  await second.goto('/');
  await second.getByTestId('home').waitFor();

  await phone.setOffline(true);
  await server.stop();
  await first.goto(hangzhou.link);
  await second.goto(suzhou.link);
  for (const page of [first, second]) {
    await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  }
  // Each tab sees both writes: they share one outbox.
  await first.goto('/checkins');
  assert.equal(await first.getByTestId('checkin-row').count(), 2);
  assert.deepEqual(await localQueue(first), { outbox: 2, pending: 2 });

  server = await startServer({ port: server.port, dataDir: server.dataDir });
  await phone.setOffline(false);
  // Both organisations' running activities share a title, so count rows rather than find them by name.
  await first.waitForFunction(
    () => document.querySelectorAll('[data-testid=checkin-row][data-state=synced]').length === 2,
    null,
    { timeout: 30_000 },
  );
  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(held.map((c) => c.activity_id).sort(), [hangzhou.activity.id, suzhou.activity.id].sort());
  assert.deepEqual(await localQueue(second), { outbox: 0, pending: 0 });
});

e2eTest('the sync page shows what waits and since when, and exports it as a file', async () => {
  let server = await startServer();
  const { running } = await activityLinks(server.url);
  const { phone, page } = await signedInPhone(server, MEMBER);

  await phone.setOffline(true);
  await server.stop();
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await page.goto('/sync');
  const waiting = page.getByTestId('sync-waiting').locator('li');
  await waiting.first().waitFor();
  assert.equal(await waiting.count(), 1);
  assert.match(await waiting.first().textContent(), new RegExp(running.activity.title.slice(0, 6)));
  await page.getByTestId('storage-use').filter({ hasText: 'MB' }).waitFor();
  await screenshot(page, 'sync');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sync-export').click()]);
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(exported.waiting.length, 1);
  assert.equal(exported.waiting[0].op.kind, 'check_in');
  assert.equal(exported.check_ins_waiting[0].title, running.activity.title);

  server = await startServer({ port: server.port, dataDir: server.dataDir });
  await phone.setOffline(false);
  await page.getByText(/没有等待同步的记录/).waitFor({ timeout: 30_000 });
});

e2eTest('a reload in the middle of a sync neither loses nor doubles the check-in', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await signedInPhone(server, MEMBER);

  // Hold the first push at the network until the page is gone: the server commits, nobody hears back.
  let held = 0;
  let release;
  const reloaded = new Promise((resolve) => (release = resolve));
  await page.route('**/api/v1/sync/push', async (route) => {
    held += 1;
    if (held > 1) return route.continue();
    const response = await route.fetch();
    await reloaded;
    await route.fulfill({ response }).catch(() => {});
  });
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await expectEventually(() => held === 1);
  await page.goto('/checkins');
  release();
  await waitForRow(page, running.activity.title, 'synced');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
  assert.deepEqual(await localQueue(page), { outbox: 0, pending: 0 });
});

e2eTest('a full phone store says so, stores nothing half-way and keeps what it had', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const suzhou = (await activityLinks(server.url, 'GH-S02')).running;
  const { phone, page } = await signedInPhone(server, MEMBER);
  await phone.setOffline(true);
  await page.goto(suzhou.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();

  // Fill what is left of localStorage with other data.
  await page.evaluate(() => {
    let n = 0;
    for (const size of [256 * 1024, 4 * 1024, 64]) {
      try {
        for (;;) localStorage.setItem(`filler${n++}`, 'x'.repeat(size));
      } catch {
        // full at this size; go on with smaller pieces
      }
    }
  });
  await page.goto(running.link);
  const result = page.locator('[data-testid=checkin-result][data-result=not-saved]');
  await result.waitFor();
  assert.match(await result.textContent(), /存储空间已满/);
  assert.deepEqual(await localQueue(page), { outbox: 1, pending: 1 }, 'the earlier check-in is still there');

  // Space freed and back online: the kept check-in syncs.
  await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('filler')).forEach((k) => localStorage.removeItem(k)));
  await phone.setOffline(false);
  await page.goto('/checkins');
  await waitForRow(page, suzhou.activity.title, 'synced');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
});

/** Polls `condition` (in node) until it holds. */
async function expectEventually(condition, timeout = 10_000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const [days, flag] of [
  [3, 'clock_skew'],
  [-3, 'outside_window'],
]) {
  e2eTest(`a phone clock ${days > 0 ? 'ahead' : 'behind'} by 3 days still checks in, and the server keeps it flagged`, async () => {
    const server = await startServer();
    const { running } = await activityLinks(server.url);
    const browser = await launchBrowser();
    const phone = await newPhone(browser, server.url);
    await phone.clock.install({ time: new Date(Date.now() + days * 86_400_000) });
    const page = await phone.newPage();
    await signInOnPhone(page, MEMBER);
    await waitForServiceWorker(page);
    await page.locator('[data-testid=sync-badge][data-state=synced]').waitFor();

    // Offline, the code is judged by the server's time as the phone learned it, not by the wrong clock.
    await phone.setOffline(true);
    await page.goto(running.link);
    await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
    await phone.setOffline(false);
    await page.goto('/checkins');
    await waitForRow(page, running.activity.title, 'synced');

    const [held] = await serverCheckIns(server.url, MEMBER);
    assert.equal(held.flag, flag, 'kept, and flagged for the secretary');
    assert.ok(Math.abs(held.received_at - Date.now()) < 60_000, 'the server orders by its own clock');
  });
}
