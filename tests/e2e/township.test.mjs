// A township the size of a real one: 2,200 members imported through the township's own roster import, then
// the township's screen finds one of them with one search, narrows them by where they stand, city and
// organisation, and lists who is out of contact a page at a time.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { api, e2eTest, screenshot, startServer } from './harness.mjs';
import {
  apiSession,
  findsByNameAndPhone,
  importRoster,
  nameOf,
  opensAskingEarly,
  rosterCsv,
  signedInPhone,
} from './flows.mjs';

const MEMBERS = 2_200;

e2eTest('a township of 2,200 members: one search finds a member, and 失联 is listed a page at a time', async () => {
  const server = await startServer();
  const admin = await apiSession(server.url, 'GH-T01'); // 新安镇
  const names = Array.from({ length: MEMBERS }, (_, n) => nameOf(n));
  assert.equal(new Set(names).size, MEMBERS, 'every name its own');
  await importRoster(server.url, admin, rosterCsv(names));

  const { page } = await signedInPhone(server, 'GH-T01');
  const township = admin.me.home_org.id;
  // The screen's requests leave as soon as the phone's store is open, before the app mounts and builds the
  // screen (src/online/early.rs), and the screen takes their answers instead of asking again.
  await opensAskingEarly(page, `/township/${township}`, () => page.getByTestId('nav-township').click(), [
    `/api/v1/orgs/${township}/members`,
    `/api/v1/orgs/${township}/notices`,
  ]);
  // Never heard from, every one of them: the out-of-contact list shows a page, and more at a tap.
  const lost = page.getByTestId('lost-members');
  await lost.waitFor({ timeout: 60_000 });
  await page.getByTestId('send-notices').waitFor();
  assert.equal(await lost.getByTestId('lost-member').count(), 30);
  await page.getByTestId('lost-members-more').click();
  assert.equal(await lost.getByTestId('lost-member').count(), 60);

  // One search, by name or by phone number, finds the member among all of them.
  await findsByNameAndPhone(page, { list: 'township-members', row: 'township-member', names, byName: 1_733, byPhone: 42 });
  const wanted = names[1_733];
  await page.getByTestId('township-members-search').fill('');

  // Narrowed by where they stand, by city and by organisation: each count is the server's list counted here.
  const { body: listed } = await api(server.url, `/api/v1/orgs/${township}/members`, { token: admin.token });
  const shownCount = async () => Number(await page.getByTestId('township-members-count').getAttribute('data-count'));
  assert.equal(await shownCount(), listed.length);
  await page.getByTestId('township-members-standing').selectOption('out_of_contact');
  assert.equal(await shownCount(), listed.filter((entry) => entry.lost).length);
  assert.ok((await shownCount()) >= MEMBERS, 'never heard from, all the imported');
  await page.getByTestId('township-members-standing').selectOption('at_organisation');
  const atOrganisation = listed.filter((entry) => ['at', 'leaving'].includes(entry.situation.state));
  assert.ok(atOrganisation.length > 0);
  assert.equal(await shownCount(), atOrganisation.length);
  const city = atOrganisation[0].current_org.city;
  await page.getByTestId('township-members-city').selectOption(city);
  assert.equal(await shownCount(), atOrganisation.filter((entry) => entry.current_org.city === city).length);
  await page.getByTestId('township-members-standing').selectOption('');
  await page.getByTestId('township-members-city').selectOption('');
  const org = atOrganisation[0].current_org;
  await page.getByTestId('township-members-org').selectOption(org.id);
  assert.equal(await shownCount(), listed.filter((entry) => entry.current_org?.id === org.id).length);
  await page
    .getByTestId('township-members')
    .locator(`[data-testid=township-member][data-name=${atOrganisation[0].name}]`)
    .waitFor();
  await page.getByTestId('township-members-org').selectOption('');

  // The whole list as a spreadsheet Excel in Chinese opens: every member, one row each.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('members-csv').click()]);
  const sheet = await readFile(await download.path());
  assert.deepEqual([...sheet.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a byte order mark, for Excel');
  const lines = sheet.toString('utf8').trim().split(/\r?\n/);
  assert.equal(lines.length, 1 + listed.length);
  assert.ok(listed.length >= MEMBERS);
  assert.ok(lines.some((line) => line.startsWith(`${wanted},139${50_000_000 + 1_733},新安镇,`)));

  // The one-page summary: where the 2,200 and more stand, and 流向 by city, by organisation and by month, each
  // count the server's list counted here.
  await page.getByTestId('township-summary-link').click();
  const summary = page.getByTestId('township-summary');
  await summary.waitFor();
  const figure = async (testid) => Number(await summary.getByTestId(testid).getAttribute('data-count'));
  assert.equal(await figure('summary-members'), listed.length);
  assert.equal(await figure('summary-lost'), listed.filter((entry) => entry.lost).length);
  assert.equal(await figure('summary-at'), atOrganisation.length);
  const away = listed.filter((entry) => entry.current_org);
  const bars = async (testid) =>
    Object.fromEntries(
      await summary
        .getByTestId(testid)
        .locator('g')
        .evaluateAll((gs) => gs.map((g) => [g.dataset.name, Number(g.dataset.count)])),
    );
  const tally = (key) => away.reduce((counts, entry) => ({ ...counts, [key(entry)]: (counts[key(entry)] ?? 0) + 1 }), {});
  assert.deepEqual(await bars('flow-cities'), tally((entry) => entry.current_org.city));
  assert.deepEqual(await bars('flow-orgs'), tally((entry) => entry.current_org.name));
  const months = await summary.getByTestId('flow-month').evaluateAll((gs) => gs.map((g) => Number(g.dataset.count)));
  assert.equal(months.length, 12);
  assert.equal(months.at(-1), away.length, 'this month: those away now');
  await screenshot(page, 'township-summary');
  const [flowSheet] = await Promise.all([page.waitForEvent('download'), page.getByTestId('flow-csv').click()]);
  assert.match((await readFile(await flowSheet.path())).toString('utf8'), /^\uFEFF月份,在外党员,城市,党员\r?\n/);
});
