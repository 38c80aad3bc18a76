// The in-app scanner, end to end: Chromium's fake camera shows a QR code (tests/e2e/camera.mjs), the app reads
// it in its decoder worker and acts on it: a check-in code checks in (with no network), anything else is said
// so and scanning goes on, and without a camera the link can be typed.

import assert from 'node:assert/strict';
import { launchCameraBrowser } from './camera.mjs';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { activityLinks, forge, signInOnPhone, waitForFirstSync } from './flows.mjs';
import { outboxCount } from './store.mjs';

const MEMBER = 'GH-M01';

/** A signed-in, synced phone whose camera shows `text` as a QR code (no camera at all without `text`). */
async function scanningPhone(server, text) {
  const browser = text === undefined ? await launchBrowser() : await launchCameraBrowser(text);
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, MEMBER);
  await waitForServiceWorker(page);
  await waitForFirstSync(page);
  return { phone, page };
}

/** Frames the decoder worker has answered so far on this page. */
const decodedFrames = (page) => page.evaluate(() => globalThis.__guihaiScan?.frames ?? 0);

e2eTest('scanning an activity code checks in, with no network at all', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { phone, page } = await scanningPhone(server, running.link);

  // Nothing can answer but the phone: the decoder worker must come from the service worker's cache.
  await phone.setOffline(true);
  await server.stop();
  await page.getByTestId('nav-scan').click();
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  // Opened in place, on the scanner's page: no page to build before the confirmation.
  assert.equal(new URL(page.url()).pathname, '/scan');
  assert.equal(await page.getByTestId('checkin-activity').textContent(), running.activity.title);
  assert.equal(await outboxCount(page), 1);

  // The next code is one tap away: the camera comes back, and the same code again is found checked in.
  await page.getByTestId('scan-again').click();
  await page.locator('[data-testid=checkin-result][data-result=already]').waitFor();
  assert.equal(await outboxCount(page), 1);

  // The scanner opened a code of nobody's for practice (src/pages/checkin.rs `rehearse`), the whole way (it is
  // measured only then), once in the app's life, and kept nothing of it.
  const rehearsals = () => page.evaluate(() => performance.getEntriesByName('guihai:rehearsal').length);
  assert.equal(await rehearsals(), 1, 'rehearsed the whole way');
  await page.locator('header .brand').click();
  await page.getByTestId('nav-scan').click();
  await page.locator('[data-testid=checkin-result][data-result=already]').waitFor();
  assert.equal(await rehearsals(), 1, 'and not again');
  assert.equal(await outboxCount(page), 1, 'the member\'s check-in only');
});

e2eTest('a QR code of another site is said so, stores nothing, and scanning goes on until the page is left', async () => {
  const server = await startServer();
  const { page } = await scanningPhone(server, 'https://example.com/hello');

  await page.getByTestId('nav-scan').click();
  await page.locator('[data-testid=scanner][data-state=on]').waitFor();
  await page.getByTestId('scan-not-ours').waitFor();
  assert.match(await page.getByTestId('scan-not-ours').textContent(), /不是归海的二维码/);
  await screenshot(page, 'scanner');
  const seen = await decodedFrames(page);
  await page.waitForFunction((before) => globalThis.__guihaiScan.frames > before, seen);
  assert.equal(new URL(page.url()).pathname, '/scan');
  assert.equal(await outboxCount(page), 0);

  // Leaving the page lets the camera go: no more frames reach the decoder.
  await page.locator('.brand').click();
  await page.getByTestId('home').waitFor();
  const atLeaving = await decodedFrames(page);
  await page.waitForTimeout(1_000);
  assert.ok((await decodedFrames(page)) <= atLeaving + 1, 'frames are still decoded after leaving the scanner');
});

e2eTest('a forged code seen by the camera gets the code page’s warning and stores nothing', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await scanningPhone(server, `${server.url}/q/${forge(running.payload)}`);

  await page.getByTestId('nav-scan').click();
  const result = page.locator('[data-testid=checkin-result][data-result=invalid]');
  await result.waitFor();
  assert.equal(await result.getAttribute('data-error'), 'forged');
  assert.equal(await outboxCount(page), 0);
});

e2eTest('without a camera the scanner says why, and a link typed by hand checks in', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await scanningPhone(server);

  await page.goto('/scan');
  await page.locator('[data-testid=scanner][data-state=no-camera], [data-testid=scanner][data-state=denied]').waitFor();
  assert.ok((await page.locator('[data-testid=scan-camera][role=alert]').textContent()).length > 4);

  await page.getByTestId('scan-typed').fill('https://example.com/hello');
  await page.getByTestId('scan-typed-submit').click();
  await page.getByTestId('scan-not-ours').waitFor();
  assert.equal(await outboxCount(page), 0);

  await page.getByTestId('scan-typed').fill(`  ${running.link}  `);
  await page.getByTestId('scan-typed-submit').click();
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  assert.equal(await page.getByTestId('checkin-activity').textContent(), running.activity.title);
});

e2eTest('where the browser has its own BarcodeDetector, it reads first, and what it misses goes to the worker', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  // Chromium on Linux has no BarcodeDetector (Chrome on Android does): the page is given one whose answers the
  // test sets, to prove the wiring: what it reads is used, and a frame it cannot read reaches the worker.
  const withDetector = async (answer) => {
    const { phone, page } = await scanningPhone(server, running.link);
    await page.addInitScript((answer) => {
      globalThis.BarcodeDetector = class {
        static async getSupportedFormats() {
          return ['qr_code'];
        }
        async detect() {
          globalThis.__detected = (globalThis.__detected ?? 0) + 1;
          return answer ? [{ rawValue: answer }] : [];
        }
      };
    }, answer);
    await page.reload();
    await page.getByTestId('home').waitFor();
    return { phone, page };
  };

  const native = await withDetector(running.link);
  await native.page.getByTestId('nav-scan').click();
  await native.page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  assert.equal(await native.page.evaluate(() => globalThis.__guihaiScan.by), 'native');

  const blind = await withDetector(null);
  await blind.page.getByTestId('nav-scan').click();
  // The same member, on a second phone: already checked in, from the first.
  await blind.page.locator('[data-testid=checkin-result][data-result=already]').waitFor();
  assert.equal(await blind.page.evaluate(() => globalThis.__guihaiScan.by), 'worker');
  assert.ok((await blind.page.evaluate(() => globalThis.__detected)) >= 1, 'the detector was asked first');
});
