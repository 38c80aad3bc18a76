// The server's signing key rotated and revoked (`guihai-server keys`) beside the running server, while a member's
// phone still holds the old keys: a code signed by the new key says, offline, that the phone must sync first, and
// checks in by itself once the phone is online and has learnt the key; after the old key is revoked and the phone
// has synced, a code signed by it is refused with that reason.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { activityLinks, lastSynced, serverCheckIns, signedInPhone, waitForFirstSync, waitForSync } from './flows.mjs';
import { api, e2eTest, startServer } from './harness.mjs';

const MEMBER = 'GH-M01';

/** `guihai-server keys ARGS` on the server's data, as its operator runs it. */
async function keys(server, ...args) {
  const bin = process.env.GUIHAI_SERVER_BIN;
  const { stdout } = await promisify(execFile)(bin, ['keys', ...args, '--data-dir', server.dataDir]);
  return stdout;
}

/** Waits until the running server publishes keys that satisfy `done` (it looks every few seconds). */
async function untilKeys(server, done) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { body } = await api(server.url, '/api/v1/keys');
    if (done(body.keys)) return body.keys;
    assert.ok(Date.now() < deadline, `the server did not take the keys: ${JSON.stringify(body.keys)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

e2eTest('a code signed by a new key checks in once the phone learns the key; a revoked key is refused', async () => {
  const server = await startServer();
  const { phone, page } = await signedInPhone(server, MEMBER);
  await waitForFirstSync(page);
  const { running: before } = await activityLinks(server.url);

  assert.match(await keys(server, 'rotate'), /made signing key 2/);
  await untilKeys(server, (keys) => keys.length === 2);
  const { running: after } = await activityLinks(server.url);
  assert.notEqual(after.payload, before.payload);

  await phone.setOffline(true);
  await page.goto(after.link);
  await page.locator('[data-testid=checkin-result][data-error=unknown_key]').waitFor();
  await phone.setOffline(false);
  // The page asks for a sync itself and reads the code again once the key has arrived.
  await page.locator('[data-testid=checkin-result][data-result=done]').waitFor({ timeout: 30_000 });

  assert.match(await keys(server, 'revoke', '1'), /revoked signing key 1/);
  await untilKeys(server, (keys) => keys.some((key) => key.key_id === 1 && key.revoked));
  // Synced (a round already under way may have pulled before the revocation: then one more) ...
  for (let round = 0; ; round += 1) {
    const synced = await lastSynced(page);
    await page.goto('/');
    await waitForSync(page, synced);
    await page.goto(before.link);
    const result = page.getByTestId('checkin-result');
    await result.waitFor();
    // ... the old key's code is refused for its reason.
    if ((await result.getAttribute('data-error')) === 'revoked') break;
    assert.ok(round < 2, `the phone did not learn of the revocation: ${await result.getAttribute('data-result')}`);
  }

  const checkIns = await serverCheckIns(server.url, MEMBER);
  assert.equal(checkIns.filter((c) => c.activity_id === after.activity.id).length, 1);
});
