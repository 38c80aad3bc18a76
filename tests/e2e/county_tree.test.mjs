// The county's tree managed from the county administrator's phone: a contact point set up in a new city with its
// secretary (a member of the county, by their sign-in number), who then runs it from their own phone; renamed; given
// another secretary in their place; and
// the Shanghai contact point closed with its members moved to Suzhou, which their phones show after a sync.

import assert from 'node:assert/strict';
import { e2eTest, screenshot, startServer } from './harness.mjs';
import { answered, lastSynced, signedInPhone, tapAndAnswer, waitForFirstSync, waitForSync } from './flows.mjs';

const SHANGHAI = '灌南县驻上海流动党员联系点';
const SUZHOU = '灌南县驻苏州流动党总支';

e2eTest('the county sets up a contact point with its secretary, renames it, and closes one with its members moved', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-C01');
  await page.getByTestId('nav-county').click();
  const hosts = page.getByTestId('county-hosts');
  const host = (name) => hosts.locator(`[data-testid=county-org][data-name="${name}"]`);
  await host(SHANGHAI).waitFor();

  // Set up: a number nobody signs in with is refused, and nothing is added; the member's number is accepted.
  await page.getByTestId('tree-add').locator('summary').click();
  await page.getByTestId('tree-new-name').fill('灌南县驻东莞长安流动党员联系点');
  await page.getByTestId('tree-new-city').fill('东莞');
  await page.getByTestId('tree-new-address').fill('东莞市长安镇长青南路 1 号');
  await page.getByTestId('tree-new-secretary').fill('137 0000 0000');
  await page.getByTestId('tree-new-submit').click();
  await answered(page, '没有新增');
  assert.equal(await hosts.getByTestId('county-org').count(), 5);
  await page.getByTestId('tree-new-secretary').fill('139 0000 0003'); // 张志强, GH-M03
  await page.getByTestId('tree-add').scrollIntoViewIfNeeded();
  await screenshot(page, 'county-tree-add');
  await page.getByTestId('tree-new-submit').click();
  await answered(page, '已新增“灌南县驻东莞长安流动党员联系点”');
  const dongguan = host('灌南县驻东莞长安流动党员联系点');
  await dongguan.waitFor();
  assert.match(await dongguan.textContent(), /东莞 · 流动党员联系点/);

  // A branch under it, chosen in the form.
  await page.getByTestId('tree-add').locator('summary').click();
  await page.getByTestId('tree-new-kind').selectOption('branch');
  await page.getByTestId('tree-new-name').fill('长安第一流动党支部');
  await page.getByTestId('tree-new-city').fill('东莞');
  await page.getByTestId('tree-new-parent').selectOption({ label: '灌南县驻东莞长安流动党员联系点' });
  await page.getByTestId('tree-new-submit').click();
  await answered(page, '已新增“长安第一流动党支部”');
  const branch = host('长安第一流动党支部');
  await branch.getByTestId('county-org-parent').filter({ hasText: '隶属：灌南县驻东莞长安流动党员联系点' }).waitFor();
  assert.match(await branch.textContent(), /东莞 · 流动党支部/);

  // Its secretary runs it from their own phone.
  const { page: secretary } = await signedInPhone(server, 'GH-M03');
  await waitForFirstSync(secretary);
  await secretary.getByTestId('nav-org').click();
  await secretary.getByTestId('org-page').filter({ hasText: '灌南县驻东莞长安流动党员联系点' }).waitFor();

  // Renamed from the county's screen.
  await dongguan.getByTestId('tree-manage').locator('summary').click();
  await dongguan.getByTestId('tree-edit-name').fill('长安联络点');
  await dongguan.getByTestId('tree-edit-contact').fill('0769-85321234');
  await dongguan.getByTestId('tree-edit-submit').click();
  await answered(page, '已保存“长安联络点”');
  await host('长安联络点').waitFor();
  assert.match(await host('长安联络点').textContent(), /0769-85321234/);

  // A new secretary in place of the first (李秀英, GH-M02), whose phone loses the organisation's screen.
  const renamed = host('长安联络点');
  await renamed.getByTestId('tree-manage').locator('summary').click();
  await renamed.getByTestId('tree-appoint-phone').fill('13900000002');
  await renamed.getByTestId('tree-appoint-submit').click();
  await answered(page, '已任命新书记（13900000002）');
  const before = await lastSynced(secretary);
  await secretary.goto('/');
  await waitForSync(secretary, before);
  await secretary.getByTestId('home').waitFor();
  assert.equal(await secretary.getByTestId('nav-org').count(), 0, 'GH-M03 no longer runs it');
  const { page: successor } = await signedInPhone(server, 'GH-M02');
  await waitForFirstSync(successor);
  await successor.getByTestId('nav-org').click();
  await successor.getByTestId('org-page').filter({ hasText: '长安联络点' }).waitFor();

  // Shanghai's four members, one of them on their phone.
  const { page: member } = await signedInPhone(server, 'GH-M17'); // 何志平, in Shanghai
  await waitForFirstSync(member);
  assert.equal(await member.getByTestId('current-org').textContent(), SHANGHAI);
  const suzhouMembers = Number(await host(SUZHOU).getAttribute('data-members'));

  // Closing asks first; declined, nothing happens.
  const shanghai = host(SHANGHAI);
  await shanghai.getByTestId('tree-manage').locator('summary').click();
  await shanghai.getByTestId('tree-move-to').selectOption({ label: SUZHOU });
  await tapAndAnswer(page, shanghai.getByTestId('tree-close-submit'), false);
  await tapAndAnswer(page, shanghai.getByTestId('tree-close-submit'), true);
  await answered(page, `已撤销“${SHANGHAI}”，4 名党员转入“${SUZHOU}”`);
  await shanghai.waitFor({ state: 'detached' });
  await page.waitForFunction(
    ([name, count]) =>
      Number(document.querySelector(`[data-testid=county-org][data-name="${name}"]`)?.dataset.members) === count,
    [SUZHOU, suzhouMembers + 4],
  );

  // The member's phone says where they are now after its next sync.
  const synced = await lastSynced(member);
  await member.reload();
  await waitForSync(member, synced);
  await member.getByTestId('current-org').filter({ hasText: SUZHOU }).waitFor();
});
