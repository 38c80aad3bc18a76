// A phone that ran the localStorage build (up to 45a9bd0) and then opens this one: everything it held moves
// into IndexedDB once, and nothing waiting is lost or sent twice. The phone is left as that build left it,
// key for key in its format: signed in; a forged check-in and a good one pushed (the server refused the first
// and applied the second, whose record had not come back yet); a check-in and a profile edit numbered for the
// next push; one check-in not numbered yet.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, e2eTest, launchBrowser, newPhone, startServer } from './harness.mjs';
import { apiSession, codeLink, forge, publishActivity, pullAll, serverCheckIns, waitForRow } from './flows.mjs';
import { memberData, storeCounts } from './store.mjs';

const MEMBER = 'GH-M01';

/** A UUIDv7-like id made at `ms`, as the app makes them (its text form). */
function idAt(ms) {
  const hex = ms.toString(16).padStart(12, '0') + randomUUID().replaceAll('-', '').slice(12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The localStorage build's key of a pulled record (core's `Record::key`). */
function recordKey({ type, data }) {
  const keyed = { check_in: 'checkin', organisation: 'org', org_code: 'orgcode' };
  if (type === 'me' || type === 'profile') return type;
  if (type === 'key') return `key:${data.key_id}`;
  if (type === 'org_code') return `orgcode:${data.org_id}`;
  return `${keyed[type] ?? type}:${data.id}`;
}

e2eTest('a phone that ran the localStorage build keeps everything: moved in once, each write sent once', async () => {
  const server = await startServer();
  const secretary = await apiSession(server.url, 'GH-S01');
  const now = Date.now();
  const activities = [];
  for (const title of ['升级前 已同步', '升级前 已编号', '升级前 未编号', '升级前 被拒']) {
    const activity = await publishActivity(server.url, secretary, { title, startsAt: now - 3_600_000, endsAt: now + 3_600_000 });
    activities.push(await codeLink(server.url, secretary, activity));
  }
  const [synced, numbered, unnumbered, refused] = activities;
  const session = await apiSession(server.url, MEMBER);
  const records = await pullAll(server.url, session);
  const checkIn = (link, at) => ({
    id: idAt(at),
    occurred_at: at,
    op: { kind: 'check_in', args: { id: idAt(at), code: link.payload } },
  });
  const forged = { ...checkIn(refused, now - 50_000), seq: 1 };
  forged.op.args.code = forge(refused.payload);
  const applied = { ...checkIn(synced, now - 40_000), seq: 2 };
  // What the localStorage build had pushed: the server refused the forged one and applied the other.
  const push = await api(server.url, '/api/v1/sync/push', {
    method: 'POST',
    token: session.token,
    body: {
      client_id: session.clientId,
      mutations: [forged, applied].map(({ seq, occurred_at, op }) => ({ seq, occurred_at, ...op })),
    },
  });
  assert.equal(push.status, 200);
  assert.deepEqual(push.body.results.map((r) => r.status), ['rejected', 'applied']);

  const waiting = [
    { ...checkIn(numbered, now - 30_000), seq: 3 },
    {
      id: idAt(now - 20_000),
      occurred_at: now - 20_000,
      op: { kind: 'edit_profile', args: { base_version: 0, fields: { city: '升级前填写的城市' } } },
      seq: 4,
    },
    { ...checkIn(unnumbered, now - 10_000), seq: null },
  ];
  const pending = (entry, link) => ({
    id: entry.op.args.id,
    activity_id: link.activity.id,
    title: link.activity.title,
    org_name: '灌南县驻杭州流动党委',
    scanned_at: entry.occurred_at,
    refused: null,
  });
  const local = {
    'gh1:schema': 1,
    'gh1:client_id': session.clientId,
    'gh1:session': { token: session.token, client_id: session.clientId },
    'gh1:meta': { cursor: 0, acked_seq: 2, last_seq: 4, last_synced_at: now - 45_000, failures: 0, clock_offset_ms: 0 },
    'gh1:locale': 'zh',
    [`gh1:refused:${'1'.padStart(12, '0')}`]: {
      mutation: { seq: 1, occurred_at: forged.occurred_at, ...forged.op },
      reason: { reason: 'code', detail: 'forged' },
    },
    [`gh1:pending:${forged.op.args.id}`]: pending(forged, refused),
    [`gh1:pending:${applied.op.args.id}`]: pending(applied, synced),
    [`gh1:pending:${waiting[0].op.args.id}`]: pending(waiting[0], numbered),
    [`gh1:pending:${waiting[2].op.args.id}`]: pending(waiting[2], unnumbered),
  };
  for (const entry of waiting) local[`gh1:outbox:${entry.id}`] = entry;
  for (const record of records) local[`gh1:rec:${recordKey(record)}`] = record;

  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  // The app's origin, before the app runs on it: the localStorage build's keys, as it left them.
  await page.goto('/manifest.webmanifest');
  await page.evaluate((local) => {
    for (const [key, value] of Object.entries(local)) localStorage.setItem(key, JSON.stringify(value));
  }, local);
  // The server is out of reach until the phone has shown what it moved in.
  const unreachable = (route) => route.abort('internetdisconnected');
  await phone.route('**/api/v1/**', unreachable);
  await page.goto('/');
  await page.getByTestId('home').waitFor();

  assert.equal(await page.locator('[data-testid=sync-badge]').getAttribute('data-waiting'), '3');
  assert.deepEqual((await memberData(page)).local, [], 'the old keys are gone');
  const counts = await storeCounts(page);
  assert.equal(counts.outbox, 3);
  assert.equal(counts.refused, 1);
  await page.goto('/checkins');
  await waitForRow(page, synced.activity.title, 'synced');
  await waitForRow(page, numbered.activity.title, 'waiting');
  await waitForRow(page, unnumbered.activity.title, 'waiting');
  await waitForRow(page, refused.activity.title, 'refused');

  // Opened again: nothing moves in twice.
  await page.reload();
  await waitForRow(page, unnumbered.activity.title, 'waiting');
  assert.deepEqual(await storeCounts(page), counts);

  await phone.unroute('**/api/v1/**', unreachable);
  await page.goto('/sync');
  await page.getByTestId('sync-page').getByRole('button').first().click();
  await page.goto('/checkins');
  await waitForRow(page, numbered.activity.title, 'synced');
  await waitForRow(page, unnumbered.activity.title, 'synced');
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  await waitForRow(page, refused.activity.title, 'refused');

  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(
    held.map((c) => c.activity_id).sort(),
    [synced, numbered, unnumbered].map((l) => l.activity.id).sort(),
    'each waiting check-in once, the refused one not',
  );
  const profile = (await pullAll(server.url, await apiSession(server.url, MEMBER))).find((r) => r.type === 'profile');
  assert.equal(profile.data.values.city, '升级前填写的城市');
});
