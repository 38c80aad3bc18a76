// The app shell: after one visit, the app opens again with no network and no server; and it never touches
// local data that a newer build of itself wrote.

import assert from 'node:assert/strict';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { checkedInOffline, serverCheckIns } from './flows.mjs';

e2eTest('the app opens offline after the first visit', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();

  await page.goto('/');
  await page.locator('[data-testid=app]').waitFor();
  await waitForServiceWorker(page);

  // No network and no server: only the service worker's cache can answer.
  await server.stop();
  await phone.setOffline(true);
  await page.reload();

  await page.locator('body [data-testid=app]').waitFor();
  assert.equal(await page.locator('[data-testid=app]').count(), 1);
  await screenshot(page, 'offline-shell');
});

e2eTest('records saved by a newer build are left untouched and not synced', async () => {
  const server = await startServer();
  const { phone, page } = await checkedInOffline(server, 'GH-M01');
  // As if a newer build had written the store: from the next start on, this build must keep its hands off.
  await page.evaluate(() => localStorage.setItem('gh1:schema', '99'));
  await page.reload();
  await page.getByTestId('store-unusable').waitFor();
  const before = await page.evaluate(() => ({ ...localStorage }));

  await phone.setOffline(false);
  await page.reload();
  await page.getByTestId('store-unusable').waitFor();
  await page.waitForTimeout(1_000);
  assert.deepEqual(await page.evaluate(() => ({ ...localStorage })), before);
  assert.equal(before['gh1:schema'], '99');
  assert.ok(Object.keys(before).some((key) => key.startsWith('gh1:outbox:')), 'the waiting check-in is kept');
  assert.equal((await serverCheckIns(server.url, 'GH-M01')).length, 0, 'nothing was sent');
});
