// The scanner must read what a phone camera sees: on the frame set (tests/frames: rotation up to 45°,
// perspective, small and large codes, uneven light, blur, noise, backgrounds, an inverted code, a phone screen
// photographed), the app's decoder worker, as it ships, reads at least as many frames as jsQR in the same page.

import assert from 'node:assert/strict';
import { e2eTest, launchBrowser, startServer } from './harness.mjs';
import { decodeFrameSet } from '../frames/browser.mjs';

e2eTest('the decoder worker reads at least as many camera frames as jsQR', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  // No service worker: the frames are served to the page by the test, which a service worker would not let see.
  const page = await (await browser.newContext({ baseURL: server.url, serviceWorkers: 'block' })).newPage();
  await page.goto('/');
  const rows = await decodeFrameSet(page);
  const worker = rows.filter((row) => row.worker.read).length;
  const jsqr = rows.filter((row) => row.jsqr.read).length;
  const missed = rows.filter((row) => row.jsqr.read && !row.worker.read).map((row) => row.name);
  console.log(`frame set: worker ${worker}/${rows.length}, jsQR ${jsqr}/${rows.length}; jsQR alone: ${missed.join(', ') || 'none'}`);
  assert.ok(worker >= jsqr, `the worker read ${worker} frames, jsQR ${jsqr}`);
  // The frames the issue found the old decoder failing: small rotations on grey and white.
  for (const name of ['rotation 0.05 on grey', 'rotation 0.12 on grey', 'rotation 0.3 on white', 'phone screen']) {
    assert.ok(rows.find((row) => row.name === name).worker.read, `${name} is read`);
  }
  await browser.close();
});
