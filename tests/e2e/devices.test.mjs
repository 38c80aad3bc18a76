// A member's phones: activation and a PIN on the first, a profile edit made offline and synced, the second
// phone signed in with the phone number and PIN, and the first one (lost, say) revoked from the second: it is
// signed out on its next sync and keeps nothing of the member; its PIN is forgotten with it and a new one set.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, e2eTest, launchBrowser, newPhone, screenshot, startServer, waitForServiceWorker } from './harness.mjs';
import { PIN, answered, signInOnPhone, tapAndAnswer, waitForFirstSync } from './flows.mjs';
import { kv, memberData } from './store.mjs';

const MEMBER = 'GH-M07';
const PHONE_NUMBER = '139 0000 0007';

e2eTest('activation, PIN, an offline profile edit, a second phone by PIN, and the first one revoked', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const firstPhone = await newPhone(browser, server.url);
  const first = await firstPhone.newPage();
  await signInOnPhone(first, MEMBER);
  await waitForServiceWorker(first);
  await waitForFirstSync(first);

  await firstPhone.setOffline(true);
  await first.goto('/profile');
  await first.getByTestId('profile-edit').click();
  await first.getByTestId('profile-input-city').fill('苏州工业园区');
  await first.getByTestId('profile-save').click();
  await first.getByTestId('profile-city').filter({ hasText: '苏州工业园区' }).waitFor();
  await firstPhone.setOffline(false);
  await first.getByTestId('profile-city').locator('.pill').waitFor({ state: 'detached', timeout: 30_000 });
  const { token: firstToken } = await kv(first, 'session');

  const secondPhone = await newPhone(browser, server.url);
  const second = await secondPhone.newPage();
  await second.goto('/signin');
  await second.getByTestId('signin-phone').fill(PHONE_NUMBER);
  await second.getByTestId('signin-pin').fill('000000');
  await second.getByTestId('signin-pin-submit').click();
  await second.getByTestId('signin-error').waitFor();
  await second.getByTestId('signin-pin').fill(PIN);
  await second.getByTestId('signin-pin-submit').click();
  await second.getByTestId('home').waitFor();
  await second.goto('/profile');
  await second.getByTestId('profile-city').filter({ hasText: '苏州工业园区' }).waitFor({ timeout: 30_000 });

  await second.goto('/devices');
  const devices = second.getByTestId('device');
  await devices.nth(1).waitFor();
  assert.equal(await devices.count(), 2);
  await screenshot(second, 'devices');
  const revoke = second.locator('[data-testid=device][data-current=false]').getByTestId('device-revoke');
  // Asked first: a "no" signs nothing out.
  await tapAndAnswer(second, revoke, false);
  await second.reload();
  await devices.nth(1).waitFor();
  assert.equal(await devices.count(), 2, 'both phones still signed in, as the server says');
  // Lost, and its PIN may have been seen typed: forgotten with it.
  await second.getByTestId('device-forget-pin').check();
  await tapAndAnswer(second, revoke, true);
  await answered(second, '已退出登录');
  await devices.nth(1).waitFor({ state: 'detached' });
  const pinSignIn = (pin) =>
    api(server.url, '/api/v1/session/pin', {
      method: 'POST',
      body: { phone: PHONE_NUMBER, pin, client_id: randomUUID() },
    });
  assert.equal((await pinSignIn(PIN)).status, 401, 'the old PIN signs in nowhere');
  // A new one, set on the phone kept (no current PIN to give: there is none).
  await second.goto('/pin');
  await second.getByTestId('pin-new').fill('864209');
  await second.getByTestId('pin-again').fill('864209');
  await second.getByTestId('pin-submit').click();
  await second.getByTestId('home').waitFor();
  assert.equal((await pinSignIn('864209')).status, 200);

  // The first phone learns it on its next sync (here, reopening the app) and keeps nothing of the member.
  await first.reload();
  await first.getByTestId('activation-code').waitFor({ timeout: 30_000 });
  await first.getByRole('alert').filter({ hasText: '已从本机清除' }).waitFor();
  assert.deepEqual(await memberData(first), { entries: 0, local: [] });
  // Opened again, the phone still says why it holds nothing.
  await first.reload();
  await first.getByTestId('activation-code').waitFor();
  await first.getByRole('alert').filter({ hasText: '已从本机清除' }).waitFor();
  assert.equal((await api(server.url, '/api/v1/me', { token: firstToken })).status, 401);
});
