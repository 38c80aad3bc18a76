// Signing out: what has not reached the server is shown first and kept until the member syncs it or says in so
// many words that it may go; then the phone forgets the member and the server forgets the session.

import assert from 'node:assert/strict';
import { api, e2eTest, screenshot, startServer } from './harness.mjs';
import { checkedInOffline, serverCheckIns, signInOnPhone, waitForFirstSync } from './flows.mjs';

const MEMBER = 'GH-M01';

/** The app's keys left in local storage (the schema version stays: it describes the empty store too). */
const appKeys = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('gh1:')).sort());

/** A member with a check-in made offline, on the sign-out screen. */
async function signingOutWithACheckInWaiting(server) {
  const { phone, page } = await checkedInOffline(server, MEMBER);
  await page.goto('/signout');
  return { phone, page };
}

e2eTest('sign-out waits for unsynced records, then wipes the phone and ends the session', async () => {
  const server = await startServer();
  const { phone, page } = await signingOutWithACheckInWaiting(server);

  const unsynced = page.getByTestId('signout-unsynced');
  await unsynced.filter({ hasText: '1' }).waitFor();
  assert.equal(await page.getByTestId('signout-submit').isDisabled(), true, 'not while a record would be lost');
  await screenshot(page, 'signout');

  await phone.setOffline(false);
  await unsynced.waitFor({ state: 'detached', timeout: 30_000 });
  const { token } = await page.evaluate(() => JSON.parse(localStorage.getItem('gh1:session')));
  await page.getByTestId('signout-submit').click();
  await page.getByTestId('activation-code').waitFor();
  assert.deepEqual(await appKeys(page), ['gh1:schema']);
  assert.equal((await api(server.url, '/api/v1/me', { token })).status, 401, 'the session is revoked');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1, 'the synced check-in is safe');
});

e2eTest('a member may sign out past unsynced records only by saying they may be lost', async () => {
  const server = await startServer();
  const { phone, page } = await signingOutWithACheckInWaiting(server);

  await page.getByTestId('signout-accept-loss').check();
  await page.getByTestId('signout-submit').click();
  await page.getByTestId('activation-code').waitFor();
  assert.deepEqual(await appKeys(page), ['gh1:schema']);

  // Signing in again on this phone starts clean, as a new installation.
  await phone.setOffline(false);
  await signInOnPhone(page, MEMBER);
  await waitForFirstSync(page);
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 0);
  await page.goto('/checkins');
  await page.getByTestId('checkins-empty').waitFor();
});
