// Out of contact (失联), handled: the township sees who has been silent longest and records a phone call made
// outside the app, which clears the flag until the next period of silence; the host secretary can record one
// too (a visit), from the organisation's screen; and a member's own page shows the township all of them.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, e2eTest, screenshot, startServer } from './harness.mjs';
import { answered, apiSession, codeLink, publishActivity, signedInPhone } from './flows.mjs';

/** Opens the contact form inside `where` (a member's row), unless it is open. */
async function openContactForm(where) {
  const form = where.getByTestId('record-contact');
  if (!(await form.evaluate((details) => details.open))) await form.locator('summary').click();
}

/** Fills and sends the contact form inside `where`. */
async function recordContact(where, { way, note }) {
  await openContactForm(where);
  if (way) await where.getByTestId('contact-way').selectOption(way);
  await where.getByTestId('contact-note').fill(note);
  await where.getByTestId('contact-submit').click();
}

e2eTest('a phone call recorded by the township clears 失联 until the next silence', async () => {
  let server = await startServer();
  const { page } = await signedInPhone(server, 'GH-T05'); // 三口镇, home of 罗小燕, silent for 120 days
  await page.getByTestId('nav-township').click();
  const lost = page.getByTestId('lost-members');
  const luo = lost.locator('[data-testid=lost-member][data-name=罗小燕]');
  assert.match(await luo.textContent(), /已 1[12]\d 天没有联系/);
  await screenshot(page, 'out-of-contact');

  // Sending an empty note is stopped by the form; nothing is recorded.
  await openContactForm(luo);
  await luo.getByTestId('contact-submit').click();
  assert.equal(await luo.getByTestId('contact-note').evaluate((note) => note.validity.valueMissing), true);

  await recordContact(luo, { note: '打通了电话，在上海嘉定的工地，下月回乡' });
  await answered(page, '已记录与罗小燕的联系');
  await page.getByTestId('township-page').getByText('没有失联的党员').waitFor();
  const row = page.getByTestId('township-members').locator('[data-testid=township-member][data-name=罗小燕]');
  assert.match(await row.getByTestId('recorded-contact').textContent(), /电话联系 · .* · 彭晓红：打通了电话，在上海嘉定的工地/);
  assert.equal(await row.getByTestId('lost').count(), 0);

  // 91 days later with nothing heard: out of contact again, the call still on record.
  await server.stop();
  server = await startServer({ port: server.port, dataDir: server.dataDir, args: ['--test-clock-ahead-days', '91'] });
  const admin = await apiSession(server.url, 'GH-T05');
  const { body: members } = await api(server.url, `/api/v1/orgs/${admin.me.home_org.id}/members`, { token: admin.token });
  const later = members.find((member) => member.name === '罗小燕');
  assert.equal(later.lost, true);
  assert.equal(later.recorded_contact.note, '打通了电话，在上海嘉定的工地，下月回乡');
});

e2eTest('the host secretary records a visit from the organisation screen', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-S05'); // 上海, where 马长海 is
  await page.getByTestId('nav-org').click();
  const ma = page.getByTestId('org-members').locator('[data-testid=org-member][data-name=马长海]');
  await ma.getByTestId('lost').waitFor();
  await recordContact(ma, { way: 'visit', note: '到宿舍看望，手机丢了，已补办' });
  await answered(page, '已记录与马长海的联系');
  await ma.getByTestId('recorded-contact').filter({ hasText: '上门走访' }).waitFor();
  assert.equal(await ma.getByTestId('lost').count(), 0);

  // What the secretary recorded, the township sees.
  const township = await signedInPhone(server, 'GH-T03'); // 田楼镇
  await township.page.getByTestId('nav-township').click();
  const row = township.page.getByTestId('township-members').locator('[data-testid=township-member][data-name=马长海]');
  assert.match(await row.getByTestId('recorded-contact').textContent(), /上门走访 · .* · 沈玉梅：到宿舍看望/);
});

e2eTest("a member's own page for their township: stops, what they attended, evaluations, and a contact recorded", async () => {
  const server = await startServer();
  // 罗小燕's organisation in 上海 holds an activity, and her phone checks in (its sync, here through the API).
  const secretary = await apiSession(server.url, 'GH-S05');
  const now = Date.now();
  const activity = await publishActivity(server.url, secretary, {
    title: '主题党日：重温入党誓词',
    startsAt: now - 3_600_000,
    endsAt: now + 3_600_000,
  });
  const running = await codeLink(server.url, secretary, activity);
  const member = await apiSession(server.url, 'GH-M20');
  const pushed = await api(server.url, '/api/v1/sync/push', {
    method: 'POST',
    token: member.token,
    body: {
      client_id: member.clientId,
      mutations: [{ seq: 1, occurred_at: Date.now(), kind: 'check_in', args: { id: randomUUID(), code: running.payload } }],
    },
  });
  assert.equal(pushed.status, 200);
  const admin = await apiSession(server.url, 'GH-T05');
  const { body: detail } = await api(server.url, `/api/v1/people/${member.me.id}`, { token: admin.token });
  assert.equal(detail.entry.name, member.me.name);
  assert.ok(detail.attended.some((a) => a.title === running.activity.title));

  const { page } = await signedInPhone(server, 'GH-T05');
  await page.getByTestId('nav-township').click();
  const row = page.getByTestId('township-members').locator(`[data-testid=township-member][data-name=${member.me.name}]`);
  await row.getByTestId('member-detail-link').click();
  const card = page.getByTestId('member-detail');
  assert.equal(await card.getByTestId('member-detail-name').textContent(), member.me.name);
  assert.equal(Number(await card.getByTestId('attended-year').getAttribute('data-count')), detail.attended.length);
  assert.equal(await page.getByTestId('stop').count(), detail.stops.length);
  assert.equal(await page.getByTestId('review').count(), detail.reviews.length);
  await screenshot(page, 'township-member');

  // A call recorded from here is on her page at once.
  await recordContact(card, { note: '电话联系上了，一切都好' });
  await answered(page, `已记录与${member.me.name}的联系`);
  assert.match(await card.getByTestId('recorded-contact').textContent(), /电话联系上了，一切都好/);
});
