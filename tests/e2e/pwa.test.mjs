// The installable app around the pages: a new version is only taken when the member says yes, the
// language choice survives a reload, the browser finds a web app manifest it can install from, and home offers
// to add the app to the home screen once the member has signed in.

import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answered, signedInPhone, waitForFirstSync } from './flows.mjs';
import { e2eTest, launchBrowser, newPhone, startServer, waitForServiceWorker, waitForStaffApp } from './harness.mjs';

const LOCALES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'locales');
const SW_VERSION = /const VERSION = "([^"]+)";/;

async function openApp(server) {
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await page.goto('/');
  await page.locator('[data-testid=app]').waitFor();
  return { phone, page };
}

/** The translation files: Chinese and English. */
async function translations() {
  const read = async (file) => JSON.parse(await readFile(path.join(LOCALES, `${file}.json`), 'utf8'));
  // Chinese: the entry app's texts, then the member app's.
  return [{ ...(await read('zh.entry')), ...(await read('zh')) }, await read('en')];
}

/** The names of the service worker's caches: `guihai-shell-<version>`, one per worker version. */
function shellCaches(page) {
  return page.evaluate(() => caches.keys());
}

e2eTest('a new version waits for the member\'s yes', async () => {
  const dist = await mkdtemp(path.join(tmpdir(), 'guihai-dist-'));
  try {
    await cp(process.env.GUIHAI_DIST, dist, { recursive: true });
    // The deployed worker is an hour old: the new one written below must not share its second, or the server's
    // Last-Modified (whole seconds) would answer the update check 304.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(path.join(dist, 'sw.js'), anHourAgo, anHourAgo);
    const server = await startServer({ dist });
    const { page } = await openApp(server);
    await waitForServiceWorker(page);
    const swFile = path.join(dist, 'sw.js');
    const oldWorker = await readFile(swFile, 'utf8');
    const oldVersion = SW_VERSION.exec(oldWorker)?.[1];
    assert.ok(oldVersion, 'sw.js has a version');
    assert.deepEqual(await shellCaches(page), [`guihai-shell-${oldVersion}`]);

    // A new deploy, as a build would make it: a new version in sw.js. The precompressed siblings go, so the
    // server sends the new bytes.
    const newVersion = `${oldVersion}-next`;
    await writeFile(swFile, `${oldWorker.replace(SW_VERSION, `const VERSION = "${newVersion}";`)}\n// ${newVersion}\n`);
    await Promise.all(['.gz', '.br'].map((suffix) => rm(swFile + suffix)));

    // The app asks for updates whenever the page becomes visible again. Asked again every 2 s until it shows: the
    // app hears the event only once its worker's registration has resolved, and the browser may answer a check
    // that was already under way with the old worker.
    const prompt = page.getByTestId('update-prompt');
    for (let asked = 0; !(await prompt.isVisible()); asked += 1) {
      assert.ok(asked < 15, 'no update prompt after 30 s of asking');
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      await prompt.waitFor({ timeout: 2_000 }).catch(() => {});
    }
    // Installed and waiting: the old worker still serves this page until the member accepts.
    const waiting = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return registration.waiting?.state;
    });
    assert.equal(waiting, 'installed');
    assert.deepEqual(
      (await shellCaches(page)).sort(),
      [oldVersion, newVersion].map((version) => `guihai-shell-${version}`).sort(),
    );

    const reloaded = page.waitForEvent('load');
    await prompt.getByRole('button').click();
    await reloaded;
    await page.locator('[data-testid=app]').waitFor();
    const after = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return {
        controller: navigator.serviceWorker.controller?.state,
        waiting: registration.waiting,
        active: registration.active?.state,
      };
    });
    assert.deepEqual(after, { controller: 'activated', waiting: null, active: 'activated' });
    // Only the new worker's activation deletes the old version's cache.
    assert.deepEqual(await shellCaches(page), [`guihai-shell-${newVersion}`]);
    assert.equal(await prompt.count(), 0);
  } finally {
    await rm(dist, { recursive: true, force: true });
  }
});

e2eTest('the language switch is remembered', async () => {
  const [zh, en] = await translations();
  const server = await startServer();
  const { page } = await openApp(server);
  const submit = page.getByTestId('signin-submit');
  const shows = async (texts, lang) => {
    await page.locator('[data-testid=signin-submit]', { hasText: texts['signin.submit'] }).waitFor();
    assert.equal(await page.getByTestId('lang-switch').textContent(), texts['lang.switch']);
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
  };

  await shows(zh, 'zh-CN');
  await page.getByTestId('lang-switch').click();
  await shows(en, 'en');
  assert.equal(await submit.textContent(), 'Sign in');
  await page.reload();
  await shows(en, 'en');
  await page.getByTestId('lang-switch').click();
  await shows(zh, 'zh-CN');
  await page.reload();
  await shows(zh, 'zh-CN');
});

e2eTest('English is not in the first load: fetched when chosen, it works offline once the phone keeps it', async () => {
  const [zh, en] = await translations();
  const server = await startServer();
  const { phone, page } = await openApp(server);
  await waitForServiceWorker(page);
  const fetchedEnglish = () =>
    page.evaluate(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/locales/')));
  assert.equal(await fetchedEnglish(), false, 'a member reading Chinese never fetches English');
  const english = async () => {
    await page.getByTestId('signin-submit').filter({ hasText: en['signin.submit'] }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  };

  // The service worker kept it: chosen offline, it comes from there, and so does the next start.
  await phone.setOffline(true);
  await page.getByTestId('lang-switch').click();
  await english();
  assert.equal(await fetchedEnglish(), true);
  await page.reload();
  await english();

  // A phone whose browser keeps nothing (no service worker here), offline: it says why, and stays in Chinese.
  const bare = await newPhone(phone.browser(), server.url, { serviceWorkers: 'block' });
  const other = await bare.newPage();
  await other.goto('/');
  await other.locator('[data-testid=app]').waitFor();
  await bare.setOffline(true);
  await other.getByTestId('lang-switch').click();
  await answered(other, zh['lang.unavailable']);
  assert.equal(await other.getByTestId('lang-switch').textContent(), zh['lang.switch']);
  assert.equal(await other.evaluate(() => document.documentElement.lang), 'zh-CN');

  // Online it comes. At the next start, with no service worker to read it from, the app does not wait for the
  // network: it starts, and turns English when the file comes.
  await bare.setOffline(false);
  await other.getByTestId('lang-switch').click();
  await other.waitForFunction(() => document.documentElement.lang === 'en');
  await other.reload();
  await other.getByTestId('signin-submit').filter({ hasText: en['signin.submit'] }).waitFor();
});

e2eTest('the browser finds an installable manifest', async () => {
  const server = await startServer();
  const { phone, page } = await openApp(server);
  await waitForServiceWorker(page);
  const cdp = await phone.newCDPSession(page);

  // What Chromium itself fetched through index.html's <link rel=manifest>.
  const found = await cdp.send('Page.getAppManifest');
  assert.equal(new URL(found.url).pathname, '/manifest.webmanifest');
  assert.deepEqual(found.errors, []);
  const manifest = JSON.parse(found.data);
  assert.equal(manifest.name, '流动党员之家');
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, '/');

  const icons = manifest.icons.filter((icon) => icon.type === 'image/png');
  const has = (sizes, purpose) => icons.some((icon) => icon.sizes === sizes && icon.purpose.split(' ').includes(purpose));
  assert.ok(has('192x192', 'any'), 'a 192 px icon');
  assert.ok(has('512x512', 'any'), 'a 512 px icon');
  assert.ok(has('512x512', 'maskable'), 'a maskable icon');
  // Each icon is served, and is a PNG of the size it claims (width and height sit at bytes 16..24).
  for (const icon of icons) {
    const response = await fetch(new URL(icon.src, server.url));
    assert.equal(response.status, 200, icon.src);
    assert.equal(response.headers.get('content-type'), 'image/png', icon.src);
    const png = Buffer.from(await response.arrayBuffer());
    assert.equal(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`, icon.sizes, icon.src);
  }

  // Playwright's browser contexts are incognito profiles, where Chromium never offers to install.
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors.filter((error) => error.errorId !== 'in-incognito'), []);
});

e2eTest('after signing in, home offers to add the app to the home screen, by the browser or by its steps', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-M01');
  // Headless Chromium makes no offer of its own: the steps for this browser are shown.
  const offer = page.getByTestId('install-offer');
  await offer.getByTestId('install-steps').waitFor();
  assert.match(await offer.getByTestId('install-steps').textContent(), /添加到主屏幕/);

  // The browser's offer, as Chrome on Android makes it: kept, and made when the member taps the button.
  await page.evaluate(() => {
    const offer = new Event('beforeinstallprompt', { cancelable: true });
    offer.prompt = async () => {
      window.installPrompted = true;
    };
    offer.userChoice = Promise.resolve({ outcome: 'accepted', platform: 'web' });
    window.dispatchEvent(offer);
  });
  await offer.getByTestId('install-app').click();
  await answered(page, '已添加');
  assert.equal(await page.evaluate(() => window.installPrompted), true);
  await offer.waitFor({ state: 'detached' });

  // "No thanks" is remembered on the phone.
  await page.reload();
  await offer.getByTestId('install-decline').click();
  await offer.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByTestId('home').waitFor();
  assert.equal(await offer.count(), 0);
});

e2eTest("a member downloads the member app only; a secretary's phone keeps the staff app, for use offline", async () => {
  const server = await startServer();
  const fetchedStaffFiles = (page) => {
    const staff = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/staff/')) staff.push(request.url());
    });
    return staff;
  };
  const cachedStaffFiles = (page) =>
    page.evaluate(async () => {
      const kept = [];
      for (const name of await caches.keys()) {
        const requests = await (await caches.open(name)).keys();
        kept.push(...requests.map((request) => new URL(request.url).pathname).filter((at) => at.startsWith('/staff/')));
      }
      return kept;
    });

  // A member: signed in, synced, home shown, the service worker installed; not a byte of the staff app.
  const member = await signedInPhone(server, 'GH-M01');
  const memberFetched = fetchedStaffFiles(member.page);
  await waitForServiceWorker(member.page);
  await waitForFirstSync(member.page);
  await member.page.reload();
  await member.page.getByTestId('home').waitFor();
  assert.deepEqual(memberFetched, []);
  assert.deepEqual(await cachedStaffFiles(member.page), []);
  // Offline, a staff screen on a phone without the staff app says how to get it, instead of "not found".
  await member.phone.setOffline(true);
  await member.page.goto('/township/any');
  await member.page.getByTestId('staff-offline').waitFor();
  await member.phone.setOffline(false);

  // A secretary: home asks the service worker to keep the staff app, and their screens open in it.
  const { phone, page } = await signedInPhone(server, 'GH-S01');
  const secretaryFetched = fetchedStaffFiles(page);
  await waitForServiceWorker(page);
  await waitForStaffApp(page);
  const kept = await cachedStaffFiles(page);
  assert.ok(kept.some((at) => at.endsWith('_bg.wasm')), `the staff app is kept: ${kept}`);
  await page.getByTestId('nav-org').click();
  await page.getByTestId('org-page').waitFor();
  assert.ok(secretaryFetched.some((url) => url.endsWith('_bg.wasm')), 'the staff screen runs the staff app');

  await page.getByTestId('org-activities-link').click();
  await page.getByTestId('org-activities').waitFor();

  // With no network, the secretary's activities open from the phone, and home too.
  await phone.setOffline(true);
  await page.reload();
  await page.getByTestId('org-activities').waitFor();
  await page.goto('/');
  await page.getByTestId('home').waitFor();
});
