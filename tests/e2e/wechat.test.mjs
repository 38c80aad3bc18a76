// Opened inside WeChat, as most members scan a code: a code link, the home page and sign-in say first, in
// Chinese, to open the page in the phone's browser (where the app and its offline records live), with the link
// to copy; the page still works below it. In the phone's own browser nothing of this shows.

import assert from 'node:assert/strict';
import { answered, orgLink, signInOnPhone } from './flows.mjs';
import { e2eTest, launchBrowser, newPhone, screenshot, startServer } from './harness.mjs';

// WeChat 8 on Android, as its in-app browser says it.
const WECHAT =
  'Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240301 MMWEBID/1234 ' +
  'MicroMessenger/8.0.48.2580(0x28003035) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

e2eTest("in WeChat, a code link and home say to open the phone's browser, with the link to copy", async () => {
  const server = await startServer();
  const { link } = await orgLink(server.url);
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url, { userAgent: WECHAT });
  await phone.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await phone.newPage();

  await page.goto(link);
  const guide = page.getByTestId('open-in-browser');
  await guide.waitFor();
  assert.match(await guide.textContent(), /在浏览器打开/);
  const shown = await page.getByTestId('wechat-link').inputValue();
  assert.equal(shown, new URL(link, server.url).href, 'the very link that was opened');
  await page.getByTestId('wechat-copy').click();
  await answered(page, '链接已复制');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown);
  await screenshot(page, 'wechat');
  // Below it, the page still says what it can: here, sign in first.
  await page.locator('[data-testid=checkin-result][data-result=sign-in]').waitFor();

  // Home, for a member who signed in inside WeChat.
  const signedIn = await (await newPhone(browser, server.url, { userAgent: WECHAT })).newPage();
  await signInOnPhone(signedIn, 'GH-M21');
  await signedIn.getByTestId('home').waitFor();
  await signedIn.getByTestId('open-in-browser').waitFor();

  // In the phone's own browser: nothing of it.
  const plain = await (await newPhone(browser, server.url)).newPage();
  await plain.goto(link);
  await plain.locator('[data-testid=checkin-result][data-result=sign-in]').waitFor();
  assert.equal(await plain.getByTestId('open-in-browser').count(), 0);
});
