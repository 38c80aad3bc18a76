// The app shell: after one visit, the app opens again with no network and no server; and it never touches
// local data that a newer build of itself wrote.

import assert from 'node:assert/strict';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { activityLinks, serverCheckIns, signedInPhone, waitForFirstSync } from './flows.mjs';

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
  const { running } = await activityLinks(server.url);
  const { phone, page } = await signedInPhone(server, 'GH-M01');
  await waitForFirstSync(page);
  await phone.setOffline(true);
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  const before = await page.evaluate(() => ({ ...localStorage, 'gh1:schema': '99' }));
  await page.evaluate(() => localStorage.setItem('gh1:schema', '99'));

  await phone.setOffline(false);
  await page.reload();
  await page.getByTestId('store-unusable').waitFor();
  await page.waitForTimeout(1_000);
  assert.deepEqual(await page.evaluate(() => ({ ...localStorage })), before);
  assert.equal((await serverCheckIns(server.url, 'GH-M01')).length, 0, 'nothing was sent');
});
