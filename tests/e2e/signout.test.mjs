// Signing out: what has not reached the server is shown first and kept until the member syncs it or says in so
// many words that it may go; then the phone forgets the member and the server forgets the session. A phone
// used in turn: the next member signs in once the one before has signed out or their session has ended, and
// not while that member's writes still wait.

import assert from 'node:assert/strict';
import { api, e2eTest, screenshot, startServer } from './harness.mjs';
import {
  activityLinks,
  checkedInOffline,
  serverCheckIns,
  signedInPhone,
  signInOnPhone,
  waitForFirstSync,
  waitForRow,
} from './flows.mjs';
import { endSession, kv, memberData, outboxCount } from './store.mjs';

const MEMBER = 'GH-M01';

const NOTHING_LEFT = { entries: 0, local: [] };

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
  const { token } = await kv(page, 'session');
  await page.getByTestId('signout-submit').click();
  await page.getByTestId('activation-code').waitFor();
  assert.deepEqual(await memberData(page), NOTHING_LEFT);
  // Signed out, the badge claims nothing about syncing (it said "all synced · never synced").
  const badge = await page.getByTestId('sync-badge').textContent();
  assert.doesNotMatch(badge, /已全部同步|尚未同步/, badge);
  assert.equal((await api(server.url, '/api/v1/me', { token })).status, 401, 'the session is revoked');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1, 'the synced check-in is safe');
});

e2eTest('a member may sign out past unsynced records only by saying they may be lost', async () => {
  const server = await startServer();
  const { phone, page } = await signingOutWithACheckInWaiting(server);

  await page.getByTestId('signout-accept-loss').check();
  await page.getByTestId('signout-submit').click();
  await page.getByTestId('activation-code').waitFor();
  assert.deepEqual(await memberData(page), NOTHING_LEFT);

  // Signing in again on this phone starts clean, as a new installation.
  await phone.setOffline(false);
  await signInOnPhone(page, MEMBER);
  await waitForFirstSync(page);
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 0);
  await page.goto('/checkins');
  await page.getByTestId('checkins-empty').waitFor();
});

/** The phone's sync (the app's start runs one) hears that the session has ended; the app goes to sign-in and
 * says why. */
async function sessionEnds(page) {
  await endSession(page);
  await page.goto('/');
  await page.getByRole('alert').filter({ hasText: '登录已失效' }).waitFor({ timeout: 30_000 });
  await page.waitForURL((url) => url.pathname === '/signin');
}

e2eTest('a phone used in turn: once one member is signed out, the next signs in and syncs as themselves', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(page);
  await sessionEnds(page);

  await signInOnPhone(page, 'GH-M02');
  assert.match(await page.getByTestId('member-name').textContent(), /李秀英/);
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await page.goto('/checkins');
  await waitForRow(page, running.activity.title, 'synced');
  assert.equal((await serverCheckIns(server.url, 'GH-M02')).length, 1, 'the next member syncs on this phone');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 0);
});

e2eTest("a member's writes still waiting keep the phone theirs until they are sent", async () => {
  const server = await startServer();
  const { phone, page } = await checkedInOffline(server, MEMBER);
  // Ended before the phone is back online, or its first round could send the check-in first; and read by the
  // app (opened again, offline) before then, or its first round could still use the session it holds in memory.
  await endSession(page);
  await page.goto('/');
  await page.getByTestId('home').waitFor();
  // Back online, the round the `online` event starts hears it, here: a page opened now could come after it,
  // with the phone already signed out and nothing left to say why.
  await phone.setOffline(false);
  await page.getByRole('alert').filter({ hasText: '登录已失效' }).waitFor({ timeout: 30_000 });
  await page.waitForURL((url) => url.pathname === '/signin');
  assert.equal(await outboxCount(page), 1, 'an ended session keeps what waits');

  await page.goto('/signin');
  await page.getByTestId('activation-code').fill('GH-M02');
  await page.getByTestId('signin-submit').click();
  const refused = page.getByTestId('signin-error');
  await refused.filter({ hasText: '王建国' }).waitFor();
  assert.match(await refused.textContent(), /1 条记录尚未同步/);
  await page.getByTestId('signin-unsynced-other').waitFor();

  await signInOnPhone(page, MEMBER);
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1, 'sent by its member, once');
});
