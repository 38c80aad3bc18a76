// Steps of Guihai's flows shared by the end-to-end tests: signing in through the app, getting activity
// codes the way a secretary does, and reading what the phone and the server hold.

import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import assert from 'node:assert/strict';
import { api, launchBrowser, newPhone, waitForServiceWorker } from './harness.mjs';

/** The PIN the flows set for a member after their first activation. */
export const PIN = '246810';

/**
 * Signs in through the app's own sign-in screen, sets the PIN if the app asks for one (the member's first
 * sign-in), and waits for the home screen. `origin` is for pages without a base URL (a `diskPhone`'s).
 */
export async function signInOnPhone(page, code, origin = '') {
  await page.goto(`${origin}/signin`);
  await page.getByTestId('activation-code').fill(code);
  await page.getByTestId('signin-submit').click();
  await setPinIfAsked(page);
}

/** After an activation: sets the PIN when the app asks for one, and waits for the home screen. */
export async function setPinIfAsked(page, onPinScreen = async () => {}) {
  await page.getByTestId('home').or(page.getByTestId('set-pin')).waitFor();
  if (await page.getByTestId('set-pin').isVisible()) {
    await page.getByTestId('pin-new').fill(PIN);
    await page.getByTestId('pin-again').fill(PIN);
    await onPinScreen();
    await page.getByTestId('pin-submit').click();
  }
  await page.getByTestId('home').waitFor();
}

/** A phone signed in as `code`, with its service worker active (ready to go offline). */
export async function signedInPhone(server, code) {
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, code);
  await waitForServiceWorker(page);
  return { browser, phone, page };
}

/**
 * A member's phone, signed in and synced, that went offline and checked in to the running activity of the
 * Hangzhou committee: the start of every flow about what a phone holds before it syncs.
 */
export async function checkedInOffline(server, code) {
  const { running } = await activityLinks(server.url);
  const { phone, page } = await signedInPhone(server, code);
  await waitForFirstSync(page);
  await phone.setOffline(true);
  await page.goto(running.link);
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor();
  return { phone, page, running };
}

/** The time of the phone's last whole sync round, as its sync badge says (0 before the first). */
export function lastSynced(page) {
  return page.evaluate(() => Number(document.querySelector('[data-testid=sync-badge]')?.dataset.lastSynced ?? 0));
}

/** Waits until the phone has finished a sync round after `after` (by default, any round). */
export async function waitForSync(page, after = 0) {
  await page.waitForFunction(
    (after) => Number(document.querySelector('[data-testid=sync-badge]')?.dataset.lastSynced ?? 0) > after,
    after,
    { timeout: 30_000 },
  );
}

/** Waits until the phone has finished a whole sync round. */
export function waitForFirstSync(page) {
  return waitForSync(page);
}

/** A session made through the API, as a second device would. */
export async function apiSession(url, code) {
  const clientId = randomUUID();
  const { status, body } = await api(url, '/api/v1/session', {
    method: 'POST',
    body: { activation_code: code, client_id: clientId },
  });
  assert.equal(status, 200, `sign-in with ${code}`);
  return { token: body.token, clientId, me: body.me };
}

const SURNAMES = [...'王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗'];
const GIVEN = [...'文华明国建立志海春秀英'];

/** A name of its own for each of up to 2,200 members: 20 surnames, 110 two-character given names. */
export function nameOf(n) {
  const pair = Math.floor(n / SURNAMES.length);
  const first = GIVEN[Math.floor(pair / (GIVEN.length - 1))];
  const others = GIVEN.filter((c) => c !== first);
  return `${SURNAMES[n % SURNAMES.length]}${first}${others[pair % others.length]}`;
}

/** A township roster (CSV, as its import takes it) of members of 新安镇 named `names`, phone numbers 13950000000 up. */
export function rosterCsv(names) {
  const rows = names.map(
    (name, n) => `${name},139${String(50_000_000 + n)},男,1990,新安镇,2015-07-01,GN-2027-${String(n + 1).padStart(4, '0')}`,
  );
  return ['姓名,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号', ...rows].join('\n');
}

/**
 * On a staff list of members (`org::MemberList`, test id `list`, its rows `row`), one search finds the member
 * `n` of `names` (a roster made by `rosterCsv`) by name, and another by phone number: one row each time.
 */
export async function findsByNameAndPhone(page, { list, row, names, byName, byPhone }) {
  const shown = page.getByTestId(list);
  for (const [query, n] of [[names[byName], byName], [`139${50_000_000 + byPhone}`, byPhone]]) {
    await page.getByTestId(`${list}-search`).fill(query);
    await shown.locator(`[data-testid=${row}][data-name=${names[n]}]`).waitFor();
    assert.equal(await shown.getByTestId(row).count(), 1, `one ${row} for ${query}`);
  }
}

/** Imports `csv` into the township `admin` administers; returns the activations (one-time codes). */
export async function importRoster(url, admin, csv) {
  const imported = await fetch(new URL(`/api/v1/orgs/${admin.me.home_org.id}/roster`, url), {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv; charset=utf-8' },
    body: csv,
  });
  assert.equal(imported.status, 201, await imported.clone().text());
  return (await imported.json()).imported;
}

/** Every record the server shows this session, following the pull pages to the end. */
export async function pullAll(url, session) {
  const records = [];
  let cursor = 0;
  for (;;) {
    const { status, body } = await api(url, `/api/v1/sync/pull?cursor=${cursor}`, {
      token: session.token,
      headers: { 'x-client-id': session.clientId },
    });
    assert.equal(status, 200, 'pull');
    for (const change of body.changes) if (change.op === 'upsert') records.push(change.record);
    cursor = body.cursor;
    if (!body.has_more) return records;
  }
}

/**
 * The check-in links a secretary shows for their organisation's activities: one running now and one
 * that ended (its code is expired).
 */
export async function activityLinks(url, secretaryCode = 'GH-S01') {
  const secretary = await apiSession(url, secretaryCode);
  const now = Date.now();
  const activities = (await pullAll(url, secretary)).filter((r) => r.type === 'activity').map((r) => r.data);
  const link = (activity) => codeLink(url, secretary, activity);
  return {
    running: await link(activities.find((a) => a.starts_at <= now && now < a.ends_at)),
    ended: await link(activities.find((a) => a.ends_at <= now)),
  };
}

/** The check-in code the secretary's session gets for `activity`: `{ payload, link, activity }`. */
export async function codeLink(url, secretary, activity) {
  const { status, body } = await api(url, `/api/v1/activities/${activity.id}/code`, { token: secretary.token });
  assert.equal(status, 200, `code of ${activity.title}`);
  return { ...body, activity };
}

/** Publishes an activity at the secretary's organisation, as the secretary's phone does, and returns it. */
export async function publishActivity(url, secretary, { title, startsAt, endsAt, kind = 'study' }) {
  const { status, body } = await api(url, '/api/v1/activities', {
    method: 'POST',
    token: secretary.token,
    body: { org_id: secretary.me.current_org.id, title, kind, starts_at: startsAt, ends_at: endsAt, place: null },
  });
  assert.equal(status, 201, `publish ${title}`);
  return body;
}

/**
 * Opens a `/q/` link inside the running app, as following a link within it does (no page load), and waits
 * until the check-in screen shows `title`.
 */
export async function openInApp(page, link, title) {
  await page.evaluate((href) => {
    history.pushState(null, '', href);
    dispatchEvent(new PopStateEvent('popstate'));
  }, link);
  await page.getByTestId('checkin-activity').filter({ hasText: title }).waitFor();
}

/** The same code re-signed with a key the server never had: what a forger would make. */
export function forge(payload) {
  const bytes = Buffer.from(payload, 'base64url');
  const body = bytes.subarray(0, bytes.length - 64);
  const { privateKey } = generateKeyPairSync('ed25519');
  const signature = sign(null, Buffer.concat([Buffer.from('guihai/qr/1'), body]), privateKey);
  return Buffer.concat([body, signature]).toString('base64url');
}

/** The member's check-ins the server holds, as the member's other device would see them. */
export async function serverCheckIns(url, memberCode) {
  const session = await apiSession(url, memberCode);
  return (await pullAll(url, session)).filter((r) => r.type === 'check_in').map((r) => r.data);
}


/** Waits until `check` answers true. */
export async function until(check, timeout = 30_000) {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits until the check-in row for `title` is in `state` (waiting, synced, refused). */
export async function waitForRow(page, title, state, timeout = 30_000) {
  await page
    .getByTestId('checkin-row')
    .filter({ hasText: title })
    .and(page.locator(`[data-state=${state}]`))
    .waitFor({ timeout });
}

/** The organisation code link its secretary shows. */
export async function orgLink(url, secretaryCode = 'GH-S01') {
  const secretary = await apiSession(url, secretaryCode);
  const org = secretary.me.current_org.id;
  const { status, body } = await api(url, `/api/v1/orgs/${org}/code`, { token: secretary.token });
  assert.equal(status, 200);
  return { link: body.link, secretary, org };
}

/** Who came to `activity`, as its secretary (`GH-S01`) reads it from the server once `page`'s phone has nothing
 * waiting. */
export async function attendeesOnceSynced(server, activity, page) {
  await page.waitForFunction(() => document.querySelector('[data-testid=sync-badge]')?.dataset.waiting === '0', null, {
    timeout: 30_000,
  });
  const secretary = await apiSession(server.url, 'GH-S01');
  const { status, body } = await api(server.url, `/api/v1/activities/${activity.id}/attendance`, {
    token: secretary.token,
  });
  assert.equal(status, 200);
  return body.came;
}

/** Fails unless `locator` is wholly inside the page's viewport: where the person is looking. */
export async function assertInView(page, locator) {
  const box = await locator.boundingBox();
  const { width, height } = page.viewportSize();
  assert.ok(
    // A pixel's slack for layout's fractions.
    box && box.x >= -1 && box.y >= -1 && box.x + box.width <= width + 1 && box.y + box.height <= height + 1,
    `in view of ${width}x${height}: ${JSON.stringify(box)}`,
  );
}

/** Waits for the answer bar to say `text`, and checks it is in view. */
export async function answered(page, text) {
  const toast = page.getByTestId('toast').filter({ hasText: text });
  await toast.waitFor();
  await assertInView(page, toast);
  return toast;
}

/** Taps `button`, which asks before a step that cannot be undone, and answers the question with `accept`. */
export async function tapAndAnswer(page, button, accept) {
  page.once('dialog', (dialog) => (accept ? dialog.accept() : dialog.dismiss()));
  await button.click();
}

/**
 * Opens the staff screen at `address` with `open` and checks that each of `paths` (the API paths it asks first,
 * as src/online/early.rs names them) was asked once, and before the app's mount began: asked early, from the
 * screen's address, and its answer taken by the screen rather than asked again. A route that no longer matches
 * the early table fails here: its request is asked after the mount, or asked twice.
 */
export async function opensAskingEarly(page, address, open, paths) {
  const asked = [];
  const listen = (request) => asked.push(new URL(request.url()).pathname);
  page.on('request', listen);
  await open();
  await page.waitForURL((url) => url.pathname === address);
  // The screen has asked what it asks as it is built.
  await page.waitForLoadState('networkidle');
  page.off('request', listen);
  for (const path of paths) {
    assert.equal(asked.filter((at) => at === path).length, 1, `${path} asked once: ${asked}`);
  }
  const [mountedAt, ...startedAt] = await page.evaluate(
    (urls) => ['guihai:mount', ...urls].map((name) => performance.getEntriesByName(name)[0]?.startTime),
    paths.map((path) => new URL(path, page.url()).href),
  );
  assert.ok(mountedAt !== undefined, 'the app measured its mount');
  for (const [n, started] of startedAt.entries()) {
    assert.ok(started < mountedAt, `${paths[n]} asked at ${started} ms, the app's mount began at ${mountedAt} ms`);
  }
}
