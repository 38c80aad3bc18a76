// A township's roster import in the browser: a file with a national ID column is refused whole with the
// problem named; the fixed file imports, the activation sheet shows each code as text and QR code; a new
// member opens their printed link on their own phone and is in. Rosters as Excel in Chinese saves them (a GBK CSV,
// an .xlsx) import as they are. The administrator revokes a member's phone and
// gives them a new activation code, and moves their sign-in to the new number they put on their profile.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { api, e2eTest, launchBrowser, newPhone, screenshot, startServer } from './harness.mjs';
import { PIN, apiSession, setPinIfAsked, signedInPhone, tapAndAnswer, waitForFirstSync } from './flows.mjs';
import { memberData } from './store.mjs';

const HEADER = '姓名,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号';
const csv = (text) => ({ name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });

e2eTest('a roster with a national ID is refused whole; the fixed one gives printable codes that sign in', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-T01'); // 新安镇
  await page.getByTestId('nav-township').click();
  await page.getByTestId('roster-import').waitFor();

  await page.getByTestId('roster-file').setInputFiles(
    csv('姓名,身份证号,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号\n周新,320724199001011234,13911112222,男,1990,新安镇,2015-07-01,GN-2026-9001'),
  );
  await page.getByTestId('roster-submit').click();
  const problem = page.locator('[data-testid=roster-problem][data-problem=national_id]');
  await problem.waitFor();
  assert.match(await problem.textContent(), /身份证号/);

  await page.getByTestId('roster-file').setInputFiles(
    csv(`${HEADER}\n周新,13911112222,男,1990,新安镇,2015-07-01,GN-2026-9001\n吴兰,13911113333,女,1988,新安镇,2012-05-04,GN-2026-9002`),
  );
  await page.getByTestId('roster-submit').click();
  const sheet = page.getByTestId('activation-sheet');
  await sheet.waitFor();
  assert.equal(await sheet.getByTestId('activation').count(), 2);
  assert.equal(await sheet.locator('svg.qr path').count(), 2);
  await sheet.scrollIntoViewIfNeeded();
  await screenshot(page, 'roster-import');
  const code = await sheet.getByTestId('activation').first().getAttribute('data-code');

  // The new member's own phone opens the printed link: the code is filled in, and gone from the address bar
  // (and so from the browser's history).
  const browser = await launchBrowser();
  const phone = await (await newPhone(browser, server.url)).newPage();
  await phone.goto(`/signin#code=${code}`);
  assert.equal(await phone.getByTestId('activation-code').inputValue(), code);
  assert.ok(!phone.url().includes(code), phone.url());
  await phone.getByTestId('signin-submit').click();
  await setPinIfAsked(phone);
  assert.match(await phone.getByTestId('member-name').textContent(), /周新/);
});

e2eTest("the township administrator revokes a member's lost phone, which then keeps nothing, and gives them a new code", async () => {
  const server = await startServer();
  const { page: lost } = await signedInPhone(server, 'GH-M01'); // 王建国, 新安镇
  const { page } = await signedInPhone(server, 'GH-T01');
  await page.getByTestId('nav-township').click();
  const wang = page.locator('[data-testid=township-member][data-name=王建国]');
  await wang.getByTestId('member-phones').click();
  await wang.getByTestId('member-phone').first().waitFor();
  await tapAndAnswer(page, wang.getByTestId('member-phone-revoke').first(), true);
  await wang.getByTestId('member-phone-list').filter({ hasText: '没有已登录的手机' }).waitFor();

  await lost.reload();
  await lost.getByTestId('activation-code').waitFor({ timeout: 30_000 });
  await lost.getByRole('alert').filter({ hasText: '已从本机清除' }).waitFor();
  assert.deepEqual(await memberData(lost), { entries: 0, local: [] }, 'the revoked phone keeps nothing of the member');

  // A new one-time code, shown to print or read out; the member signs in with it (here on the phone found again).
  await wang.getByTestId('member-new-code').click();
  const card = wang.getByTestId('activation');
  await card.waitFor();
  const code = await card.getAttribute('data-code');
  assert.match(code, /^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
  await lost.getByTestId('activation-code').fill(code);
  await lost.getByTestId('signin-submit').click();
  await setPinIfAsked(lost);
  assert.match(await lost.getByTestId('member-name').textContent(), /王建国/);
});

e2eTest('a roster saved by Excel in Chinese (GBK, CRLF, a quoted field across lines) imports as it is', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-T01'); // 新安镇
  await page.getByTestId('nav-township').click();
  const text = `${HEADER}\r\n"欧阳\r\n思远",13911114444,男,1991,新安镇,2016-07-01,GN-2026-9101\r\n孙丽,13911115555,女,1993,新安镇,2018-03-01,GN-2026-9102\r\n`;
  const gbk = iconv.encode(text, 'gbk');
  assert.ok(!gbk.equals(Buffer.from(text)), 'really not UTF-8');
  await page.getByTestId('roster-file').setInputFiles({ name: 'roster.csv', mimeType: 'text/csv', buffer: gbk });
  await page.getByTestId('roster-submit').click();
  const sheet = page.getByTestId('activation-sheet');
  await sheet.waitFor();
  assert.equal(await sheet.getByTestId('activation').count(), 2);
  assert.match(await sheet.textContent(), /孙丽/);
  await page.reload();
  await page.getByTestId('township-members').locator('[data-testid=township-member][data-name=孙丽]').waitFor();
});

e2eTest('a roster kept in Excel as .xlsx (a number, a date cell) imports through the browser; a bad row imports nothing', async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-T01'); // 新安镇
  await page.getByTestId('nav-township').click();
  // As Excel keeps them: the phone number a number, the joining date a date cell.
  const workbook = async (rows) => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('名册');
    sheet.addRow(HEADER.split(','));
    for (const row of rows) sheet.addRow(row);
    return {
      name: '流动党员名册.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: Buffer.from(await book.xlsx.writeBuffer()),
    };
  };
  const ouyang = ['欧阳思远', 13911116666, '男', 1991, '新安镇', new Date(Date.UTC(2016, 6, 1)), 'GN-2026-9201'];
  const sun = ['孙丽', 13911117777, '女', 1993, '新安镇', new Date(Date.UTC(2018, 2, 1)), 'GN-2026-9202'];

  // One row's gender is neither: that row is named, and nothing is imported.
  await page.getByTestId('roster-file').setInputFiles(await workbook([ouyang, [...sun.slice(0, 2), '未知', ...sun.slice(3)]]));
  await page.getByTestId('roster-submit').click();
  await page.locator('[data-testid=roster-problem][data-problem=gender]').waitFor();
  const admin = await apiSession(server.url, 'GH-T01');
  const names = async () =>
    (await api(server.url, `/api/v1/orgs/${admin.me.home_org.id}/members`, { token: admin.token })).body.map(
      (entry) => entry.name,
    );
  assert.ok(!(await names()).includes('欧阳思远'), 'nothing imported');

  await page.getByTestId('roster-file').setInputFiles(await workbook([ouyang, sun]));
  await page.getByTestId('roster-submit').click();
  const activations = page.getByTestId('activation-sheet');
  await activations.waitFor();
  assert.equal(await activations.getByTestId('activation').count(), 2);
  assert.ok((await names()).includes('欧阳思远'));
  await page.reload();
  await page.getByTestId('township-members').locator('[data-testid=township-member][data-name=欧阳思远]').waitFor();
});

e2eTest("the county administrator sees the county's organisations and opens a township", async () => {
  const server = await startServer();
  const { page } = await signedInPhone(server, 'GH-C01');
  await page.getByTestId('nav-county').click();
  const hosts = page.getByTestId('county-hosts');
  const shanghai = hosts.locator('[data-testid=county-org][data-name=灌南县驻上海流动党员联系点]');
  assert.match(await shanghai.textContent(), /党员 4 名，已报到 4 名，失联 2 名/);
  assert.match(await shanghai.textContent(), /嘉定区城中路/);
  assert.equal(await page.getByTestId('county-townships').getByTestId('county-org').count(), 5);
  await screenshot(page, 'county');
  // The same counts as a spreadsheet.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('county-csv').click()]);
  const sheet = (await readFile(await download.path())).toString('utf8');
  assert.match(sheet, /^\uFEFF组织,类别,城市,党员,已报到,失联,待确认的报到,近12个月活动,参加率,志愿服务小时\r?\n/);
  assert.match(sheet, /\n灌南县驻上海流动党员联系点,流动党员联系点,上海,4,4,2,\d+,\d+,[\d%]*,[\d.]+\r?\n/);

  // The county's totals and its chart: each township's members, reported and out of contact counted here from
  // the township's own list.
  const admin = await apiSession(server.url, 'GH-C01');
  const county = new URL(page.url()).pathname.split('/').at(-1);
  const { body: tree } = await api(server.url, `/api/v1/orgs/${county}/tree`, { token: admin.token });
  const townships = tree.orgs.filter((o) => o.org.kind === 'township');
  const counted = { members: 0, reported: 0, lost: 0 };
  for (const township of townships) {
    const { body: listed } = await api(server.url, `/api/v1/orgs/${township.org.id}/members`, { token: admin.token });
    const bar = page.locator(`[data-testid=county-chart-bar][data-name="${township.org.name}"]`);
    assert.equal(Number(await bar.getAttribute('data-count')), listed.length, township.org.name);
    counted.members += listed.length;
    counted.reported += listed.filter((entry) => entry.current_org).length;
    counted.lost += listed.filter((entry) => entry.lost).length;
  }
  const totals = page.getByTestId('county-totals');
  const shown = async (name) => Number(await totals.getAttribute(`data-${name}`));
  assert.deepEqual(
    { members: await shown('members'), reported: await shown('reported'), lost: await shown('lost') },
    counted,
  );
  assert.ok(counted.members > 0 && counted.reported > 0);
  await page.getByTestId('county-township-link').filter({ hasText: '新安镇' }).click();
  await page.locator('[data-testid=township-member][data-name=王建国]').waitFor();
});

e2eTest('a member changes their number on the profile; the township moves their sign-in to it, and only then', async () => {
  const server = await startServer();
  const { page: member } = await signedInPhone(server, 'GH-M01'); // 王建国, 新安镇, signs in with 139 0000 0001
  await waitForFirstSync(member);
  await member.goto('/profile');
  await member.getByTestId('profile-edit').click();
  await member.getByTestId('profile-input-phone').fill('138 1234 5678');
  await member.getByTestId('profile-save').click();
  await member.getByTestId('profile-phone').locator('.pill').waitFor({ state: 'detached', timeout: 30_000 });
  const pinSignIn = (phone) =>
    api(server.url, '/api/v1/session/pin', { method: 'POST', body: { phone, pin: PIN, client_id: randomUUID() } });
  assert.equal((await pinSignIn('13812345678')).status, 401, 'the profile is not the sign-in');

  const { page } = await signedInPhone(server, 'GH-T01');
  await page.getByTestId('nav-township').click();
  const wang = page.locator('[data-testid=township-member][data-name=王建国]');
  await wang.getByTestId('member-phones').click();
  await wang.getByTestId('sign-in-phone-now').filter({ hasText: '13900000001' }).waitFor();
  await wang.getByTestId('sign-in-phone-use-profile').click();
  await wang.getByTestId('sign-in-phone-answer').filter({ hasText: '已保存' }).waitFor();
  await wang.getByTestId('sign-in-phone-now').filter({ hasText: '13812345678' }).waitFor();
  assert.equal((await pinSignIn('13812345678')).status, 200);
  assert.equal((await pinSignIn('13900000001')).status, 401);

  // Another member's number is refused, in view.
  await wang.getByTestId('sign-in-phone-input').fill('139 0000 0002');
  await wang.getByTestId('sign-in-phone-save').click();
  await wang.getByTestId('sign-in-phone-answer').filter({ hasText: '已有别人' }).waitFor();
  assert.ok(await wang.getByTestId('sign-in-phone-answer').isVisible());
});
