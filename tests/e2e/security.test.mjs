// The app runs under the server's Content-Security-Policy (every e2eTest fails on a report of it being broken);
// this test shows that such a report is caught, and that the policy stops what it is for: a script slipped into
// the page does not run, and the app cannot be framed by another site. Every e2eTest also scans the servers'
// logs for personal data; the last test shows that scan finds it.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { signInOnPhone } from './flows.mjs';
import { e2eTest, launchBrowser, newPhone, personalData, policyViolations, startServer } from './harness.mjs';

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

test('the log check that every e2eTest runs finds what must never be logged, and passes a clean log', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'guihai-log-'));
  const logFile = path.join(dir, 'server.log');
  const clean = [
    '2026-11-30T14:53:50.492355Z  INFO guihai_server::keys: made a new signing key key_id=1',
    '2026-11-30T14:53:51.004547Z  INFO request{method=GET path=/q/…}: finished processing request latency=0 ms status=200',
    '2026-11-30T14:53:51.104547Z  INFO request{method=POST path=/api/v1/people/0193a5c2-7d1e-7c41-9e6f-139000000071/activation}: status=201',
  ];
  const personal = [
    'WARN refused a report from 王建国',
    'INFO sign-in for 139-0000-0001 ok'.replace(/-/g, ''),
    'INFO activation GH-M01 used',
    'INFO new code ABCDE-FGHJK',
    'INFO request{method=GET path=/q/AQIAAQGiLPKqHXQ}',
    'INFO token=8fJ2kQ0xv7bLmN3pR5tW9yZaCdEfGhIjKlMnOpQrStU',
    'INFO pin 246810 set',
  ];
  await writeFile(logFile, [...clean, ...personal].join('\n') + '\n');
  const found = await personalData(logFile);
  assert.deepEqual(
    found.map((line) => line.split(': ').slice(1).join(': ')),
    personal,
  );
});
