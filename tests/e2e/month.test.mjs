// A member offline for a month: 500 check-ins made on the phone across a simulated 30 days (the phone's clock
// moved day by day), then back online, all arrive exactly once, in the right days and unflagged.

import assert from 'node:assert/strict';
import { e2eTest, startServer } from './harness.mjs';
import { apiSession, codeLink, openInApp, publishActivity, serverCheckIns, signedInPhone, waitForFirstSync } from './flows.mjs';
import { outboxCount } from './store.mjs';

const MEMBER = 'GH-M01';
const SECRETARY = 'GH-S01';
const DAY = 24 * 3_600_000;
const DAYS = 30;
const CHECK_INS = 500;

/** 500 activities over the last 30 days, each open for the morning of its day, with their check-in links. */
async function aMonthOfActivities(url) {
  const secretary = await apiSession(url, SECRETARY);
  const firstDay = Math.floor(Date.now() / DAY) * DAY - DAYS * DAY;
  const days = [];
  for (let day = 0; day < DAYS; day++) {
    const perDay = Math.floor(CHECK_INS / DAYS) + (day < CHECK_INS % DAYS ? 1 : 0);
    const startsAt = firstDay + day * DAY;
    const links = [];
    for (let n = 0; n < perDay; n++) {
      const title = `第${String(day + 1).padStart(2, '0')}天 学习${String(n + 1).padStart(2, '0')}`;
      const activity = await publishActivity(url, secretary, { title, startsAt, endsAt: startsAt + 12 * 3_600_000 });
      links.push(await codeLink(url, secretary, activity));
    }
    days.push({ scanAt: startsAt + 3 * 3_600_000, links });
  }
  return days;
}

e2eTest('500 check-ins made offline across 30 days all arrive exactly once', async () => {
  const server = await startServer();
  const month = await aMonthOfActivities(server.url);
  const { phone, page } = await signedInPhone(server, MEMBER);
  // The phone learns the server's clock in a sync; one still running when its clock is moved would learn nonsense.
  await waitForFirstSync(page);

  await phone.setOffline(true);
  for (const { scanAt, links } of month) {
    await page.clock.setFixedTime(scanAt);
    for (const { link, activity } of links) await openInApp(page, link, activity.title);
  }
  assert.equal(await outboxCount(page), CHECK_INS);
  // The badge counts the last write a moment after its confirmation: "0 waiting" below must not be the old count.
  await page.locator(`[data-testid=sync-badge][data-waiting="${CHECK_INS}"]`).waitFor();

  await page.clock.setFixedTime(Date.now());
  await phone.setOffline(false);
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 120_000 });

  const held = await serverCheckIns(server.url, MEMBER);
  assert.equal(held.length, CHECK_INS);
  const scannedOn = new Map(month.flatMap(({ scanAt, links }) => links.map((l) => [l.activity.id, scanAt])));
  assert.equal(new Set(held.map((c) => c.activity_id)).size, CHECK_INS, 'one check-in per activity');
  for (const check_in of held) {
    assert.equal(check_in.scanned_at, scannedOn.get(check_in.activity_id), `${check_in.title} keeps its day`);
    assert.equal(check_in.flag, null, `${check_in.title} is not flagged`);
  }
  // The list shows them a page at a time, newest first: the last day's first.
  await page.goto('/checkins');
  const rows = page.locator('[data-testid=checkin-row][data-state=synced]');
  await rows.first().filter({ hasText: '第30天' }).waitFor();
  for (let shown = 50; shown < CHECK_INS; shown += 50) {
    await page.getByTestId('checkins-more').click();
    await rows.nth(Math.min(shown + 50, CHECK_INS) - 1).waitFor();
  }
  await rows.last().filter({ hasText: '第01天' }).waitFor();
  assert.equal(await page.getByTestId('checkin-row').count(), CHECK_INS);
  assert.equal(await page.getByTestId('checkins-more').count(), 0, 'no more to show');
});
