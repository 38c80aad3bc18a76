// A session ends after a long silence, and nothing the phone holds is lost: the member checks in offline, the
// phone stays silent past the server's limit (the server's clock moved on with `--test-clock-ahead-days`), and
// when it comes back the server signs it out. The phone says so (on the sign-in page opened after it, too), keeps
// the check-in waiting, and once the member signs in again with their PIN it reaches the server exactly once.

import assert from 'node:assert/strict';
import { PIN, checkedInOffline, serverCheckIns, waitForSync } from './flows.mjs';
import { e2eTest, startServer } from './harness.mjs';
import { storeCounts } from './store.mjs';

const MEMBER = 'GH-M01';
const PHONE_NUMBER = '139 0000 0001';

e2eTest('after a long silence the phone signs in again and sends what waited, once', async () => {
  let server = await startServer();
  const { phone, page, running } = await checkedInOffline(server, MEMBER);
  await server.stop();
  // Ninety-one days later, by the server's clock (its limit is ninety).
  server = await startServer({ port: server.port, dataDir: server.dataDir, args: ['--test-clock-ahead-days', '91'] });

  await phone.setOffline(false);
  await page.getByRole('alert').filter({ hasText: '登录已失效' }).waitFor({ timeout: 30_000 });
  assert.equal((await storeCounts(page)).outbox, 1, 'the check-in still waits on the phone');

  // A page opened after the one that heard it still says why the member has to sign in, in another tab too.
  await page.goto('/signin');
  await page.getByRole('alert').filter({ hasText: '登录已失效' }).waitFor();
  const otherTab = await phone.newPage();
  await otherTab.goto('/signin');
  const endedThere = otherTab.getByRole('alert').filter({ hasText: '登录已失效' });
  await endedThere.waitFor();
  await page.getByTestId('signin-phone').fill(PHONE_NUMBER);
  await page.getByTestId('signin-pin').fill(PIN);
  await page.getByTestId('signin-pin-submit').click();
  await page.getByTestId('home').waitFor();
  // Said no more from the moment the member is signed in, not only once the round that follows has ended.
  const ended = page.getByRole('alert').filter({ hasText: '登录已失效' });
  assert.equal(await ended.count(), 0, 'signed in again: said no more');
  // The other tab hears of the sign-in and says no more either, well before a round of its own (a minute).
  await endedThere.waitFor({ state: 'detached', timeout: 10_000 });
  await otherTab.close();
  await waitForSync(page);
  await page.waitForFunction(() => document.querySelector('[data-testid=sync-badge]')?.dataset.waiting === '0', null, {
    timeout: 30_000,
  });
  const checkIns = await serverCheckIns(server.url, MEMBER);
  assert.equal(checkIns.filter((c) => c.activity_id === running.activity.id).length, 1);
  assert.equal(await ended.count(), 0, 'nor once the round has ended');
  await page.reload();
  await page.getByTestId('home').waitFor();
  await waitForSync(page);
  assert.equal(await ended.count(), 0, 'nor after the app is opened again');
});
