// The certificate screen: the member's number and organisations, the present stop counting a check-in made
// offline by its kind, an earlier stop with its evaluation, the yearly review; and it prints without the app's
// chrome.

import assert from 'node:assert/strict';
import { e2eTest, screenshot, startServer } from './harness.mjs';
import { checkedInOffline } from './flows.mjs';

e2eTest('the certificate shows every stop, what was attended there, evaluations and reviews, offline', async () => {
  const server = await startServer();
  const { page } = await checkedInOffline(server, 'GH-M01');
  await page.goto('/');
  await page.getByTestId('nav-certificate').click();
  await page.getByTestId('certificate').waitFor();

  assert.equal(await page.getByTestId('certificate-no').textContent(), 'GN-2026-0001');
  const present = page.locator('[data-testid=stop][data-open=true]');
  assert.match(await present.textContent(), /灌南县驻杭州流动党委/);
  // The waiting check-in counts.
  await present.getByTestId('attended').filter({ hasText: /组织生活 1 次/ }).waitFor();
  const earlier = page.locator('[data-testid=stop][data-open=false]');
  assert.equal(await earlier.count(), 1);
  assert.match(await earlier.getByTestId('evaluation').textContent(), /优秀/);
  assert.equal(await page.getByTestId('review').count(), 1);
  await screenshot(page, 'certificate');

  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.top').isVisible(), false, 'no app header on paper');
  assert.equal(await page.getByTestId('certificate-print').isVisible(), false);
});
