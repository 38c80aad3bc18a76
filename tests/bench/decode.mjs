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
//   frame set          the frame set of tests/frames (what cameras see at a door), decoded in one page by the
//                      app's worker as it ships and by jsQR (npm), the reference: how many each reads and the
//                      time per frame, side by side.
//   door code          as "decode to screen", for a rotating door code the secretary's phone shows.
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN and GUIHAI_DIST and turns this script's JSON,
// printed on stdout, into docs/benchmarks.md). Progress goes to stderr.

import { launchCameraBrowser } from '../e2e/camera.mjs';
import { activityLinks, signInOnPhone, waitForFirstSync } from '../e2e/flows.mjs';
import { launchBrowser, newPhone, startServer, waitForServiceWorker } from '../e2e/harness.mjs';
import { kv } from '../e2e/store.mjs';
import { decodeFrameSet } from '../frames/browser.mjs';
import { actUntilShown, markWhenShown } from './paint.mjs';

const FRAMES = 30;
const RUNS = 9;
const CPU_SLOWDOWN = 4;
const CONFIRMATION = '[data-testid=checkin-result]';

/** `FRAMES` decode times (ms) of a scanner left running on a code it does not take, after the first one. */
async function decodePerFrame(server, link) {
  const browser = await launchCameraBrowser(link);
  try {
    const phone = await newPhone(browser, server.url);
    const page = await phone.newPage();
    // The scanner is for a member signed in.
    await signInOnPhone(page, 'GH-M20');
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
 * Milliseconds from the decoded text reaching the page to the confirmation painted, one a run, each run a new
 * check-in stored: one phone (browser context) for each of `members`, signed in and synced, in one browser
 * whose camera shows `link`.
 */
async function decodeToScreen(server, link, members) {
  const browser = await launchCameraBrowser(link);
  try {
    const runs = [];
    for (const member of members) {
      const phone = await newPhone(browser, server.url);
      const page = await phone.newPage();
      await signInOnPhone(page, member);
      await waitForServiceWorker(page);
      await waitForFirstSync(page);
      const cdp = await phone.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
      await page.evaluate(markWhenShown, CONFIRMATION);
      await actUntilShown(page, () => page.getByTestId('nav-scan').click());
      const result = await page.locator(CONFIRMATION).getAttribute('data-result');
      if (result !== 'done') throw new Error(`${member}'s scan was not a new check-in: ${result}`);
      runs.push(Math.round(await page.evaluate(() => window.__shownAt - globalThis.__guihaiScan.decodedAt)));
      console.error(`decode to screen ${runs.length}/${members.length}: ${runs.at(-1)} ms`);
      await phone.close();
    }
    return runs;
  } finally {
    await browser.close();
  }
}

/** Demo members `GH-M<first>`.. , `RUNS` of them: one a run, so that every run stores a new check-in. */
const members = (first) => Array.from({ length: RUNS }, (_, i) => `GH-M${String(first + i).padStart(2, '0')}`);

/** The frame set through the worker and jsQR in one page: per decoder, frames read and ms per frame. */
async function frameSetRates(server) {
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext({ baseURL: server.url, serviceWorkers: 'block' })).newPage();
    await page.goto('/');
    const rows = await decodeFrameSet(page);
    const of = (decoder) => ({
      read: rows.filter((row) => row[decoder].read).length,
      frameMs: rows.map((row) => Math.round(row[decoder].ms * 10) / 10),
    });
    return { frames: rows.length, worker: of('worker'), jsqr: of('jsqr') };
  } finally {
    await browser.close();
  }
}

/** The rotating door code the secretary's phone (synced once, so its key is certified) shows for `activity`. */
async function doorLink(server, activity) {
  const browser = await launchBrowser();
  try {
    const page = await (await newPhone(browser, server.url)).newPage();
    await signInOnPhone(page, 'GH-S01');
    await waitForFirstSync(page);
    for (let tries = 0; !(await kv(page, `doorcert:${activity.org_id}`)); tries += 1) {
      if (tries > 100) throw new Error('the door key was not certified');
      await page.waitForTimeout(100);
    }
    await page.goto(`/org/${activity.org_id}/activities/${activity.id}/code`);
    return await page.getByTestId('door-code-rotating').getAttribute('data-link');
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
    decodeToScreenMs: await decodeToScreen(server, running.link, members(1)),
    frameSet: await frameSetRates(server),
  };
  // A door code is taken for a minute only (core's `qr::door`), and preparing a phone for a run takes
  // seconds: each run scans one the secretary's phone showed right before it (on a busy machine, nine runs of
  // one code outlived it).
  result.doorToScreenMs = [];
  for (const member of members(1 + RUNS)) {
    const door = await doorLink(server, running.activity);
    result.doorLinkChars = door.length;
    result.doorToScreenMs.push(...(await decodeToScreen(server, door, [member])));
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await server.stop();
}
