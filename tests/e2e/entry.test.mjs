// A phone's first visit: the page's loader (src/store/loader.js) starts the small entry app, the sign-in page alone,
// on a phone that holds nobody's data. Signing in there keeps the session on the phone, and the page that follows
// is the member app's, as is every visit after.

import assert from 'node:assert/strict';
import { diskPhone, e2eTest, launchBrowser, newPhone, startServer } from './harness.mjs';
import { PIN, activityLinks, serverCheckIns, setPinIfAsked, waitForFirstSync } from './flows.mjs';

/** The wasm files this page has fetched, by path. */
function wasmFetched(page) {
  return page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((entry) => new URL(entry.name).pathname)
      .filter((path) => path.endsWith('.wasm')),
  );
}

e2eTest('a first visit signs in with the entry app, and the member app takes over', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();

  await page.goto('/');
  await page.getByTestId('activation-code').waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin', 'the home page leads to sign-in');
  const first = await wasmFetched(page);
  assert.equal(first.length, 1, `one app: ${first}`);
  assert.match(first[0], /^\/entry\/guihai-[0-9a-f]+_bg\.wasm$/);

  // A wrong code is said so, and the form stays.
  await page.getByTestId('activation-code').fill('GH-NOPE');
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('signin-error').waitFor();

  await page.getByTestId('activation-code').fill('GH-M01');
  await page.getByTestId('signin-submit').click();
  await setPinIfAsked(page);
  const then = await wasmFetched(page);
  assert.equal(then.length, 1, `one app: ${then}`);
  assert.match(then[0], /^\/guihai-[0-9a-f]+_bg\.wasm$/, 'the member app');
  // The session the entry app kept is the member app's: it syncs with it.
  await waitForFirstSync(page);

  // The phone now holds the member's data: the sign-in page, and any other, is the member app's.
  await page.goto('/signin');
  await page.getByTestId('activation-code').waitFor();
  assert.match((await wasmFetched(page))[0], /^\/guihai-/);
});

e2eTest('a code link opened first asks to sign in, and checks in once the member has', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();

  // A member scanning the code at the door with a phone that never opened the app.
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=sign-in]').waitFor();
  await page.locator('[data-testid=checkin-result] a').click();
  await page.getByTestId('activation-code').fill('GH-M01');
  assert.match((await wasmFetched(page))[0], /^\/entry\//, 'still the entry app');
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('pin-new').fill(PIN);
  await page.getByTestId('pin-again').fill(PIN);
  await page.getByTestId('pin-submit').click();

  // The code opened before signing in opens now, in the member app, and checks the member in.
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  assert.match((await wasmFetched(page))[0], /^\/guihai-/);
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  const held = await serverCheckIns(server.url, 'GH-M01');
  assert.deepEqual(held.map((c) => c.activity_id), [running.activity.id]);
});

e2eTest('a first visit to any other page starts the member app', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();

  await page.goto('/checkins');
  // The member app leads a phone nobody signed in on to sign-in.
  await page.getByTestId('activation-code').waitFor();
  assert.match((await wasmFetched(page))[0], /^\/guihai-/);
});

e2eTest('the session the entry app kept outlives a browser killed 100 ms after the next page shows', async () => {
  const server = await startServer();
  let phone = await diskPhone();
  let page = await phone.newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByTestId('activation-code').fill('GH-M01');
  await page.getByTestId('signin-submit').click();
  // The member app's page after an activation.
  await page.getByTestId('set-pin').waitFor();
  await page.waitForTimeout(100);
  await phone.kill();

  phone = await diskPhone({ profileDir: phone.profileDir });
  page = await phone.newPage();
  await page.goto(`${server.url}/`);
  await page.getByTestId('home').waitFor();
});
