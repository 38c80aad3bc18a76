// The member card (电子流动党员证): the member's phone shows a signed, short-lived QR code, kept for offline
// use; a secretary's phone with no network scans it with its camera and sees who the member is.

import assert from 'node:assert/strict';
import { launchCameraBrowser } from './camera.mjs';
import { e2eTest, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { signInOnPhone, signedInPhone, waitForFirstSync } from './flows.mjs';

e2eTest('the member card shows offline, and a secretary checks it offline with the camera', async () => {
  const server = await startServer();
  const { phone, page } = await signedInPhone(server, 'GH-M01');
  await page.getByTestId('nav-card').click();
  const qr = page.getByTestId('card-qr');
  await qr.waitFor();
  const link = await qr.getAttribute('data-link');
  assert.match(link, /\/q\/[A-Za-z0-9_-]+$/);
  assert.equal(await page.getByTestId('card-validity').getAttribute('data-expired'), 'false');
  await screenshot(page, 'member-card');

  // No network: the kept card still shows, with its expiry.
  await phone.setOffline(true);
  await page.reload();
  assert.equal(await page.getByTestId('card-qr').getAttribute('data-link'), link);
  assert.match(await page.getByTestId('card-validity').textContent(), /有效期至/);

  // The secretary's phone, offline too, scans it.
  const browser = await launchCameraBrowser(link);
  const secretaryPhone = await newPhone(browser, server.url);
  const secretary = await secretaryPhone.newPage();
  await signInOnPhone(secretary, 'GH-S01');
  await waitForServiceWorker(secretary);
  await waitForFirstSync(secretary);
  await secretaryPhone.setOffline(true);
  await secretary.getByTestId('nav-scan').click();
  await secretary.locator('[data-testid=checkin-result][data-result=member]').waitFor();
  assert.equal(await secretary.getByTestId('verified-name').textContent(), '王建国');
});
