// How fast the in-app scanner reads a code, in Chromium whose fake camera shows one (tests/e2e/camera.mjs):
//
//   decode per frame   the decoder worker's time for one 640x480 frame holding a full-size code link (the
//                      size of an activity code's), as the worker reports it; a link the app does not take,
//                      so the scanner keeps decoding frame after frame. The CPU is not slowed down: DevTools'
//                      throttling does not slow a worker's thread reliably.
//   decode to screen   a member's phone scans the running activity's code, the page's CPU slowed down 4x as in
//                      start.mjs: from the moment the worker's answer reaches the page until the check-in
//                      confirmation is painted (verifying the code, storing the check-in, the new screen).
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN and GUIHAI_DIST and turns this script's JSON,
// printed on stdout, into docs/benchmarks.md). Progress goes to stderr.

import { launchCameraBrowser } from '../e2e/camera.mjs';
import { activityLinks, signInOnPhone, waitForFirstSync } from '../e2e/flows.mjs';
import { newPhone, startServer, waitForServiceWorker } from '../e2e/harness.mjs';
import { markWhenShown } from './paint.mjs';

const FRAMES = 30;
const RUNS = 5;
const CPU_SLOWDOWN = 4;
const MEMBER = 'GH-M01';
const CONFIRMATION = '[data-testid=checkin-result]';

/** `FRAMES` decode times (ms) of a scanner left running on a code it does not take, after the first one. */
async function decodePerFrame(server, link) {
  const browser = await launchCameraBrowser(link);
  try {
    const phone = await newPhone(browser, server.url);
    const page = await phone.newPage();
    await page.goto('/scan');
    // The first answer also paid for compiling the wasm; the kept window then fills with later frames only.
    await page.getByTestId('scan-not-ours').waitFor({ timeout: 60_000 });
    const first = await page.evaluate(() => globalThis.__guihaiScan.frames);
    await page.waitForFunction((until) => globalThis.__guihaiScan.frames >= until, first + FRAMES, {
      timeout: 120_000,
    });
    const timings = await page.evaluate(() => globalThis.__guihaiScan.decodeMs);
    return timings.slice(-FRAMES).map((ms) => Math.round(ms * 10) / 10);
  } finally {
    await browser.close();
  }
}

/**
 * Milliseconds from the decoded text reaching the page to the confirmation painted, one a run. The first run
 * checks in; the later ones find that check-in and say so: the same verification and screen, less one write.
 */
async function decodeToScreen(server, link) {
  const browser = await launchCameraBrowser(link);
  try {
    const phone = await newPhone(browser, server.url);
    const page = await phone.newPage();
    await signInOnPhone(page, MEMBER);
    await waitForServiceWorker(page);
    await waitForFirstSync(page);
    const cdp = await phone.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    const runs = [];
    for (let run = 1; run <= RUNS; run += 1) {
      await page.evaluate(markWhenShown, CONFIRMATION);
      await page.getByTestId('nav-scan').click();
      await page.waitForFunction(() => window.__shownAt !== undefined, null, { timeout: 60_000 });
      runs.push(Math.round(await page.evaluate(() => window.__shownAt - globalThis.__guihaiScan.decodedAt)));
      console.error(`decode to screen ${run}/${RUNS}: ${runs.at(-1)} ms`);
      await page.locator('.brand').click();
      await page.getByTestId('home').waitFor();
    }
    return runs;
  } finally {
    await browser.close();
  }
}

const server = await startServer();
try {
  const { running } = await activityLinks(server.url);
  // The same code link on another path: as large as a real code, but not one the app takes.
  const foreign = running.link.replace('/q/', '/x/');
  const frameMs = await decodePerFrame(server, foreign);
  console.error(`decode per frame: ${frameMs.join(', ')} ms`);
  const result = {
    cpuSlowdown: CPU_SLOWDOWN,
    linkChars: running.link.length,
    frameMs,
    decodeToScreenMs: await decodeToScreen(server, running.link),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await server.stop();
}
