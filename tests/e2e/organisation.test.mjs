// An organisation the size of a big one: 500 members who reported there and were taken in, and 200 activities
// in a year. The secretary's phone finds any member or activity with one search and shows the rest a page at a
// time; it holds the organisation's activities, never the members' records.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, e2eTest, startServer } from './harness.mjs';
import {
  apiSession,
  findsByNameAndPhone,
  importRoster,
  nameOf,
  orgLink,
  publishActivity,
  pullAll,
  rosterCsv,
  signedInPhone,
  waitForFirstSync,
} from './flows.mjs';
import { storeCounts } from './store.mjs';

const MEMBERS = 500;
const ACTIVITIES = 200;
const DAY = 24 * 3_600_000;
/** Requests in flight at once while setting up: a phone's worth each, as members do at their own pace. */
const AT_ONCE = 8;

/** Runs `work` on each item, `AT_ONCE` at a time. */
async function eachAtOnce(items, work) {
  for (let from = 0; from < items.length; from += AT_ONCE) {
    await Promise.all(items.slice(from, from + AT_ONCE).map(work));
  }
}

/** A member's own phone signs in with their code and reports to the organisation (as its sync would send it). */
async function reportFromOwnPhone(url, activation, n, payload) {
  // Each member from an address of their own, as phones are (the server runs behind a proxy here).
  const headers = { 'x-forwarded-for': `10.1.${Math.floor(n / 250)}.${n % 250}` };
  const clientId = randomUUID();
  const signedIn = await api(url, '/api/v1/session', {
    method: 'POST',
    headers,
    body: { activation_code: activation.code, client_id: clientId },
  });
  assert.equal(signedIn.status, 200, `${activation.name} signs in`);
  const pushed = await api(url, '/api/v1/sync/push', {
    method: 'POST',
    token: signedIn.body.token,
    headers,
    body: {
      client_id: clientId,
      mutations: [{ seq: 1, occurred_at: Date.now(), kind: 'report', args: { id: randomUUID(), code: payload, left_stop: null } }],
    },
  });
  assert.equal(pushed.status, 200, `${activation.name} reports`);
}

e2eTest('an organisation of 500 members and 200 activities: the secretary finds any with a search', async () => {
  const server = await startServer({ args: ['--behind-proxy'] });
  const names = Array.from({ length: MEMBERS }, (_, n) => nameOf(n));
  const activations = await importRoster(server.url, await apiSession(server.url, 'GH-T01'), rosterCsv(names));
  assert.equal(activations.length, MEMBERS);
  const { link, secretary, org } = await orgLink(server.url);
  const payload = new URL(link, server.url).pathname.slice('/q/'.length);
  await eachAtOnce(
    activations.map((activation, n) => ({ activation, n })),
    ({ activation, n }) => reportFromOwnPhone(server.url, activation, n, payload),
  );
  const { body: overview } = await api(server.url, `/api/v1/orgs/${org}/overview`, { token: secretary.token });
  const waiting = overview.pending.filter((report) => names.includes(report.name));
  assert.equal(waiting.length, MEMBERS);
  await eachAtOnce(waiting, async (report) => {
    const { status } = await api(server.url, `/api/v1/reports/${report.id}/decision`, {
      method: 'POST',
      token: secretary.token,
      body: { decision: 'accept' },
    });
    assert.equal(status, 200);
  });
  // A year of them: three a week, the most recent last week, and a few to come.
  const today = Math.floor(Date.now() / DAY) * DAY;
  const published = [];
  for (let n = 0; n < ACTIVITIES; n += 1) {
    const startsAt = today + (n - ACTIVITIES + 20) * 2 * DAY + 9 * 3_600_000;
    const title = `第${String(n + 1).padStart(3, '0')}次 支部学习`;
    published.push(await publishActivity(server.url, secretary, { title, startsAt, endsAt: startsAt + 2 * 3_600_000 }));
  }
  const titles = published.map((activity) => activity.title);

  const { page } = await signedInPhone(server, 'GH-S01');
  await waitForFirstSync(page);

  // The members there now: a page of them, more at a tap, any one by name or by phone number.
  await page.goto(`/org/${org}`);
  const members = page.getByTestId('org-members');
  await members.getByTestId('org-member').first().waitFor({ timeout: 60_000 });
  assert.equal(await members.getByTestId('org-member').count(), 30);
  await page.getByTestId('org-members-more').click();
  assert.equal(await members.getByTestId('org-member').count(), 60);
  await findsByNameAndPhone(page, { list: 'org-members', row: 'org-member', names, byName: 417, byPhone: 9 });

  // The activities, from the phone's own store: a page, more at a tap, one by its title.
  await page.goto(`/org/${org}/activities`);
  const activities = page.getByTestId('org-activity-list');
  await activities.getByTestId('org-activity').first().waitFor();
  assert.equal(await activities.getByTestId('org-activity').count(), 20);
  await page.getByTestId('activities-more').click();
  assert.equal(await activities.getByTestId('org-activity').count(), 40);
  await page.getByTestId('activity-search').fill(titles[123]);
  await activities.getByTestId('org-activity').filter({ hasText: titles[123] }).waitFor();
  assert.equal(await activities.getByTestId('org-activity').count(), 1);

  // Who has not come to it, of the 500 expected: a page at a time, any one by name.
  await activities.getByTestId('activity-attendance').click();
  const missing = page.getByTestId('missing');
  await missing.getByTestId('missing-member').first().waitFor();
  const { body: attendance } = await api(server.url, `/api/v1/activities/${published[123].id}/attendance`, {
    token: secretary.token,
  });
  assert.ok(attendance.expected >= MEMBERS);
  assert.ok((await page.getByTestId('attendance-counts').textContent()).includes(`应到 ${attendance.expected} 人`));
  await page.getByTestId('missing-search').fill(names[321]);
  await missing.locator(`[data-testid=missing-member][data-name=${names[321]}]`).waitFor();
  assert.equal(await missing.getByTestId('missing-member').count(), 1);

  // The phone holds what the secretary's role needs: the organisation's activities, and none of the 500
  // members' records (their lists are read online, a page at a time).
  const held = await storeCounts(page);
  const served = await pullAll(server.url, secretary);
  const activityRecords = served.filter((record) => record.type === 'activity').length;
  assert.ok(activityRecords >= ACTIVITIES);
  assert.equal(held.activities, activityRecords);
  assert.ok(held.records < 50, `the phone keeps ${held.records} records, not the members'`);
});
