// Attendance the secretary records: at the door with no signal, the secretary's phone scans a member's card
// with the camera and records them at the activity running now; the member scans the activity's code too;
// after both sync, one attendance. A member without a phone is entered by hand, with a reason, and marked so.

import assert from 'node:assert/strict';
import { launchCameraBrowser } from './camera.mjs';
import { e2eTest, newPhone, screenshot, startServer, waitForServiceWorker, waitForStaffApp } from './harness.mjs';
import {
  activityLinks,
  apiSession,
  attendeesOnceSynced,
  signInOnPhone,
  signedInPhone,
  waitForFirstSync,
} from './flows.mjs';
import { outboxCount } from './store.mjs';

e2eTest('the secretary scans a card offline, the member scans the code too: one attendance', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const activity = running.activity;

  // The member's card, as their phone shows it.
  const member = await signedInPhone(server, 'GH-M01');
  await waitForFirstSync(member.page);
  await member.page.goto('/card');
  const cardLink = await member.page.getByTestId('card-qr').getAttribute('data-link');

  // The secretary's phone, with no signal, scans it and records the member at the running activity: the
  // scanner (member app) verifies the card, and the staff app, kept on the phone, records it.
  const browser = await launchCameraBrowser(cardLink);
  const phone = await newPhone(browser, server.url);
  const secretary = await phone.newPage();
  await signInOnPhone(secretary, 'GH-S01');
  await waitForServiceWorker(secretary);
  await waitForFirstSync(secretary);
  await waitForStaffApp(secretary);
  await phone.setOffline(true);
  await secretary.getByTestId('nav-scan').click();
  await secretary.locator('[data-testid=checkin-result][data-result=member]').waitFor();
  await secretary.getByTestId('record-card').click();
  await secretary.locator('[data-testid=checkin-result][data-result=member]').waitFor();
  assert.ok(new URL(secretary.url()).pathname.startsWith('/record/'), 'the staff app records it');
  const record = secretary.getByTestId('record-attendance').filter({ hasText: activity.title });
  await record.click();
  await secretary.getByTestId('attendance-recorded').waitFor();
  await screenshot(secretary, 'record-card');
  assert.equal(await outboxCount(secretary), 1);

  // The member, offline too, scans the activity's code.
  await member.phone.setOffline(true);
  await member.page.goto(running.link);
  await member.page.locator('[data-testid=checkin-result][data-result=done]').waitFor();

  // Both sync: the secretary's first, then the member's, which the server recognises as the same attendance.
  await phone.setOffline(false);
  assert.equal((await attendeesOnceSynced(server, activity, secretary)).length, 1);
  await member.phone.setOffline(false);
  const came = await attendeesOnceSynced(server, activity, member.page);
  assert.equal(came.length, 1);
  assert.equal(came[0].how, 'card');
  assert.equal(came[0].name, (await apiSession(server.url, 'GH-M01')).me.name);

  // A member without a phone, entered by hand on the attendance page with why.
  await secretary.goto(`/org/${activity.org_id}/activities/${activity.id}/attendance`);
  const name = await secretary.getByTestId('missing-member').first().getAttribute('data-name');
  // Found by typing part of the name, as among hundreds.
  await secretary.getByTestId('missing-search').fill(name.slice(1));
  assert.equal(await secretary.getByTestId('missing-member').count(), 1);
  const missing = secretary.getByTestId('missing-member').filter({ hasText: name });
  await missing.getByTestId('by-hand').click();
  await missing.getByTestId('by-hand-save').click();
  assert.equal(await outboxCount(secretary), 0, 'no reason, nothing entered');
  await missing.getByTestId('by-hand-reason').fill('老人机，没有智能手机');
  await missing.getByTestId('by-hand-save').click();
  await secretary.locator('[data-testid=by-hand-state][data-state="attendance.entered"]').waitFor();
  const after = await attendeesOnceSynced(server, activity, secretary);
  const entered = after.find((a) => a.name === name);
  assert.equal(entered.how, 'by_hand');
  assert.equal(entered.reason, '老人机，没有智能手机');
  await secretary.reload();
  await secretary.locator(`[data-testid=attendee][data-how=by_hand]`).waitFor();
  await screenshot(secretary, 'attendance-by-hand');
});
