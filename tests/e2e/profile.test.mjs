// The member's profile on two phones: both edit offline, the clash on one field is shown on both with the
// two values, the member chooses on one phone, and both phones and the server end up with the same profile.

import assert from 'node:assert/strict';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { apiSession, pullAll, signInOnPhone } from './flows.mjs';
import { outboxCount } from './store.mjs';

const MEMBER = 'GH-M06';

async function openProfilePhone(browser, server) {
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, MEMBER);
  await waitForServiceWorker(page);
  await page.getByTestId('nav-profile').click();
  await page.getByTestId('profile').waitFor();
  return { phone, page };
}

async function editProfile(page, values) {
  await page.getByTestId('profile-edit').click();
  for (const [field, value] of Object.entries(values)) {
    await page.getByTestId(`profile-input-${field}`).fill(value);
  }
  await page.getByTestId('profile-save').click();
  await page.getByTestId('profile-edit').waitFor();
}

/** Waits until the profile screen shows `value` for `field` and nothing of it waits to sync. */
async function waitForSynced(page, field, value) {
  const cell = page.getByTestId(`profile-${field}`);
  await cell.filter({ hasText: value }).waitFor({ timeout: 30_000 });
  await cell.locator('.pill').waitFor({ state: 'detached', timeout: 30_000 });
}

async function serverProfile(url) {
  const records = await pullAll(url, await apiSession(url, MEMBER));
  return records.find((r) => r.type === 'profile').data;
}

e2eTest('two phones edit the profile offline; a clash is chosen once and both converge', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const first = await openProfilePhone(browser, server);
  const second = await openProfilePhone(browser, server);

  await first.phone.setOffline(true);
  await second.phone.setOffline(true);
  await editProfile(first.page, { phone: '13900000001', employer: '杭州建工集团' });
  await editProfile(second.page, { phone: '13900000002', job: '钢筋工' });
  // Saved on the phone, shown at once, marked as waiting, and still there after an offline reload.
  await first.page.reload();
  await first.page.getByTestId('profile-phone').filter({ hasText: '13900000001' }).waitFor();
  await first.page.getByTestId('profile-phone').locator('.pill').waitFor();
  assert.equal(await outboxCount(first.page), 1);

  await first.phone.setOffline(false);
  await waitForSynced(first.page, 'phone', '13900000001');
  await second.phone.setOffline(false);
  // The second phone's job merges; its phone number clashes, and the server's value stays until the member chooses.
  await second.page.getByTestId('conflict-phone').waitFor({ timeout: 30_000 });
  await waitForSynced(second.page, 'job', '钢筋工');
  assert.match(await second.page.getByTestId('profile-phone').textContent(), /13900000001/);
  assert.match(await second.page.getByTestId('profile-employer').textContent(), /杭州建工集团/);
  // Each choice says which phone its value came from.
  const asked = second.page.getByTestId('conflict-phone');
  assert.equal(await asked.getByTestId('conflict-keep').textContent(), '用另一部手机上的“13900000001”');
  assert.equal(await asked.getByTestId('conflict-theirs').textContent(), '用这部手机上的“13900000002”');
  await screenshot(second.page, 'profile-conflict');

  // The first phone learns of the clash on its next sync and the member settles it there.
  await first.page.reload();
  const clash = first.page.getByTestId('conflict-phone');
  await clash.waitFor({ timeout: 30_000 });
  assert.equal(await clash.getByTestId('conflict-keep').textContent(), '用这部手机上的“13900000001”');
  await clash.getByTestId('conflict-theirs').click();
  await clash.waitFor({ state: 'detached' });
  await waitForSynced(first.page, 'phone', '13900000002');

  await second.page.reload();
  await waitForSynced(second.page, 'phone', '13900000002');
  assert.equal(await second.page.getByTestId('profile-conflicts').count(), 0);
  const held = await serverProfile(server.url);
  assert.deepEqual(
    { phone: held.values.phone, employer: held.values.employer, job: held.values.job, conflicts: held.conflicts },
    { phone: '13900000002', employer: '杭州建工集团', job: '钢筋工', conflicts: [] },
  );
  for (const { page } of [first, second]) assert.equal(await outboxCount(page), 0);
});

e2eTest('a value the profile cannot hold is explained on the form and nothing is queued', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const { page } = await openProfilePhone(browser, server);
  await page.getByTestId('profile-edit').click();
  await page.getByTestId('profile-input-phone').fill('call me');
  await page.getByTestId('profile-save').click();
  await page.getByRole('alert').filter({ hasText: '不是有效的电话号码' }).waitFor();
  assert.equal(await outboxCount(page), 0);
  await screenshot(page, 'profile-form');
});
