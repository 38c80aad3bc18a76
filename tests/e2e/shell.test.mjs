// The app shell: after one visit, the app opens again with no network and no server.

import assert from 'node:assert/strict';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';

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
