// The app shell: after one visit, the app opens again with no network and no server; it never touches local
// data that a newer build of itself wrote; every sub-page has a way back and a signed-out one leads to sign-in;
// the organisation's code is on screen.

import assert from 'node:assert/strict';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { answered, checkedInOffline, serverCheckIns, signedInPhone } from './flows.mjs';
import { storeCounts } from './store.mjs';

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
  // As if a newer build had upgraded the store: from the next start on, this build must keep its hands off.
  // (The newer build's tab closes this one's connection; here the page is away while it upgrades.)
  await page.goto('/manifest.webmanifest');
  await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open('guihai', 99);
        request.onupgradeneeded = () => request.result.createObjectStore('from_a_newer_build');
        request.onsuccess = () => {
          request.result.close();
          resolve();
        };
        request.onerror = () => reject(request.error);
      }),
  );
  await page.goto('/');
  await page.getByTestId('store-unusable').waitFor();
  const before = await storeCounts(page);

  await phone.setOffline(false);
  await page.reload();
  await page.getByTestId('store-unusable').waitFor();
  await page.waitForTimeout(1_000);
  assert.deepEqual(await storeCounts(page), before);
  assert.equal(before.outbox, 1, 'the waiting check-in is kept');
  assert.equal(before.from_a_newer_build, 0);
  assert.equal((await serverCheckIns(server.url, 'GH-M01')).length, 0, 'nothing was sent');
});

e2eTest('every sub-page has a way back, and a signed-out page leads to sign-in', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const stranger = await (await newPhone(browser, server.url)).newPage();
  await stranger.goto('/checkins');
  await stranger.getByTestId('activation-code').waitFor();
  assert.equal(new URL(stranger.url()).pathname, '/signin', 'not an empty list of check-ins');

  const { page } = await signedInPhone(server, 'GH-S01');
  assert.equal(await page.getByTestId('back').count(), 0, 'home has nowhere to go back to');
  await page.getByTestId('nav-org-activities').click();
  await page.getByTestId('new-activity').click();
  await page.getByTestId('back').click();
  await page.waitForURL(/\/org\/[^/]+\/activities$/);
  await page.getByTestId('back').click();
  await page.waitForURL(/\/org\/[^/]+$/);
  await page.getByTestId('back').click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.getByTestId('home').waitFor();
});

e2eTest("the organisation's code is on the secretary's screen to scan, with a full link to copy", async () => {
  const server = await startServer();
  const { phone, page } = await signedInPhone(server, 'GH-S01');
  await phone.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByTestId('nav-org').click();
  const code = page.getByTestId('org-code');
  await code.locator('svg.qr path').waitFor();
  const link = await page.getByTestId('org-code-link').inputValue();
  assert.ok(link.startsWith(`${server.url}/q/`), link);
  await page.getByTestId('copy-org-link').click();
  await answered(page, '报到链接已复制');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  // The link works as it is: opened on a member's phone, it is the organisation's code.
  const { page: member } = await signedInPhone(server, 'GH-M21');
  await member.goto(link);
  await member.getByTestId('report-confirm').waitFor();
});

e2eTest('the page is never blank while the app downloads: the HTML paints its frame and a moving bar', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const page = await (await newPhone(browser, server.url)).newPage();
  // A slow link: the app's wasm arrives only when the test lets it.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route('**/*.wasm', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/', { waitUntil: 'commit' });
  const loading = page.getByTestId('loading');
  await loading.waitFor();
  assert.match(await loading.textContent(), /正在打开归海/);
  await screenshot(page, 'loading');
  release();
  await page.getByTestId('activation-code').waitFor();
  assert.equal(await loading.count(), 0, 'the app took its place');
});
