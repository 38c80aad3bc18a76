// The rotating door code, end to end with two phones and no network at the event: the secretary's phone signs
// a new code every 30 seconds with its certified key, the member's phone scans it with the camera and checks
// it offline; after both sync, one attendance. A code two minutes old is refused on a phone whose clock is
// right, and flagged by the server for a phone whose clock was set back to pass it.

import assert from 'node:assert/strict';
import { launchCameraBrowser } from './camera.mjs';
import {
  e2eTest,
  launchBrowser,
  newPhone,
  screenshot,
  startServer,
  waitForServiceWorker,
  waitForStaffApp,
} from './harness.mjs';
import { activityLinks, apiSession, attendeesOnceSynced, signInOnPhone, waitForFirstSync } from './flows.mjs';
import { kv, outboxCount } from './store.mjs';

const TWO_MINUTES = 120_000;

/** Moves the page's clock by `ms` from now on, in this document and the ones after it, as a member changing the
 * phone's time would. */
async function shiftClock(page, ms) {
  const shift = (ms) => {
    const real = Date.now.bind(Date);
    Date.now = () => real() + ms;
  };
  await page.addInitScript(shift, ms);
  await page.evaluate(shift, ms);
}

/** A phone signed in as `code` and synced once; its camera shows `cameraText` when given. */
async function syncedPhone(server, code, cameraText) {
  const browser = cameraText === undefined ? await launchBrowser() : await launchCameraBrowser(cameraText);
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, code);
  await waitForServiceWorker(page);
  await waitForFirstSync(page);
  return { phone, page };
}

/** The secretary's phone, synced once (its door key certified for `activity`'s organisation in that round), then
 * with no signal. */
async function secretaryOffline(server, activity) {
  const secretary = await syncedPhone(server, 'GH-S01');
  for (let tries = 0; !(await kv(secretary.page, `doorcert:${activity.org_id}`)); tries += 1) {
    assert.ok(tries < 100, 'the door key is certified in the first sync round');
    await secretary.page.waitForTimeout(100);
  }
  // The door's screen is the staff app's, kept on the phone once it was opened online.
  await waitForStaffApp(secretary.page);
  await secretary.phone.setOffline(true);
  return secretary;
}

/** The secretary's phone, offline, showing the rotating code of `activity`: its link and time. */
async function doorCode(page, activity) {
  await page.goto(`/org/${activity.org_id}/activities/${activity.id}/code`);
  const code = page.getByTestId('door-code-rotating');
  await code.waitFor();
  return { link: await code.getAttribute('data-link'), at: Number(await code.getAttribute('data-at')) };
}

e2eTest('two phones offline at one event: the rotating code checks the member in, once', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const activity = running.activity;

  // The secretary's phone synced once (its key certified in that round), then the event has no signal.
  const secretary = await secretaryOffline(server, activity);
  const shown = await doorCode(secretary.page, activity);
  assert.match(shown.link, /\/q\/[A-Za-z0-9_-]+$/);
  assert.match(await secretary.page.getByTestId('door-code-countdown').textContent(), /秒后更新/);
  await screenshot(secretary.page, 'door-code-rotating');

  // Within the half minute the code changes, with no network still.
  await secretary.page.waitForFunction(
    (at) => Number(document.querySelector('[data-testid=door-code-rotating]')?.dataset.at) > at,
    shown.at,
    { timeout: 40_000 },
  );
  const next = await doorCode(secretary.page, activity);
  assert.notEqual(next.link, shown.link);

  // The member's phone, offline too, scans it with the camera and checks it on its own.
  const member = await syncedPhone(server, 'GH-M01', next.link);
  await member.phone.setOffline(true);
  await member.page.getByTestId('nav-scan').click();
  await member.page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  assert.equal(await member.page.getByTestId('checkin-activity').textContent(), activity.title);
  assert.equal(await outboxCount(member.page), 1);

  // Both back online: one attendance, unflagged, and the member's certificate counts it.
  await secretary.phone.setOffline(false);
  await member.phone.setOffline(false);
  const came = await attendeesOnceSynced(server, activity, member.page);
  assert.equal(came.length, 1);
  assert.equal(came[0].name, (await apiSession(server.url, 'GH-M01')).me.name);
  assert.equal(came[0].flag, null);
  await member.page.goto('/certificate');
  // Counted once the phone has read its check-ins (the line says "none" until then).
  const open = member.page.locator('[data-testid=stop][data-open=true] [data-testid=attended]');
  await open.filter({ hasText: / 1 次/ }).waitFor();
  // Each one with its kind and date.
  const one = member.page.locator('[data-testid=stop][data-open=true] [data-testid=attended-one]');
  assert.equal(await one.count(), 1);
  assert.match(await one.textContent(), new RegExp(activity.title));
});

e2eTest('a door code two minutes old is refused on a phone with the right time and flagged for one set back', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const activity = running.activity;
  // A code made two minutes ago, as a photo of it forwarded now would show.
  const secretary = await secretaryOffline(server, activity);
  await shiftClock(secretary.page, -TWO_MINUTES);
  const { link, at } = await doorCode(secretary.page, activity);

  // The right time: the phone itself says the code is stale, and keeps nothing.
  const right = await syncedPhone(server, 'GH-M01', link);
  await right.phone.setOffline(true);
  await right.page.getByTestId('nav-scan').click();
  const refused = right.page.locator('[data-testid=checkin-result][data-result=invalid]');
  await refused.waitFor();
  assert.equal(await refused.getAttribute('data-error'), 'expired');
  assert.equal(await outboxCount(right.page), 0);

  // A phone set back to the code's time passes its own check; its clock is still wrong when it syncs, and the
  // server, which can tell, keeps the check-in flagged for the secretary. (Set to the code's time plus ten
  // seconds rather than two minutes back: the phones above took part of the code's minute to sign in.)
  // Offline, with no round running, first: a round still running after sign-in would learn the server's time
  // from its pull and correct the clock set back below (the app judges codes by its clock corrected at the last
  // sync).
  const setBack = await syncedPhone(server, 'GH-M02', link);
  await setBack.phone.setOffline(true);
  await setBack.page.locator('[data-testid=sync-badge][data-state=offline][data-syncing=false]').waitFor();
  await shiftClock(setBack.page, at * 1000 + 10_000 - Date.now());
  await setBack.page.getByTestId('nav-scan').click();
  await setBack.page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await setBack.phone.setOffline(false);
  const came = await attendeesOnceSynced(server, activity, setBack.page);
  assert.equal(came.length, 1);
  assert.equal(came[0].flag, 'stale_code');
});
