// Sync as the member sees it: two tabs writing offline, and writing at once while a sync runs; the sync page
// with its export; a reload in the middle of a sync; a full store; a round going on as the phone goes offline; an
// entry that no longer reads back; a push that never answers.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { diskPhone, e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import {
  activityLinks,
  apiSession,
  codeLink,
  openInApp,
  publishActivity,
  serverCheckIns,
  signedInPhone,
  signInOnPhone,
  waitForFirstSync,
  waitForRow,
} from './flows.mjs';
import { damageOutboxRow, outboxCount } from './store.mjs';

const MEMBER = 'GH-M01';

e2eTest('two tabs check in offline; back online every check-in lands exactly once', async () => {
  let server = await startServer();
  const hangzhou = (await activityLinks(server.url, 'GH-S01')).running;
  const suzhou = (await activityLinks(server.url, 'GH-S02')).running;
  const { phone, page: first } = await signedInPhone(server, MEMBER);
  const second = await phone.newPage();
  await second.goto('/');
  await second.getByTestId('home').waitFor();

  await phone.setOffline(true);
  await server.stop();
  await first.goto(hangzhou.link);
  await second.goto(suzhou.link);
  for (const page of [first, second]) {
    await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  }
  // Each tab sees both writes: they share one outbox.
  await first.goto('/checkins');
  await first.getByTestId('checkin-row').nth(1).waitFor();
  assert.equal(await first.getByTestId('checkin-row').count(), 2);
  assert.equal(await outboxCount(first), 2);

  server = await startServer({ port: server.port, dataDir: server.dataDir });
  await phone.setOffline(false);
  // Both organisations' running activities share a title, so count rows rather than find them by name.
  await first.waitForFunction(
    () => document.querySelectorAll('[data-testid=checkin-row][data-state=synced]').length === 2,
    null,
    { timeout: 30_000 },
  );
  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(held.map((c) => c.activity_id).sort(), [hangzhou.activity.id, suzhou.activity.id].sort());
  assert.equal(await outboxCount(second), 0);
});

e2eTest('the sync page shows what waits and since when, and exports it as a file', async () => {
  let server = await startServer();
  const { running } = await activityLinks(server.url);
  const { phone, page } = await signedInPhone(server, MEMBER);

  await phone.setOffline(true);
  await server.stop();
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await page.goto('/sync');
  const waiting = page.getByTestId('sync-waiting').locator('li');
  await waiting.first().waitFor();
  assert.equal(await waiting.count(), 1);
  assert.match(await waiting.first().textContent(), new RegExp(running.activity.title.slice(0, 6)));
  await page.getByTestId('storage-use').filter({ hasText: 'MB' }).waitFor();
  await screenshot(page, 'sync');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sync-export').click()]);
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(exported.waiting.length, 1);
  assert.equal(exported.waiting[0].op.kind, 'check_in');
  assert.equal(exported.waiting[0].op.args.code, running.payload, 'the code exactly as it was scanned');
  assert.equal(exported.waiting[0].title, running.activity.title);

  server = await startServer({ port: server.port, dataDir: server.dataDir });
  await phone.setOffline(false);
  await page.getByText(/没有等待同步的记录/).waitFor({ timeout: 30_000 });
});

e2eTest('a reload in the middle of a sync neither loses nor doubles the check-in', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { page } = await signedInPhone(server, MEMBER);

  // Hold the first push at the network until the page is gone: the server commits, nobody hears back.
  let held = 0;
  let release;
  const reloaded = new Promise((resolve) => (release = resolve));
  await page.route('**/api/v1/sync/push', async (route) => {
    held += 1;
    if (held > 1) return route.continue();
    const response = await route.fetch();
    await reloaded;
    await route.fulfill({ response }).catch(() => {});
  });
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await expectEventually(() => held === 1);
  await page.goto('/checkins');
  release();
  await waitForRow(page, running.activity.title, 'synced');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
  assert.equal(await outboxCount(page), 0);
});

e2eTest('a full phone store says so, stores nothing half-way and keeps what it had', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const suzhou = (await activityLinks(server.url, 'GH-S02')).running;
  const phone = await diskPhone();
  const page = await phone.newPage();
  await signInOnPhone(page, MEMBER, server.url);
  await waitForServiceWorker(page);
  await waitForFirstSync(page);
  await phone.context.setOffline(true);
  await page.goto(new URL(suzhou.link, server.url).href);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();

  // The phone has no room left: the origin's quota becomes what it uses now. Chromium takes an origin's quota
  // when it opens the origin's database, so the app is away for a moment while it changes.
  const cdp = await phone.context.newCDPSession(page);
  const origin = new URL(server.url).origin;
  const { usage } = await page.evaluate(() => navigator.storage.estimate());
  const away = async () => {
    await page.goto('about:blank');
    await page.waitForTimeout(3_000);
  };
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage });
  await away();
  await page.goto(new URL(running.link, server.url).href);
  const result = page.locator('[data-testid=checkin-result][data-result=not-saved]');
  await result.waitFor();
  assert.match(await result.textContent(), /存储空间已满/);
  assert.equal(await outboxCount(page), 1, 'the earlier check-in is still there, and nothing of this one');

  // Space freed and back online: the kept check-in syncs.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  await away();
  await phone.context.setOffline(false);
  await page.goto(`${server.url}/checkins`);
  await waitForRow(page, suzhou.activity.title, 'synced');
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
});

/** `n` activities of the Hangzhou committee running now, with the codes its secretary shows. */
async function runningActivities(url, n) {
  const secretary = await apiSession(url, 'GH-S01');
  const now = Date.now();
  const links = [];
  for (let i = 1; i <= n; i++) {
    const title = `同时签到 ${i}`;
    const activity = await publishActivity(url, secretary, { title, startsAt: now - 3_600_000, endsAt: now + 3_600_000 });
    links.push(await codeLink(url, secretary, activity));
  }
  return links;
}

/** The mutations of a push as the phone sent it (gzipped JSON). */
function pushed(request) {
  const body = request.postDataBuffer();
  const json = request.headers()['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  return JSON.parse(json.toString('utf8')).mutations;
}

e2eTest('two tabs writing at the same moment while a sync runs: every write lands once, no number given twice', async () => {
  const server = await startServer();
  const [first, ...rest] = await runningActivities(server.url, 7);
  const { phone, page: one } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(one);
  const two = await phone.newPage();
  await two.goto('/');
  await two.getByTestId('home').waitFor();

  // Every push is seen; the first is held at the network until the tabs have written.
  const sent = [];
  let release;
  const released = new Promise((resolve) => (release = resolve));
  await phone.route('**/api/v1/sync/push', async (route) => {
    sent.push(...pushed(route.request()));
    if (sent.length === 1) await released;
    await route.continue();
  });
  await one.goto(first.link);
  await one.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  await expectEventually(() => sent.length === 1);

  // While that push is out, both tabs check in, at the same time.
  const checkIns = (page, links) =>
    (async () => {
      for (const { link, activity } of links) await openInApp(page, link, activity.title);
    })();
  await Promise.all([checkIns(one, rest.slice(0, 3)), checkIns(two, rest.slice(3))]);
  release();

  await one.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(
    held.map((c) => c.activity_id).sort(),
    [first, ...rest].map((l) => l.activity.id).sort(),
    'every write once',
  );
  const byNumber = new Map();
  for (const mutation of sent) {
    const id = mutation.args.id;
    assert.ok(!byNumber.has(mutation.seq) || byNumber.get(mutation.seq) === id, `number ${mutation.seq} given twice`);
    byNumber.set(mutation.seq, id);
  }
  assert.deepEqual([...byNumber.keys()].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
});

e2eTest('a big push names the codes the server issued by their signature; asked for them whole, it sends them whole', async () => {
  // The second push finds none of the codes the server keeps, as a server that signed them before it kept them.
  const server = await startServer({ args: ['--test-faults', 'forget-codes:push:2'] });
  // More than core's `sync::FEW_CODES` (64) in each push, so that it names them.
  const links = await runningActivities(server.url, 2 * 66);
  const { phone, page } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(page);
  const pushes = [];
  phone.on('requestfinished', async (request) => {
    if (!request.url().endsWith('/api/v1/sync/push')) return;
    pushes.push({ mutations: pushed(request), status: (await request.response()).status() });
  });
  const checkInOffline = async (batch) => {
    await phone.setOffline(true);
    for (const { link, activity } of batch) await openInApp(page, link, activity.title);
    await page.locator(`[data-testid=sync-badge][data-waiting="${batch.length}"]`).waitFor();
    await phone.setOffline(false);
    await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  };
  const kinds = (push) => [...new Set(push.mutations.map((m) => m.kind))];
  const ids = (push) => push.mutations.map((m) => `${m.seq} ${m.args.id}`);

  await checkInOffline(links.slice(0, 66));
  await expectEventually(() => pushes.length === 1);
  assert.deepEqual(kinds(pushes[0]), ['check_in_issued'], 'named by their signature');
  assert.ok(pushes[0].mutations.every((m) => m.args.signature.length === 86 && !('code' in m.args)));
  assert.equal(pushes[0].status, 200);

  await checkInOffline(links.slice(66));
  await expectEventually(() => pushes.length === 3);
  assert.deepEqual(kinds(pushes[1]), ['check_in_issued']);
  assert.equal(pushes[1].status, 409, 'asked for them whole');
  assert.deepEqual(kinds(pushes[2]), ['check_in'], 'the same push, whole');
  assert.deepEqual(ids(pushes[2]), ids(pushes[1]), 'the same numbers and check-ins');
  assert.equal(pushes[2].status, 200);
  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(
    held.map((c) => c.activity_id).sort(),
    links.map((l) => l.activity.id).sort(),
    'every check-in once',
  );
});

e2eTest('a server older than named codes (a deployment rolled back) gets them whole in the next push, at once', async () => {
  const server = await startServer();
  // More than core's `sync::FEW_CODES` (64): the push names them.
  const links = await runningActivities(server.url, 66);
  const { phone, page } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(page);
  // A server built before `check_in_issued` refuses a push naming codes so, as it refuses any push it cannot
  // read (crates/server/tests/api/push.rs checks the server's own answer to a kind it does not know).
  const pushes = [];
  await phone.route('**/api/v1/sync/push', async (route) => {
    const mutations = pushed(route.request());
    pushes.push({ kinds: [...new Set(mutations.map((m) => m.kind))], count: mutations.length });
    if (mutations.some((m) => m.kind === 'check_in_issued')) {
      const detail = 'mutations[0]: unknown variant `check_in_issued`';
      return route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'invalid', detail }) });
    }
    await route.continue();
  });
  await phone.setOffline(true);
  for (const { link, activity } of links) await openInApp(page, link, activity.title);
  await page.locator('[data-testid=sync-badge][data-waiting="66"]').waitFor();
  await phone.setOffline(false);
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  // Whole, all of them in one push: not cut in half after a wait, as for a failure.
  assert.deepEqual(pushes, [
    { kinds: ['check_in_issued'], count: 66 },
    { kinds: ['check_in'], count: 66 },
  ]);
  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(held.map((c) => c.activity_id).sort(), links.map((l) => l.activity.id).sort(), 'every check-in once');
});

e2eTest('a round going on as the phone goes offline stops there: nothing is sent offline, all of it once back', async () => {
  const server = await startServer();
  const [a, b] = await runningActivities(server.url, 2);
  const { phone, page } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(page);
  // No round runs now (signing in may have asked for a second one): the pull held below is the check-in's.
  await page.locator('[data-testid=sync-badge][data-syncing=false]').waitFor();
  let offline = false;
  const pushes = [];
  await phone.route('**/api/v1/sync/push', async (route) => {
    pushes.push({ offline, count: pushed(route.request()).length });
    await route.continue();
  });
  // The pull after the first check-in's push is answered only once the phone is offline, so the round is
  // still going when it goes offline (the answer itself is fetched beforehand, past the browser's network).
  let pullHeld;
  const pullReached = new Promise((resolve) => (pullHeld = resolve));
  let release;
  const released = new Promise((resolve) => (release = resolve));
  await phone.route('**/api/v1/sync/pull*', async (route) => {
    const response = await route.fetch();
    pullHeld();
    await released;
    await route.fulfill({ response });
  });
  await openInApp(page, a.link, a.activity.title);
  await pullReached;
  assert.deepEqual(pushes, [{ offline: false, count: 1 }], 'the first check-in went before the pull');
  await phone.setOffline(true);
  offline = true;
  // Written while that round runs: this tab asks for one more round after it.
  await openInApp(page, b.link, b.activity.title);
  await page.locator('[data-testid=sync-badge][data-waiting="1"]').waitFor();
  release();
  await page.locator('[data-testid=sync-badge][data-syncing=false]').waitFor();
  assert.deepEqual(pushes.filter((p) => p.offline), [], 'no push went out offline');
  // Nothing failed: no failure counted (and no push cut down), nothing for the member to wonder at.
  assert.equal(await page.locator('[data-testid=sync-badge] .sync-problem').count(), 0);

  await phone.setOffline(false);
  offline = false;
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  assert.equal(pushes.length, 2, 'one push each');
  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(held.map((c) => c.activity_id).sort(), [a.activity.id, b.activity.id].sort(), 'each once');
});

e2eTest('a waiting entry that no longer reads back is shown, kept and exported, and the rest syncs', async () => {
  const server = await startServer();
  const [a, b, c] = await runningActivities(server.url, 3);
  const { phone, page } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(page);
  await phone.setOffline(true);
  for (const { link, activity } of [a, b, c]) await openInApp(page, link, activity.title);
  // The second write's stored value is overwritten with something no build can read.
  await damageOutboxRow(page, 2);

  await page.goto('/sync');
  // Shown among what waits: offline no round reads the outbox, so none has set it aside yet.
  const shown = '[data-testid=sync-waiting] li[data-unreadable=true]';
  await page.locator(shown).filter({ hasText: 'damaged by hand' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=sync-waiting] li').length === 3);

  await phone.setOffline(false);
  await page.getByTestId('sync-damaged').filter({ hasText: 'damaged by hand' }).waitFor({ timeout: 30_000 });
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 30_000 });
  const held = await serverCheckIns(server.url, MEMBER);
  assert.deepEqual(held.map((h) => h.activity_id).sort(), [a.activity.id, c.activity.id].sort(), 'the rest synced');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sync-export').click()]);
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.deepEqual(exported.damaged.map((d) => d.stored), ['"damaged by hand"'], 'exported as it was stored');
  await page.reload();
  await page.getByTestId('sync-damaged').filter({ hasText: 'damaged by hand' }).waitFor();
});

e2eTest('a push that never answers is given up at its deadline, and the next round lands the check-in', async () => {
  const server = await startServer();
  const { running } = await activityLinks(server.url);
  const { phone, page } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(page);
  let pushes = 0;
  // The first push stalls: the network takes it and never answers. Later ones go through.
  await phone.route('**/api/v1/sync/push', async (route) => {
    pushes += 1;
    if (pushes === 1) return;
    await route.continue();
  });
  await phone.setOffline(true);
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  // The badge catches up with the write a moment after the confirmation: wait for it, or "0 waiting" below is stale.
  await page.locator('[data-testid=sync-badge][data-waiting="1"]').waitFor();

  const back = Date.now();
  await phone.setOffline(false);
  await page.locator('[data-testid=sync-badge][data-waiting="0"]').waitFor({ timeout: 60_000 });
  const took = Date.now() - back;
  assert.equal(pushes, 2, 'the stalled push was given up and sent again');
  assert.ok(took >= 15_000, `it waited out the deadline (${took} ms)`);
  assert.ok(took < 25_000, `and no longer than the deadline and a backoff (${took} ms)`);
  assert.equal((await serverCheckIns(server.url, MEMBER)).length, 1);
});

/** Polls `condition` (in node) until it holds. */
async function expectEventually(condition, timeout = 10_000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const [days, flag] of [
  [3, 'clock_skew'],
  [-3, 'outside_window'],
]) {
  e2eTest(`a phone clock ${days > 0 ? 'ahead' : 'behind'} by 3 days still checks in, and the server keeps it flagged`, async () => {
    const server = await startServer();
    const { running } = await activityLinks(server.url);
    const browser = await launchBrowser();
    const phone = await newPhone(browser, server.url);
    await phone.clock.install({ time: new Date(Date.now() + days * 86_400_000) });
    const page = await phone.newPage();
    await signInOnPhone(page, MEMBER);
    await waitForServiceWorker(page);
    await page.locator('[data-testid=sync-badge][data-state=synced]').waitFor();

    // Offline, the code is judged by the server's time as the phone learned it, not by the wrong clock.
    await phone.setOffline(true);
    await page.goto(running.link);
    await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
    await phone.setOffline(false);
    await page.goto('/checkins');
    await waitForRow(page, running.activity.title, 'synced');

    const [held] = await serverCheckIns(server.url, MEMBER);
    assert.equal(held.flag, flag, 'kept, and flagged for the secretary');
    assert.ok(Math.abs(held.received_at - Date.now()) < 60_000, 'the server orders by its own clock');
  });
}
