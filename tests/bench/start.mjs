// How long the app takes to start on a slow phone: headless Chromium with a phone viewport and the CPU
// slowed down 4x (Chrome DevTools' "low-end mobile"), against a real server on loopback.
//
//   cold            a fresh browser profile (empty HTTP and service worker caches), the server running:
//                   from navigation start until the sign-in form is on the screen.
//   repeat offline  a signed-in member whose service worker holds the app, the network off and the server
//                   stopped, reloading: from navigation start until the home screen is on the screen.
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN and GUIHAI_DIST and turns this script's JSON,
// printed on stdout, into docs/benchmarks.md). Progress goes to stderr.

import { signInOnPhone } from '../e2e/flows.mjs';
import { markWhenShown } from './paint.mjs';
import { PHONE_SCREEN, launchBrowser, newPhone, startServer, waitForServiceWorker } from '../e2e/harness.mjs';

const RUNS = 5;
const CPU_SLOWDOWN = 4;
const MEMBER = 'GH-M01';
const SIGN_IN_SCREEN = '[data-testid=app] [data-testid=activation-code]';
const HOME_SCREEN = '[data-testid=app] [data-testid=home]';

/** Slows the page's CPU down, loads it with `navigate`, and returns the milliseconds until `selector` showed. */
async function timeStart(phone, page, selector, navigate) {
  await phone.addInitScript(markWhenShown, selector);
  const cdp = await phone.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  await navigate();
  await page.waitForFunction(() => window.__shownAt !== undefined, null, { timeout: 120_000 });
  return page.evaluate(() => window.__shownAt);
}

async function cold(browser, server) {
  const phone = await newPhone(browser, server.url);
  try {
    const page = await phone.newPage();
    return await timeStart(phone, page, SIGN_IN_SCREEN, () => page.goto('/'));
  } finally {
    await phone.close();
  }
}

/** A server of its own, because each run ends with it stopped. */
async function repeatOffline(browser) {
  const server = await startServer();
  const phone = await newPhone(browser, server.url);
  try {
    const page = await phone.newPage();
    await signInOnPhone(page, MEMBER);
    await waitForServiceWorker(page);
    await server.stop();
    await phone.setOffline(true);
    return await timeStart(phone, page, HOME_SCREEN, () => page.reload());
  } finally {
    await phone.close();
    await server.stop();
  }
}

/** `RUNS` timings, after one that is not kept: the first page of a new browser also pays for its warming up. */
async function repeat(name, measure) {
  await measure();
  const runs = [];
  for (let run = 1; run <= RUNS; run += 1) {
    runs.push(Math.round(await measure()));
    console.error(`${name} ${run}/${RUNS}: ${runs.at(-1)} ms`);
  }
  return runs;
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const result = {
    measuredAt: new Date().toISOString(),
    chromium: browser.version(),
    cpuSlowdown: CPU_SLOWDOWN,
    screen: PHONE_SCREEN,
    coldMs: await repeat('cold', () => cold(browser, server)),
    repeatOfflineMs: await repeat('repeat offline', () => repeatOffline(browser)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await browser.close();
  await server.stop();
}
