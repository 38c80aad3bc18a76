// Notices (通知): the township writes one; a member's phone gets it in its next sync, the member reads it with
// no network (the unread badge on the home screen goes), and once the phone is back online the township sees
// who has read it.

import assert from 'node:assert/strict';
import { e2eTest, screenshot, startServer } from './harness.mjs';
import { answered, lastSynced, signedInPhone, waitForFirstSync, waitForSync } from './flows.mjs';
import { outboxCount } from './store.mjs';

const TITLE = '十二月主题党日';
const BODY = '12 月 6 日晚 7 点线上学习《党章》第三章。\n在外地的同志请用手机参加。';

e2eTest('a notice reaches a phone, is read offline, and the township sees it read', async () => {
  const server = await startServer();
  const township = await signedInPhone(server, 'GH-T01'); // 新安镇
  const admin = township.page;
  await admin.getByTestId('nav-township').click();
  const send = admin.getByTestId('send-notices');
  await send.getByTestId('notice-new-title').fill(TITLE);
  await send.getByTestId('notice-new-body').fill(BODY);
  await send.getByTestId('notice-send').click();
  await answered(admin, `已发出通知「${TITLE}」`);
  const sent = send.getByTestId('sent-notice').filter({ hasText: TITLE });
  assert.match(await sent.getByTestId('sent-notice-read').textContent(), /已读 0 \/ \d+ 人/);

  const member = await signedInPhone(server, 'GH-M01'); // 王建国, 新安镇
  const { page, phone } = member;
  await waitForFirstSync(page);
  await page.getByTestId('notices-unread').filter({ hasText: '1' }).waitFor();

  // Read with no network at all.
  await phone.setOffline(true);
  await page.getByTestId('nav-notices').click();
  const item = page.getByTestId('notice-item').filter({ hasText: TITLE });
  assert.equal(await item.getAttribute('data-unread'), 'true');
  await item.getByRole('link').click();
  assert.equal(await page.getByTestId('notice-title').textContent(), TITLE);
  assert.equal(await page.getByTestId('notice-body').textContent(), BODY);
  await screenshot(page, 'notice');
  await page.getByTestId('notice-page').getByRole('link', { name: '全部通知' }).click();
  await page.getByTestId('notice-item').filter({ hasText: TITLE }).and(page.locator('[data-unread=false]')).waitFor();
  assert.equal(await outboxCount(page), 1, 'the read waits in the outbox');
  await page.locator('.brand').click();
  await page.getByTestId('home').waitFor();
  assert.equal(await page.getByTestId('notices-unread').count(), 0);

  // Back online: the read reaches the server, and the township sees who has read it.
  const before = await lastSynced(page);
  await phone.setOffline(false);
  await waitForSync(page, before);
  for (let tries = 0; (await outboxCount(page)) > 0; tries += 1) {
    assert.ok(tries < 50, 'the read was never sent');
    await page.waitForTimeout(200);
  }
  await sent.getByTestId('notice-receipts').click();
  await admin.getByTestId('notice-read').locator('[data-testid=reader][data-name=王建国]').waitFor();
  assert.equal(await admin.getByTestId('notice-unread').locator('[data-testid=reader][data-name=王建国]').count(), 0);
  assert.ok((await admin.getByTestId('notice-unread').getByTestId('reader').count()) > 0, 'others have not read it');
});
