// How long the app takes to start on a slow phone: headless Chromium with a phone viewport and the CPU
// slowed down 4x (Chrome DevTools' "low-end mobile"), against a real server on loopback.
//
//   cold            a fresh browser profile (empty HTTP and service worker caches), the server running:
//                   from navigation start until the sign-in form is on the screen.
//   cold, slow link the same on an emulated network (Lighthouse's slow 4G, and a poor link): also when the
//                   page's own frame and progress bar (index.html, before any wasm) is on the screen; and in
//                   runs of their own, signing in at once, from the tap to the member app's first screen (the
//                   first visit's entry app leaves for it).
//   repeat offline  a signed-in member whose service worker holds the app, the network off and the server
//                   stopped, reloading: from navigation start until the home screen is on the screen.
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN and GUIHAI_DIST and turns this script's JSON,
// printed on stdout, into docs/benchmarks.md). Progress goes to stderr.

import { signInOnPhone } from '../e2e/flows.mjs';
import { actUntilShown, markWhenShown } from './paint.mjs';
import { PHONE_SCREEN, launchBrowser, newPhone, startServer, waitForServiceWorker } from '../e2e/harness.mjs';

const RUNS = 5;
const CPU_SLOWDOWN = 4;
const MEMBER = 'GH-M01';
/** Cold starts on each slow link: fewer, as each takes seconds. */
const LINK_RUNS = 3;
const SIGN_IN_SCREEN = '[data-testid=app] [data-testid=activation-code]';
const HOME_SCREEN = '[data-testid=app] [data-testid=home]';
/** The member app's first screen after an activation. */
const SET_PIN_SCREEN = '[data-testid=app] [data-testid=set-pin]';
/** The frame and progress bar index.html paints by itself while the wasm downloads. */
const LOADING_FRAME = '[data-testid=loading]';
/**
 * The links a first visit is measured on (1 kbit = 1000 bits), with the goals: usable (the sign-in form) within
 * `usableGoalMs`, and the page's own frame within `frameGoalMs`.
 */
const LINKS = [
  { name: 'slow 4G', latencyMs: 150, downKbps: 1600, upKbps: 750, usableGoalMs: 2000 },
  { name: 'poor link', latencyMs: 400, downKbps: 400, upKbps: 400, usableGoalMs: 6000, frameGoalMs: 1500 },
];

/**
 * Slows the page's CPU down (and its network, given a `link`), loads it with `navigate`, and returns the
 * milliseconds until `selector` showed; with `frame`, also until index.html's loading frame showed.
 */
async function timeStart(phone, page, selector, navigate, { link, frame = false } = {}) {
  await phone.addInitScript(markWhenShown, [selector, '__shownAt']);
  if (frame) await phone.addInitScript(markWhenShown, [LOADING_FRAME, '__frameAt']);
  const cdp = await phone.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  if (link) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: link.latencyMs,
      downloadThroughput: (link.downKbps * 1000) / 8,
      uploadThroughput: (link.upKbps * 1000) / 8,
    });
  }
  await actUntilShown(page, navigate, { timeout: 120_000 });
  return page.evaluate(() => ({ usable: window.__shownAt, frame: window.__frameAt }));
}

async function cold(browser, server, link) {
  const phone = await newPhone(browser, server.url);
  try {
    const page = await phone.newPage();
    return await timeStart(phone, page, SIGN_IN_SCREEN, () => page.goto('/'), { link, frame: link !== undefined });
  } finally {
    await phone.close();
  }
}

/**
 * A first visit on `link` that signs in as soon as the form shows: milliseconds from the tap until the member
 * app's first screen, in the document the sign-in left for. The service worker is kept out: the DevTools
 * protocol slows the page's network, not a service worker's, whose background fetch of the member app would
 * come at loopback speed. So the member app comes over the slow link after the tap, the worst case.
 */
async function signingIn(browser, server, link) {
  const phone = await newPhone(browser, server.url, { serviceWorkers: 'block' });
  try {
    const page = await phone.newPage();
    await timeStart(phone, page, SIGN_IN_SCREEN, () => page.goto('/'), { link });
    await phone.addInitScript(markWhenShown, [SET_PIN_SCREEN, '__nextAt']);
    await page.getByTestId('activation-code').fill(MEMBER);
    // Times since the epoch, which span both documents.
    const tapped = await page.evaluate(() => performance.timeOrigin + performance.now());
    await actUntilShown(page, () => page.getByTestId('signin-submit').click(), { key: '__nextAt', timeout: 120_000 });
    return (await page.evaluate(() => performance.timeOrigin + window.__nextAt)) - tapped;
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
    return (await timeStart(phone, page, HOME_SCREEN, () => page.reload())).usable;
  } finally {
    await phone.close();
    await server.stop();
  }
}

/** `count` timings, after one that is not kept: the first page of a new browser also pays for its warming up. */
async function repeat(name, measure, count = RUNS) {
  await measure();
  const runs = [];
  for (let run = 1; run <= count; run += 1) {
    runs.push(await measure());
    console.error(`${name} ${run}/${count}: ${JSON.stringify(runs.at(-1))}`);
  }
  return runs;
}

/** Cold starts on `link`: the frame's and the sign-in form's times, each run. */
async function onLink(browser, server, link) {
  const runs = await repeat(link.name, () => cold(browser, server, link), LINK_RUNS);
  const signedIn = await repeat(`${link.name}, signing in`, () => signingIn(browser, server, link), LINK_RUNS);
  return {
    ...link,
    frameMs: runs.map((run) => Math.round(run.frame)),
    usableMs: runs.map((run) => Math.round(run.usable)),
    signedInMs: signedIn.map(Math.round),
  };
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const result = {
    measuredAt: new Date().toISOString(),
    chromium: browser.version(),
    cpuSlowdown: CPU_SLOWDOWN,
    screen: PHONE_SCREEN,
    coldMs: (await repeat('cold', () => cold(browser, server))).map((run) => Math.round(run.usable)),
    links: [],
    repeatOfflineMs: (await repeat('repeat offline', () => repeatOffline(browser))).map(Math.round),
  };
  for (const link of LINKS) result.links.push(await onLink(browser, server, link));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await browser.close();
  await server.stop();
}
