// Activities run by the organisations: a secretary publishes one from their phone, offline, and it reaches the
// members once the phone syncs; a change and a cancellation follow the same way; the code the secretary shows
// at the door checks a member in, and the secretary sees who came and downloads the sheet. Bad input is said
// plainly and queues nothing.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { e2eTest, screenshot, startServer, waitForStaffApp } from './harness.mjs';
import {
  apiSession,
  lastSynced,
  publishActivity,
  serverCheckIns,
  signedInPhone,
  until,
  waitForFirstSync,
  waitForSync,
} from './flows.mjs';
import { outboxCount } from './store.mjs';

const SECRETARY = 'GH-S01';
const MEMBER = 'GH-M01';

/** A `datetime-local` value `hours` from now, in the phone's own time zone. */
function inputTime(page, hours) {
  return page.evaluate((hours) => {
    const at = new Date(Date.now() + hours * 3_600_000);
    const two = (n) => String(n).padStart(2, '0');
    return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
  }, hours);
}

/** The secretary's list of their organisation's activities, reached from the home screen as a person does. */
async function openOrgActivities(page) {
  await page.goto('/');
  await page.getByTestId('nav-org-activities').click();
  await page.getByTestId('org-activities').waitFor();
}

async function fillActivity(page, { kind, team, hours, title, from, to, place, notes }) {
  await page.getByTestId('activity-kind-input').selectOption(kind);
  if (team) await page.getByTestId('activity-team-input').selectOption(team);
  if (hours !== undefined) await page.getByTestId('activity-hours-input').fill(hours);
  await page.getByTestId('activity-title-input').fill(title);
  await page.getByTestId('activity-starts-input').fill(await inputTime(page, from));
  await page.getByTestId('activity-ends-input').fill(await inputTime(page, to));
  if (place !== undefined) await page.getByTestId('activity-place-input').fill(place);
  if (notes !== undefined) await page.getByTestId('activity-notes-input').fill(notes);
}

/** The member's activities screen, read again after their phone synced. */
async function memberSees(page) {
  const before = await lastSynced(page);
  await page.goto('/activities');
  await waitForSync(page, before);
  await page.getByTestId('activities').waitFor();
}

e2eTest('a secretary publishes, changes and cancels an activity from their phone, offline first', async () => {
  const server = await startServer();
  const secretary = await signedInPhone(server, SECRETARY);
  await waitForFirstSync(secretary.page);
  const page = secretary.page;
  // The secretary's screens are the staff app's, kept on the phone once it was opened online.
  await waitForStaffApp(page);

  await secretary.phone.setOffline(true);
  await openOrgActivities(page);
  await page.getByTestId('new-activity').click();
  await fillActivity(page, {
    kind: 'volunteer',
    team: 'greening',
    hours: '2.5',
    title: '江边植树',
    from: -1,
    to: 2,
    place: '钱塘江南岸绿道',
    notes: '带上手套和水',
  });
  await screenshot(page, 'activity-form');
  await page.getByTestId('activity-save').click();
  const listed = page.getByTestId('org-activity').filter({ hasText: '江边植树' });
  await listed.getByTestId('activity-waiting').waitFor();
  assert.equal(await outboxCount(page), 1, 'kept on the phone, waiting');
  await screenshot(page, 'secretary-activities');

  await secretary.phone.setOffline(false);
  await listed.getByTestId('activity-waiting').waitFor({ state: 'detached', timeout: 30_000 });

  const member = await signedInPhone(server, MEMBER);
  await waitForFirstSync(member.page);
  await member.page.goto('/activities');
  const seen = member.page.getByTestId('activities-upcoming').getByTestId('activity').filter({ hasText: '江边植树' });
  await seen.waitFor();
  assert.equal(await seen.getByTestId('activity-kind').textContent(), '志愿服务 · 绿化队 · 2.5 小时');
  assert.equal(await seen.getByTestId('activity-notes').textContent(), '带上手套和水');
  await screenshot(member.page, 'activities');

  // The code at the door: the secretary's phone shows the rotating one; the printable one for the whole
  // activity is a tap away; the member opens what it holds, and is checked in.
  await listed.getByTestId('show-code').click();
  await page.getByTestId('door-code-rotating').waitFor();
  await page.getByTestId('door-code-print').click();
  await page.getByTestId('door-code-link').waitFor();
  const link = await page.getByTestId('door-code-link').getAttribute('href');
  await screenshot(page, 'door-code');
  // At a door with no signal: the printable code kept when it was shown online.
  await secretary.phone.setOffline(true);
  await page.reload();
  await page.getByTestId('door-code-print').click();
  await page.getByTestId('door-code-kept').waitFor();
  await page.locator('[data-testid=door-code] svg.qr').waitFor();
  assert.equal(await page.getByTestId('door-code-link').getAttribute('href'), link);
  await secretary.phone.setOffline(false);
  await member.page.goto(link);
  await member.page.locator('[data-testid=checkin-result][data-result=done]').waitFor();

  // Who came: the secretary's attendance, on screen and as a spreadsheet, once the member's phone sent it.
  await until(async () => (await serverCheckIns(server.url, MEMBER)).length === 1);
  await openOrgActivities(page);
  await page.getByTestId('org-activity').filter({ hasText: '江边植树' }).getByTestId('activity-attendance').click();
  const attendee = page.getByTestId('attendee');
  await attendee.first().waitFor();
  assert.equal(await attendee.count(), 1);
  assert.match(await page.getByTestId('attendance-counts').textContent(), /本组织党员到场 1 人/);
  await screenshot(page, 'attendance');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('attendance-csv').click()]);
  const sheet = await readFile(await download.path());
  assert.deepEqual([...sheet.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a byte order mark, for Excel');
  const name = await attendee.first().getAttribute('data-name');
  assert.match(sheet.toString('utf8'), new RegExp(`\\n${name},[^\\n]*,本组织党员,本人扫码,[^\\n]*,2.5\\r?\\n`));

  // The member stayed longer: the secretary credits four hours, and writes the minutes.
  assert.equal(await attendee.first().getByTestId('attendee-hours').textContent(), '2.5 小时');
  await attendee.first().getByTestId('hours-change').click();
  await attendee.first().getByTestId('hours-input').fill('4');
  await attendee.first().getByTestId('hours-save').click();
  await attendee.first().locator('[data-testid=hours-state][data-state="attendance.hours_saved"]').waitFor();
  await page.getByTestId('minutes-input').fill('种树二十棵，清理垃圾三袋。');
  await page.getByTestId('minutes-save').click();
  await page.locator('[data-testid=minutes-state][data-state="attendance.minutes_saved"]').waitFor();
  await until(async () => (await outboxCount(page)) === 0);
  await page.reload();
  await page.getByTestId('attendee').first().getByTestId('attendee-hours').filter({ hasText: '4 小时' }).waitFor();
  assert.equal(await page.getByTestId('minutes-input').inputValue(), '种树二十棵，清理垃圾三袋。');

  // The year's volunteer hours, per team and per member; and on the member's certificate.
  await openOrgActivities(page);
  await page.getByTestId('volunteer-link').click();
  await page.getByTestId('volunteer-team').filter({ hasText: '绿化队' }).filter({ hasText: '4 小时' }).waitFor();
  assert.match(await page.getByTestId('volunteer-member').filter({ hasText: name }).textContent(), /4 小时/);
  await screenshot(page, 'volunteer-hours');
  await memberSees(member.page);
  await member.page.goto('/certificate');
  await member.page.getByTestId('volunteer-hours').filter({ hasText: '4 小时' }).waitFor();

  // A change, then a cancellation, each reaching the member's phone.
  await openOrgActivities(page);
  await page.getByTestId('org-activity').filter({ hasText: '江边植树' }).getByTestId('edit-activity').click();
  await page.getByTestId('activity-title-input').fill('江边植树（延长一小时）');
  await page.getByTestId('activity-save').click();
  const changed = page.getByTestId('org-activity').filter({ hasText: '延长一小时' });
  // Listed first: until the list shows it, its waiting mark is "detached" too (CI once went on to the member's
  // sync before the change had even been pushed). Then nothing waits: the server has it.
  await changed.waitFor();
  await changed.getByTestId('activity-waiting').waitFor({ state: 'detached', timeout: 30_000 });
  await until(async () => (await outboxCount(page)) === 0);
  await memberSees(member.page);
  const renamed = member.page.getByTestId('activity').filter({ hasText: '江边植树（延长一小时）' });
  await renamed.getByTestId('attended').waitFor();

  // Asked first: a "no" cancels nothing.
  page.once('dialog', (dialog) => dialog.dismiss());
  await changed.getByTestId('cancel-activity').click();
  await page.reload();
  await changed.waitFor();
  page.once('dialog', (dialog) => dialog.accept());
  await changed.getByTestId('cancel-activity').click();
  await changed.waitFor({ state: 'detached', timeout: 30_000 });
  // Gone from the secretary's list at once (it is their phone's own write); the member's phone learns of it once
  // it has reached the server.
  await until(async () => (await outboxCount(page)) === 0);
  await memberSees(member.page);
  const kept = member.page.getByTestId('activity').filter({ hasText: '江边植树' });
  assert.equal(await kept.count(), 0, 'a cancelled activity leaves the members’ list');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1, 'the check-in made stays');
  await member.browser.close();
  await secretary.browser.close();
});

e2eTest('an activity that ends before it starts is refused on the phone, and nothing is queued', async () => {
  const server = await startServer();
  const { browser, page } = await signedInPhone(server, SECRETARY);
  await openOrgActivities(page);
  await page.getByTestId('new-activity').click();
  await fillActivity(page, { kind: 'party_lecture', title: '党课：党章学习', from: 2, to: 1 });
  await page.getByTestId('activity-save').click();
  await page.getByTestId('activity-problem').filter({ hasText: '结束时间要晚于开始时间' }).waitFor();
  await page.getByTestId('activity-title-input').fill('');
  await fillActivity(page, { kind: 'party_lecture', title: ' ', from: 1, to: 2 });
  await page.getByTestId('activity-save').click();
  await page.getByTestId('activity-problem').filter({ hasText: '请填写名称' }).waitFor();
  assert.equal(await outboxCount(page), 0);
  await browser.close();
});

e2eTest('an organisation with many activities: the secretary sees a page at a time and finds one by title', async () => {
  const server = await startServer();
  const session = await apiSession(server.url, SECRETARY);
  const day = 86_400_000;
  for (let n = 1; n <= 45; n += 1) {
    const startsAt = Date.now() - n * day;
    await publishActivity(server.url, session, { title: `第${n}次学习会`, startsAt, endsAt: startsAt + 7_200_000 });
  }
  const { browser, page } = await signedInPhone(server, SECRETARY);
  await waitForFirstSync(page);
  await openOrgActivities(page);
  const listed = page.getByTestId('org-activity');
  await listed.first().waitFor();
  assert.equal(await listed.count(), 20);
  const more = page.getByTestId('activities-more');
  assert.match(await more.textContent(), /还有 \d+ 个/);
  await more.click();
  assert.equal(await listed.count(), 40);
  await page.getByTestId('activity-search').fill('第37次');
  await listed.filter({ hasText: '第37次学习会' }).waitFor();
  assert.equal(await listed.count(), 1);
  await browser.close();
});
