// The app runs under the server's Content-Security-Policy (every e2eTest fails on a report of it being broken);
// this test shows that such a report is caught, and that the policy stops what it is for: a script slipped into
// the page does not run, and the app cannot be framed by another site.

import assert from 'node:assert/strict';
import { signInOnPhone } from './flows.mjs';
import { e2eTest, launchBrowser, newPhone, policyViolations, startServer } from './harness.mjs';

e2eTest('a script slipped into the page is refused, and the refusal is reported', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, 'GH-M01');

  const response = await page.request.get('/');
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.equal(response.headers()['x-content-type-options'], 'nosniff');

  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.head.append(script);
  });
  assert.equal(await page.evaluate(() => window.injected), undefined, 'the injected script did not run');
  // The report reaches the test a moment after the refusal.
  for (let i = 0; i < 100 && policyViolations().length === 0; i += 1) await page.waitForTimeout(20);
  const caught = policyViolations().splice(0);
  assert.equal(caught.length, 1, 'the refusal was reported once');
  assert.match(caught[0], /inline script/);
});
